//go:build !purego

package kern

import (
	"math/rand/v2"
	"testing"
)

func init() {
	if hasAVX2FMA {
		testImpls = append(testImpls, implCase{"avx2", sgemmAVX2})
		rowsImpls = append(rowsImpls, rowsImpl{"avx2", sgemmRowsAVX2, sgemmRowsTAVX2, sgemmAVX2})
	}
}

func TestImplAVX2(t *testing.T) {
	want := "generic"
	if hasAVX2FMA {
		want = "avx2"
	}
	if got := Impl(); got != want {
		t.Errorf("Impl() = %q, want %q (cpu has AVX2+FMA: %v)", got, want, hasAVX2FMA)
	}
}

// TestDotKernels drives every dot-product kernel directly, for sums with
// and without vector part, odd and even numbers of 8-float blocks and
// tails, storing and accumulating.
func TestDotKernels(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2+FMA")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, rc := range dotBlocks {
		r, c := rc[0], rc[1]
		for _, k := range []int{1, 7, 8, 9, 16, 23, 24, 31, 40, 64, 69} {
			for _, acc := range []bool{false, true} {
				g := gemmCase{transB: true, acc: acc, m: r, n: c, k: k, pad: 3}
				checkGemm(t, func(_, _ bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, cc []float32, ldc int) {
					add := 0
					if accumulate {
						add = 1
					}
					offs := []int{0, ldb, 2 * ldb}
					dot(m, n, 4*(k&^7), 4*k, &a[0], 4*lda, &b[0], &offs[0], &cc[0], 4*ldc, add)
				}, g, rng)
			}
		}
	}
}
