//go:build unix

package chaos

import (
	"go/build/constraint"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestFilesAreUnixOnly: the tests of this package stop the trainer with
// Unix signals, so every test file must carry a build constraint that
// excludes Windows (//go:build unix, or linux for the tmpfs tests), or the
// package does not compile there (.ci/run vets it for windows). This catches
// a new file without one before the cross-platform vet does.
func TestTestFilesAreUnixOnly(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	onWindows := func(tag string) bool { return tag == "windows" || tag == "amd64" || tag == "gc" }
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var expr constraint.Expr
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "package ") {
				break
			}
			if constraint.IsGoBuild(line) {
				if expr, err = constraint.Parse(line); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			}
		}
		if expr == nil || expr.Eval(onWindows) {
			t.Errorf("%s: no //go:build line excluding Windows (add //go:build unix)", f)
		}
	}
}
