package bench

import (
	"testing"

	"github.com/tbtrain/tbtrain/internal/kernflag"
)

// TestMain gives the test binary the -kern flag that chooses the kern code
// path the benchmarks run on; compare.sh passes it to measure each path
// (-kern=avx2 ...).
func TestMain(m *testing.M) { kernflag.Main(m, "bench") }
