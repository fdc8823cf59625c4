package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tbtrain/tbtrain/internal/version"
)

// run is the whole command: main only wires signals and the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("tbmerge", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.StringP("output", "o", "", "the run directory to create (must not exist)")
	dry := fs.Bool("dry-run", false, "print the plan (which steps come from which file) and write nothing")
	allowDamaged := fs.Bool("allow-damaged", false, "exit 0, not 3, when an input is damaged (its readable part is used either way)")
	order := fs.String("order", "time", "session order: \"time\" (wall time of each file's first event) or \"given\" (as listed)")
	showVersion := fs.Bool("version", false, "print the module version and VCS revision of this binary")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return err
		}
		return usageError{err}
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Line("tbmerge"))
		return nil
	}
	if *out == "" && !*dry {
		return usageError{errors.New("-o OUT is required")}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no INPUT given")}
	}
	if *order != "time" && *order != "given" {
		return usageError{fmt.Errorf("--order %q: want time or given", *order)}
	}
	if *out != "" {
		if _, err := os.Lstat(*out); err == nil {
			return usageError{fmt.Errorf("-o %s: already exists (tbmerge writes a new directory)", *out)}
		}
		if err := outsideInputs(*out, fs.Args()); err != nil {
			return usageError{err}
		}
	}
	files, err := expand(fs.Args())
	if err != nil {
		return err
	}
	sessions := make([]*session, 0, len(files))
	var damaged []string
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		s, err := readSession(f)
		if err != nil {
			return err
		}
		if s.damage != nil {
			fmt.Fprintf(stderr, "tbmerge: warning: %v; using the %d records before it, not the last %d bytes\n",
				s.damage, len(s.records), s.lost)
			damaged = append(damaged, f)
		}
		sessions = append(sessions, s)
	}
	p := plan(sessions, *order == "time")
	p.write(stdout)
	if !*dry {
		path, err := p.commit(*out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	if len(damaged) > 0 && !*allowDamaged {
		return &damagedError{files: damaged, dry: *dry}
	}
	return nil
}

// damagedError reports that the merge used the readable part of damaged
// inputs: the result is complete as far as the inputs allow, but records
// after the damage are missing from it. It maps to exit status 3.
type damagedError struct {
	files []string
	dry   bool
}

func (e *damagedError) Error() string {
	did := "merged run written"
	if e.dry {
		did = "plan printed"
	}
	return fmt.Sprintf("%s, but %d input file(s) are damaged and their records after the damage are not in it: %s "+
		"(see the warnings above; --allow-damaged accepts this with exit status 0)", did, len(e.files), strings.Join(e.files, ", "))
}

// expand turns the inputs into event files: a directory gives the event
// files directly inside it, in name order.
func expand(inputs []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return nil, err
		}
		var add []string
		if st.IsDir() {
			ents, err := os.ReadDir(in)
			if err != nil {
				return nil, err
			}
			for _, e := range ents {
				if strings.Contains(e.Name(), "tfevents") && !e.IsDir() {
					add = append(add, filepath.Join(in, e.Name()))
				}
			}
			if len(add) == 0 {
				return nil, fmt.Errorf("%s: no event files (names containing \"tfevents\") in this directory", in)
			}
		} else {
			add = []string{in}
		}
		for _, f := range add {
			abs, err := filepath.Abs(f)
			if err != nil {
				return nil, err
			}
			if seen[abs] {
				return nil, usageError{fmt.Errorf("%s is given twice", f)}
			}
			seen[abs] = true
			files = append(files, f)
		}
	}
	return files, nil
}

// outsideInputs refuses an output directory inside an input directory:
// creating it would change that input (and TensorBoard would show the
// merged run as a sub-run of it).
func outsideInputs(out string, inputs []string) error {
	ao, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	for _, in := range inputs {
		ai, err := filepath.Abs(in)
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(ai, ao); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("-o %s is inside the input %s; write the merged run elsewhere", out, in)
		}
	}
	return nil
}
