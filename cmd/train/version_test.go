package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/tbtrain/tbtrain/internal/version/versiontest"
)

// TestVersion: --version prints the command's name, tbtrain's module version
// and the VCS revision (or says none was stamped) on one line, and exits 0.
func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"--version"}, &out, &errb)
	versiontest.Check(t, "train", out.String(), errb.String(), err)
}
