package doccheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// noExample lists the public packages that have no Example, and why.
var noExample = map[string]string{
	"storage/storagetest": "its one function runs a conformance suite as subtests of a *testing.T, which an Example does not have",
}

// packageDirs returns the directories (relative, slash form) under the
// repository root holding a Go package, with whether it is a command
// (package main). testdata and hidden directories are skipped, as the go
// command does.
func packageDirs(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		isMain := regexp.MustCompile(`(?m)^package main$`).Match(b)
		out[rel] = out[rel] || isMain
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPackageLayout checks the house rules every package follows: a doc.go
// (the package doc: on-disk formats, concurrency contract), and for every
// public package (not a command, not under internal/) a runnable Example,
// one with an "// Output:" comment.
func TestPackageLayout(t *testing.T) {
	dirs := packageDirs(t)
	if len(dirs) < 10 {
		t.Fatalf("found only %d packages under %s: %v", len(dirs), root, dirs)
	}
	for dir, isMain := range dirs {
		full := filepath.Join(root, filepath.FromSlash(dir))
		if _, err := os.Stat(filepath.Join(full, "doc.go")); err != nil {
			t.Errorf("%s: no doc.go (%v)", dir, err)
		}
		public := !isMain && dir != "internal" && !strings.HasPrefix(dir, "internal/") && !strings.Contains(dir, "/internal/")
		if !public {
			continue
		}
		tests, err := filepath.Glob(filepath.Join(full, "*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		runnable := false
		for _, f := range tests {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if regexp.MustCompile(`(?m)^func Example`).Match(b) && regexp.MustCompile(`(?m)^\s*// (Unordered )?[Oo]utput:`).Match(b) {
				runnable = true
			}
		}
		if why, ok := noExample[dir]; ok {
			if runnable {
				t.Errorf("%s has a runnable Example now: remove it from noExample", dir)
			}
			t.Logf("%s: no Example (%s)", dir, why)
			continue
		}
		if !runnable {
			t.Errorf("%s: a public package without a runnable Example (func Example... with // Output:)", dir)
		}
	}
}

// trackerRef matches a reference to the issue tracker (the word, an
// optional space and '#', then a number): the tracker is not part of the repository, so code, tests, docs and
// scripts say what such a reference means instead.
var trackerRef = regexp.MustCompile(`(?i)\bissue ?#?[0-9]`)

// TestNoTrackerReferences scans every text file of the repository (code,
// tests, docs, scripts, testdata scripts and goldens) for trackerRef.
func TestNoTrackerReferences(t *testing.T) {
	text := map[string]bool{".go": true, ".md": true, ".sh": true, ".py": true, ".proto": true, ".txt": true,
		".golden": true, ".json": true, ".mod": true, ".tsv": true, ".pbtxt": true, "": true}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == ".git" || d.Name() == "runs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !text[filepath.Ext(p)] {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.IndexByte(string(b), 0) >= 0 {
			return nil // binary
		}
		n++
		for i, line := range strings.Split(string(b), "\n") {
			if trackerRef.MatchString(line) {
				t.Errorf("%s:%d refers to the issue tracker: %s", p, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("scanned only %d text files under %s", n, root)
	}
}
