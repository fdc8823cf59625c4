package bench

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/tbtrain/tbtrain/internal/kern"
)

// kernPath chooses the kern code path the benchmarks run on; compare.sh
// passes it to measure each path (-kern=avx2 ...).
var kernPath = flag.String("kern", "", "kern code path to run on (avx512, avx2 or generic; default: the fastest this CPU has)")

func TestMain(m *testing.M) {
	flag.Parse()
	if err := kern.SetPath(*kernPath); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
