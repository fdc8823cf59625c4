//go:build !purego

package kern

import (
	"math/rand/v2"
	"testing"
)

// TestDotKernels drives every dot-product kernel directly, for sums with
// and without full 16-float blocks, with and without a partial last
// block, storing and accumulating, against the generic dot form.
func TestDotKernels(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("the processor lacks AVX2/FMA: " + Unavailable("avx2"))
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, rc := range dotBlocks {
		r, c := rc[0], rc[1]
		for _, k := range []int{1, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 40, 64, 69} {
			for _, acc := range []bool{false, true} {
				g := gemmCase{transB: true, acc: acc, m: r, n: c, k: k, pad: 3}
				kern := func(_, _ bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, cc []float32, ldc int) {
					add := 0
					if accumulate {
						add = 1
					}
					var mask *int32
					if k%16 != 0 {
						mask = &tailMask[16-k%16]
					}
					offs := []int{0, ldb, 2 * ldb}
					dot(m, n, 64*(k/16), mask, &a[0], 4*lda, &b[0], &offs[0], &cc[0], 4*ldc, add)
				}
				checkSame(t, kern, sgemmGeneric, g, rng)
			}
		}
	}
}
