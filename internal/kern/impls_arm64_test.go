//go:build !purego

package kern

import (
	"math/rand/v2"
	"testing"
)

// TestNEONChainKernels drives every NEON chain kernel directly, with B
// read through its row stride and through the offset table, A by rows and
// transposed (a column stride), storing and continuing from C, against
// the generic chain form.
func TestNEONChainKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for r := 1; r <= neonRowsMax; r++ {
		for v := 1; v <= 4; v++ {
			for _, k := range []int{1, 2, 5, 17} {
				for _, tA := range []bool{false, true} {
					for _, table := range []bool{false, true} {
						g := gemmCase{transA: tA, acc: (r+v+k)%2 == 0, m: r, n: 4 * v, k: k, pad: 3}
						kern := func(transA, _ bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, cc []float32, ldc int) {
							add := 0
							if accumulate {
								add = 1
							}
							ars, acs := lda, 1
							if transA {
								ars, acs = 1, lda
							}
							if table {
								offs := make([]int, k)
								for l := range offs {
									offs[l] = l * ldb
								}
								neonChainT(m, n/4, k, &a[0], 4*ars, 4*acs, &b[0], &offs[0], &cc[0], 4*ldc, add)
							} else {
								neonChain(m, n/4, k, &a[0], 4*ars, 4*acs, &b[0], 4*ldb, &cc[0], 4*ldc, add)
							}
						}
						checkSame(t, kern, sgemmGeneric, g, rng)
					}
				}
			}
		}
	}
}

// TestNEONDotKernels drives every NEON dot kernel directly on whole
// 16-float blocks (the last k%16 steps are Go's), with the lanes starting
// from +0 and from earlier values, against dot16 and the lane chains.
func TestNEONDotKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for _, rc := range [][2]int{{1, 1}, {1, 2}, {2, 1}, {2, 2}} {
		r, c := rc[0], rc[1]
		for _, k16 := range []int{16, 32, 80} {
			const lda = 83
			a := randSlice(rng, lda*r)
			b := randSlice(rng, 300)
			offs := []int{7, 150}
			var lanes [4][16]float32
			for e := range lanes {
				for q := range lanes[e] {
					lanes[e][q] = 2*rng.Float32() - 1
				}
			}
			want := lanes
			for i := range r {
				for j := range c {
					s := &want[i*c+j]
					for l := range k16 {
						s[l%16] = fma32(a[i*lda+l], b[offs[j]+l], s[l%16])
					}
				}
			}
			neonDot(r, c, k16, &a[0], 4*lda, &b[0], &offs[0], &lanes[0][0])
			for e := range lanes {
				if i := sameFloats(lanes[e][:], want[e][:]); i >= 0 {
					t.Errorf("neonDot%dx%d, k16 = %d: lane %d of element %d = %v, want %v", r, c, k16, i, e, lanes[e][i], want[e][i])
				}
			}
		}
	}
}
