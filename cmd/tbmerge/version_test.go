package main

import (
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/version"
)

// TestVersion: --version prints the command's name, tbtrain's module version
// and the VCS revision (or says none was stamped) on one line, and exits 0,
// as train, tbdump and ckptinfo do.
func TestVersion(t *testing.T) {
	out, errOut, err := runCmd(t, "--version")
	if err != nil || errOut != "" {
		t.Fatalf("--version: %v, stderr %q", err, errOut)
	}
	want := version.Line("tbmerge") + "\n"
	if out != want {
		t.Errorf("--version printed %q, want %q", out, want)
	}
	if !strings.HasPrefix(want, "tbmerge "+version.Module+" ") || !strings.Contains(want, "revision") {
		t.Errorf("version line %q lacks the command, module or revision", want)
	}
}
