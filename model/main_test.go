package model

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/tbtrain/tbtrain/internal/kern"
)

// kernPath chooses the kern code path the tests and benchmarks of this
// package run on (those that do not loop over every path themselves).
var kernPath = flag.String("kern", "", "kern code path to run on (avx512, avx2 or generic; default: the fastest this CPU has)")

func TestMain(m *testing.M) {
	flag.Parse()
	if err := kern.SetPath(*kernPath); err != nil {
		fmt.Fprintln(os.Stderr, "model:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
