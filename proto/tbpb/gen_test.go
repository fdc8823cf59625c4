package tbpb_test

import (
	"testing"

	"github.com/tbtrain/tbtrain/proto/internal/gentest"
)

// TestGeneratedCodeIsFresh regenerates the Go code into a temporary directory
// with ../gen.sh and fails on any difference from the committed *.pb.go files.
func TestGeneratedCodeIsFresh(t *testing.T) {
	gentest.CheckFresh(t, "tbpb")
}
