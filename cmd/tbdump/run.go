package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tbtrain/tbtrain/internal/version"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// usageText heads the --help output; the flag list follows it.
const usageText = `tbdump shows what a TensorBoard log directory or event file holds.

Usage:
  tbdump [flags] [LOGDIR | EVENTFILE]...
  tbdump [flags] < EVENTFILE

For every run (a directory holding events.out.tfevents.* files) it prints the
files (events, step range, file_version, damage), the SessionLog events, tags
logged with more than one kind (TensorBoard shows only the first), and one
line per tag: plugin, value kind, count, step range, how many points repeat an
earlier step, and the first and last values. With --purge=python or rust it
applies that TensorBoard loader's rules (purging, files it skips, the first
hparams value only) and adds SHOWN: how many points TensorBoard displays by
default (it samples: 1000 scalars, 51 histograms, 10 images, 10 or 100 texts
per tag). --events lists every event with its byte offset instead (and, with
--purge, marks the values that loader drops). Damaged files (torn tail, bad
length or data CRC, a record that is not an Event) are reported with file,
byte offset and reason, on stderr as well, and make the exit status 1. Output
is deterministic.

Examples:
  tbdump runs/                        # overview of every run under runs/
  tbdump --purge=python runs/         # the points TensorBoard's Python loader keeps
  tbdump --purge=rust runs/lenet      # ... and what the Rust data server keeps
  tbdump --events runs/lenet          # every event, in file order
  tbdump --events --purge=python runs/lenet   # ... marking what TensorBoard drops
  tbdump --events --tags='^train/' runs/lenet/events.out.tfevents.1700000000.host.42.0
  tbdump --json runs/ | jq '.inputs[].runs[].tags[] | {tag, count, duplicate_steps}'
  tbdump runs/ || echo "some event file is damaged"

Exit status: 0 all files read cleanly, 1 damage found (or an argument could
not be read), 2 bad usage.

Flags:
`

// options are the parsed flags.
type options struct {
	events bool
	json   bool
	purge  string
	rule   tbwriter.PurgeRule // the loader --purge names
	tags   *regexp.Regexp
}

// values returns the summary values of e that the --tags filter keeps.
func (o *options) values(e *tbpb.Event) []*tbpb.Summary_Value {
	vals := e.GetSummary().GetValue()
	if o.tags == nil {
		return vals
	}
	out := make([]*tbpb.Summary_Value, 0, len(vals))
	for _, v := range vals {
		if o.tags.MatchString(v.GetTag()) {
			out = append(out, v)
		}
	}
	return out
}

// usageError marks errors in the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errDamaged is returned when some file is damaged; the details have already
// been printed. Exit status 1.
var errDamaged = errors.New("damaged event files found")

// stdinName is the display name of an event file read from standard input.
const stdinName = "<stdin>"

// run is the whole command: it parses args (without the program name), reads
// every argument and prints the result to stdout. Damage reports go to stderr
// and make it return an error wrapping errDamaged.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	registerStores()
	fs := pflag.NewFlagSet("tbdump", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.BoolVar(&o.events, "events", false, "list every event of every file instead of the tag table")
	fs.BoolVar(&o.json, "json", false, "print one JSON document (for scripts) instead of text")
	fs.StringVar(&o.purge, "purge", "none", "apply the purge rules of TensorBoard's loader: none, python, rust (see above)")
	tagPat := fs.String("tags", "", "only show tags matching this regular expression (RE2 syntax)")
	help := fs.BoolP("help", "h", false, "show this help")
	showVersion := fs.Bool("version", false, "print the module version and VCS revision of this binary")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		return &usageError{err.Error()}
	}
	if *help {
		fmt.Fprint(stdout, usageText)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Line("tbdump"))
		return nil
	}
	rule, ok := purgeRules[o.purge]
	if !ok {
		return &usageError{fmt.Sprintf("--purge=%q: want none, python or rust", o.purge)}
	}
	o.rule = rule
	if *tagPat != "" {
		re, err := regexp.Compile(*tagPat)
		if err != nil {
			return &usageError{fmt.Sprintf("--tags: %v", err)}
		}
		o.tags = re
	}

	paths := fs.Args()
	var ins []*input
	var loadErrs []error
	if len(paths) == 0 {
		in, err := loadStdin(stdin, rule, o.events)
		if err != nil {
			return err
		}
		ins = append(ins, in)
	}
	for _, p := range paths {
		in, err := load(ctx, p, rule, o.events)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(stderr, "tbdump: %v\n", err)
			loadErrs = append(loadErrs, err)
			continue
		}
		ins = append(ins, in)
	}

	var err error
	if o.json {
		err = writeJSON(stdout, ins, o)
	} else {
		err = writeText(stdout, ins, o)
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}

	damaged := reportDamage(stderr, ins)
	switch {
	case damaged > 0 && len(loadErrs) > 0:
		return fmt.Errorf("%w: %d file(s); %d argument(s) unreadable", errDamaged, damaged, len(loadErrs))
	case damaged > 0:
		return fmt.Errorf("%w: %d file(s)", errDamaged, damaged)
	case len(loadErrs) > 0:
		return fmt.Errorf("%d argument(s) could not be read", len(loadErrs))
	}
	return nil
}

// reportDamage prints one line per damaged file (and per run-level error not
// tied to a listed file) to w and returns the number of damaged files.
func reportDamage(w io.Writer, ins []*input) int {
	n := 0
	for _, in := range ins {
		for _, r := range in.Runs {
			seen := make(map[string]bool)
			for _, f := range r.Files {
				if f.Err == nil {
					continue
				}
				n++
				seen[f.Err.Error()] = true
				fmt.Fprintf(w, "tbdump: %s\n", damageLine(f.Path, f.Err))
			}
			if r.Err != nil && !seen[r.Err.Error()] {
				fmt.Fprintf(w, "tbdump: run %s: %v\n", r.Name, r.Err)
			}
		}
	}
	return n
}

// damageLine is "<file>: offset <n>: <reason>" for a damaged file.
func damageLine(path string, err error) string {
	off, reason, ok := describeErr(err)
	reason = strings.TrimPrefix(reason, "tbwriter: ")
	if ok {
		return fmt.Sprintf("%s: offset %d: %s (%s)", path, off, reason, errKind(err))
	}
	return fmt.Sprintf("%s: %s (%s)", path, reason, errKind(err))
}

// loadStdin reads one event file from stdin and names it stdinName. It
// decodes as it reads and stops at the first damage, so garbage on stdin
// (`head -c 4000000000 /dev/zero | tbdump`) fails at its first record
// without reading the rest. A terminal on stdin is a usage error rather than
// a silent wait.
func loadStdin(stdin io.Reader, rule tbwriter.PurgeRule, events bool) (*input, error) {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return nil, &usageError{"no LOGDIR or EVENTFILE given and stdin is a terminal (see --help)"}
		}
	}
	ef := tbwriter.ReadEventStream(stdin, stdinName)
	run := tbwriter.NewRun(stdinName, []*tbwriter.EventFile{ef})
	return &input{Path: stdinName, Runs: []*runDump{newRunDump(run, rule, events)}}, nil
}
