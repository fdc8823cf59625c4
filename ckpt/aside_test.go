package ckpt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errKilled stands for the process dying at a rename.
var errKilled = errors.New("killed")

// TestSetAsideCrash stops a set-aside of three checkpoints (steps 30, 20, 15,
// newest first) at every rename, as a kill would, and checks what a later
// reader sees: the files not yet renamed are marked Aside, Newest returns the
// checkpoint resumed from (step 10), Prune keeps them; a new SetAside then
// finishes the job and removes the record.
func TestSetAsideCrash(t *testing.T) {
	for killAt := 0; killAt <= 3; killAt++ {
		t.Run(fmt.Sprint("renames done=", killAt), func(t *testing.T) {
			dir := t.TempDir()
			for _, s := range []int64{5, 10, 15, 20, 30} {
				mustSave(t, filepath.Join(dir, name(s)), sample(s, false))
			}
			moves := []Move{{name(30), name(30) + ".abandoned"}, {name(20), name(20) + ".abandoned"}, {name(15), name(15) + ".abandoned"}}
			n := 0
			withHooks(t, func() {
				real := hooks.rename
				hooks.rename = func(from, to string) error {
					if IsTemp(filepath.Base(from)) { // the record's own commit
						return real(from, to)
					}
					if n == killAt {
						return errKilled
					}
					n++
					return real(from, to)
				}
			})
			err := SetAside(dir, moves, nil)
			if killAt < 3 {
				if !errors.Is(err, errKilled) {
					t.Fatalf("SetAside with a kill after %d renames: %v", killAt, err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			list, err := List(dir)
			if err != nil {
				t.Fatal(err)
			}
			var aside []string
			for _, e := range list {
				if e.Aside {
					aside = append(aside, filepath.Base(e.Path))
				}
			}
			var want []string
			if killAt < 3 {
				for _, m := range moves[killAt:] {
					want = append(want, m.From)
				}
				slices.Sort(want)
			}
			slices.Sort(aside)
			if diff := cmp.Diff(want, aside); diff != "" {
				t.Errorf("files marked Aside (-want +got):\n%s", diff)
			}
			c, path, _, err := Newest(dir)
			if err != nil || c.GetGlobalStep() != 10 {
				t.Errorf("Newest = %s (step %d), %v; want step 10: the abandoned files must never be the newest", path, c.GetGlobalStep(), err)
			}
			if err := Prune(dir, PruneOptions{Run: "", Keep: 1}); err != nil {
				t.Fatal(err)
			}
			for _, f := range want {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("Prune removed %s, which is being set aside: %v", f, err)
				}
			}
			// The next session finishes the job.
			withHooks(t, func() {})
			hooks.rename = os.Rename
			var done []string
			if err := SetAside(dir, moves, func(m Move) { done = append(done, m.From) }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(done, want) && !(len(want) == 0 && len(done) == 0) {
				// want is sorted; the renames go in the moves' order.
				slices.Sort(done)
				if !slices.Equal(done, want) {
					t.Errorf("second SetAside renamed %v, want %v", done, want)
				}
			}
			names := dirNames(t, dir)
			for _, m := range moves {
				if slices.Contains(names, m.From) || !slices.Contains(names, m.To) {
					t.Errorf("after the second SetAside: %v", names)
				}
			}
			if slices.Contains(names, AsideRecord) {
				t.Errorf("the record %s is left behind", AsideRecord)
			}
		})
	}
}

// TestSetAsideReplacesRecord: a SetAside with fewer moves replaces an
// unfinished record; files only the old one named are no longer aside, and an
// empty SetAside just removes the record.
func TestSetAsideReplacesRecord(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []int64{10, 20, 30} {
		mustSave(t, filepath.Join(dir, name(s)), sample(s, false))
	}
	kill := func(from, to string) error {
		if IsTemp(filepath.Base(from)) { // the record's own commit
			return os.Rename(from, to)
		}
		return errKilled
	}
	withHooks(t, func() { hooks.rename = kill })
	if err := SetAside(dir, []Move{{name(30), "x30"}, {name(20), "x20"}}, nil); !errors.Is(err, errKilled) {
		t.Fatal(err)
	}
	if _, path, _, _ := Newest(dir); filepath.Base(path) != name(10) {
		t.Fatalf("Newest with 30 and 20 pending: %s", path)
	}
	hooks.rename = os.Rename
	if err := SetAside(dir, []Move{{name(30), "x30"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, path, _, _ := Newest(dir); filepath.Base(path) != name(20) {
		t.Errorf("Newest after the new decision: %s, want %s", path, name(20))
	}
	hooks.rename = kill
	if err := SetAside(dir, []Move{{name(20), "x20"}}, nil); !errors.Is(err, errKilled) {
		t.Fatal(err)
	}
	if err := SetAside(dir, nil, nil); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(dirNames(t, dir), AsideRecord) {
		t.Error("an empty SetAside left the record")
	}
	if _, path, _, _ := Newest(dir); filepath.Base(path) != name(20) {
		t.Errorf("Newest after the record was dropped: %s, want %s", path, name(20))
	}
}

// TestSetAsideNeverReplaces: a destination that exists is an error, and
// nothing is replaced.
func TestSetAsideNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, filepath.Join(dir, name(10)), sample(10, false))
	writeFile(t, filepath.Join(dir, "taken"), []byte("keep me"))
	err := SetAside(dir, []Move{{name(10), "taken"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("SetAside onto an existing file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "taken")); string(b) != "keep me" {
		t.Error("the existing file was replaced")
	}
	if err := SetAside(dir, []Move{{"../escape", "x"}}, nil); err == nil {
		t.Error("SetAside accepted a name with a path separator")
	}
}

// TestDamagedAsideRecord: a record damaged from outside makes List fail with
// an error naming it, rather than silently showing set-aside files again.
func TestDamagedAsideRecord(t *testing.T) {
	for _, content := range []string{"", "garbage\n", asideHeader + "no tab here\n", asideHeader + "../x\ty\n", asideHeader + "a\tb"} {
		dir := t.TempDir()
		mustSave(t, filepath.Join(dir, name(10)), sample(10, false))
		writeFile(t, filepath.Join(dir, AsideRecord), []byte(content))
		_, err := List(dir)
		var e *Error
		if !errors.Is(err, ErrCorrupt) || !errors.As(err, &e) || e.Path != filepath.Join(dir, AsideRecord) {
			t.Errorf("record %q: List error %v, want ErrCorrupt naming the record", content, err)
		}
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, AsideRecord), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := List(dir); err == nil || !errors.Is(err, syscall.EISDIR) && !strings.Contains(err.Error(), AsideRecord) {
		t.Errorf("record is a directory: %v", err)
	}
}

// FuzzParseAside checks that parsing any record either fails or yields
// plain file names that encode back to the same bytes.
func FuzzParseAside(f *testing.F) {
	f.Add([]byte(asideHeader + "a.ckpt\ta.ckpt.abandoned\n"))
	f.Add([]byte(asideHeader))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		moves, err := parseAside(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		out.WriteString(asideHeader)
		for _, m := range moves {
			if checkName(m.From) != nil || checkName(m.To) != nil {
				t.Fatalf("parsed a bad name: %q", m)
			}
			fmt.Fprintf(&out, "%s\t%s\n", m.From, m.To)
		}
		if !bytes.Equal(out.Bytes(), b) {
			t.Fatalf("%q parsed to %q, which encodes to %q", b, moves, out.Bytes())
		}
	})
}
