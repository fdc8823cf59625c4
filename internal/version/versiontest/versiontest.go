package versiontest

import (
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/version"
)

// Check fails t unless a command's run with --version returned no error,
// wrote nothing to stderr and printed [version.Line] of command and a
// newline on stdout, and unless that line starts with the command's name and
// tbtrain's module path and names the VCS revision (or says none was
// stamped).
func Check(t testing.TB, command, stdout, stderr string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, stderr)
	}
	want := version.Line(command) + "\n"
	if stdout != want || stderr != "" {
		t.Errorf("--version printed %q (stderr %q), want %q", stdout, stderr, want)
	}
	if !strings.HasPrefix(want, command+" "+version.Module+" ") || !strings.Contains(want, "revision") {
		t.Errorf("version line %q lacks the command, module or revision", want)
	}
}
