package kernflag

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/tbtrain/tbtrain/internal/kern"
)

var path = flag.String("kern", "", "kern code path to run on (avx512, avx2, neon or generic; default: the fastest this CPU has)")

// Main parses the flags, sets the kern code path that -kern names (the
// fastest this CPU has when it is empty) and runs the tests. A path the CPU
// cannot run exits with status 2, the error on stderr prefixed by pkg.
func Main(m *testing.M, pkg string) {
	flag.Parse()
	if err := kern.SetPath(*path); err != nil {
		fmt.Fprintln(os.Stderr, pkg+":", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
