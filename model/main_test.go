package model

import (
	"testing"

	"github.com/tbtrain/tbtrain/internal/kernflag"
)

// TestMain gives the test binary the -kern flag that chooses the kern code
// path the tests and benchmarks of this package run on (those that do not
// loop over every path themselves).
func TestMain(m *testing.M) { kernflag.Main(m, "model") }
