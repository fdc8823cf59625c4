package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/version"
)

// TestVersion: --version prints the command's name, tbtrain's module version
// and the VCS revision (or says none was stamped) on one line, and exits 0.
func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, nil, &out, &errb); err != nil {
		t.Fatalf("--version: %v\n%s", err, errb.String())
	}
	want := version.Line("ckptinfo") + "\n"
	if out.String() != want || errb.Len() != 0 {
		t.Errorf("--version printed %q (stderr %q), want %q", out.String(), errb.String(), want)
	}
	if !strings.HasPrefix(want, "ckptinfo "+version.Module+" ") || !strings.Contains(want, "revision") {
		t.Errorf("version line %q lacks the command, module or revision", want)
	}
}
