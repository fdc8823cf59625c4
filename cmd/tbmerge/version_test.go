package main

import (
	"testing"

	"github.com/tbtrain/tbtrain/internal/version/versiontest"
)

// TestVersion: --version prints the command's name, tbtrain's module version
// and the VCS revision (or says none was stamped) on one line, and exits 0,
// as train, tbdump and ckptinfo do.
func TestVersion(t *testing.T) {
	out, errOut, err := runCmd(t, "--version")
	versiontest.Check(t, "tbmerge", out, errOut, err)
}
