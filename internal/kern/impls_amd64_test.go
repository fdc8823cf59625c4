//go:build !purego

package kern

import (
	"math"
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
					dot(m, n, 64*(k/16), mask, &a[0], 4*lda, &b[0], &offs[0], &cc[0], 4*ldc, add, nil, 0)
				}
				checkSame(t, kern, sgemmGeneric, g, rng)
			}
		}
	}
}

// TestDot512Kernels drives every AVX-512 dot-product kernel directly, as
// TestDotKernels does for the AVX2 ones.
func TestDot512Kernels(t *testing.T) {
	if !hasAVX512 {
		t.Skip("the processor lacks AVX-512: " + Unavailable("avx512"))
	}
	rng := rand.New(rand.NewPCG(9, 8))
	for _, rc := range dot512Blocks {
		r, c := rc[0], rc[1]
		for _, k := range []int{1, 7, 15, 16, 17, 31, 32, 33, 64, 69} {
			for _, acc := range []bool{false, true} {
				g := gemmCase{transB: true, acc: acc, m: r, n: c, k: k, pad: 3}
				kern := func(_, _ bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, cc []float32, ldc int) {
					add := 0
					if accumulate {
						add = 1
					}
					offs := []int{0, ldb, 2 * ldb, 3 * ldb, 4 * ldb, 5 * ldb}
					dot512(m, n, 64*(k/16), 1<<(k%16)-1, &a[0], 4*lda, &b[0], &offs[0], &cc[0], 4*ldc, add, nil, 0)
				}
				checkSame(t, kern, sgemmGeneric, g, rng)
			}
		}
	}
}

// TestPanel512Kernels drives every AVX-512 panel kernel directly on one
// and on three blocks of columns, with B's rows found along B (stride
// ldb) and through an offset table, for the same sums as
// TestDot512Kernels, against the generic dot form.
func TestPanel512Kernels(t *testing.T) {
	if !hasAVX512 {
		t.Skip("the processor lacks AVX-512: " + Unavailable("avx512"))
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, rc := range panel512Blocks {
		r, c := rc[0], rc[1]
		for _, k := range []int{1, 7, 15, 16, 17, 31, 32, 33, 64, 69} {
			for _, blocks := range []int{1, 3} {
				for _, table := range []bool{false, true} {
					g := gemmCase{transB: true, acc: (k+blocks)%2 == 0, m: r, n: c * blocks, k: k, pad: 3}
					kern := func(_, _ bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, cc []float32, ldc int) {
						add := 0
						if accumulate {
							add = 1
						}
						k16, tail := 64*(k/16), uint64(1)<<(k%16)-1
						if table {
							offs := make([]int, n)
							for j := range offs {
								offs[j] = j * ldb
							}
							panel512(m, c, k16, tail, &a[0], 4*lda, &b[0], &offs[0], &cc[0], 4*ldc, add, nil, 0, blocks, 0, 0, 8*c, 4*c)
						} else {
							offs := []int{0, ldb, 2 * ldb, 3 * ldb, 4 * ldb, 5 * ldb}
							panel512(m, c, k16, tail, &a[0], 4*lda, &b[0], &offs[0], &cc[0], 4*ldc, add, nil, 0, blocks, 0, 4*c*ldb, 0, 4*c)
						}
					}
					checkSame(t, kern, sgemmGeneric, g, rng)
				}
				if k < 32 {
					continue
				}
				// A column of blocks in two chunks of k, the lanes of the
				// first kept in the lane buffer.
				g := gemmCase{transB: true, acc: blocks == 3, m: r * blocks, n: c, k: k, pad: 2}
				kern := func(_, _ bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, cc []float32, ldc int) {
					add := 0
					if accumulate {
						add = 1
					}
					lanes := make([]float32, blocks*r*c*16)
					offs := []int{0, ldb, 2 * ldb, 3 * ldb, 4 * ldb, 5 * ldb}
					kc := 16 * (k / 32)
					for h, pc := range []int{0, kc} {
						kb := kc
						if h == 1 {
							kb = k - kc
						}
						k16, tail := 64*(kb/16), uint64(1)<<(kb%16)-1
						panel512(r, c, k16, tail, &a[pc], 4*lda, &b[pc], &offs[0], &cc[0], 4*ldc, add, &lanes[0], 2-h, blocks, 4*r*lda, 0, 0, 4*r*ldc)
					}
				}
				checkSame(t, kern, sgemmGeneric, g, rng)
			}
		}
	}
}

// TestChain512Kernels drives every AVX-512 chain kernel directly, with and
// without the offset table, on every width of its last vector, storing
// and continuing from C, and on two panels at once.
func TestChain512Kernels(t *testing.T) {
	if !hasAVX512 {
		t.Skip("the processor lacks AVX-512: " + Unavailable("avx512"))
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for r := 1; r <= mr; r++ {
		for v := 1; v <= 4; v++ {
			for _, nb := range []int{16*v - 15, 16*v - 8, 16 * v} {
				for _, k := range []int{1, 3, 4, 9} {
					for _, panels := range []int{1, 2} {
						for _, table := range []bool{false, true} {
							g := gemmCase{acc: (nb+k)%2 == 0, m: r * panels, n: nb, k: k, pad: 2}
							kern := func(_, _ bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, cc []float32, ldc int) {
								add := 0
								if accumulate {
									add = 1
								}
								// Pack A in panels of r rows, l-major.
								ap := make([]float32, m*k)
								for q := range panels {
									for l := range k {
										for i := range r {
											ap[q*r*k+l*r+i] = a[(q*r+i)*lda+l]
										}
									}
								}
								cols, vv := colMask(n)
								if vv != v {
									t.Fatalf("colMask(%d) gives %d vectors, want %d", n, vv, v)
								}
								if table {
									offs := make([]int, k)
									for l := range offs {
										offs[l] = l * ldb
									}
									chain512t(r, v, k, &ap[0], &b[0], &offs[0], &cc[0], 4*ldc, add, panels, cols)
								} else {
									chain512(r, v, k, &ap[0], &b[0], 4*ldb, &cc[0], 4*ldc, add, panels, cols)
								}
							}
							checkSame(t, kern, sgemmGeneric, g, rng)
						}
					}
				}
			}
		}
	}
}

// TestDotHalves512 checks the AVX-512 dot form on k between one and two
// chunks (dotKC < k <= 2*dotKC: two chunks, blocks of 4×6 columnwise)
// against the generic path, with partial blocks of rows and columns,
// columns of fewer than 4 and a partial last block of k.
func TestDotHalves512(t *testing.T) {
	if !hasAVX512 {
		t.Skip("the processor lacks AVX-512: " + Unavailable("avx512"))
	}
	rng := rand.New(rand.NewPCG(9, 11))
	for _, g := range []gemmCase{
		{transB: true, m: 16, n: 150, k: 1600}, {transB: true, acc: true, m: 7, n: 13, k: 1100, pad: 1},
		{transB: true, m: 5, n: 10, k: 2048, pad: 2}, {transB: true, acc: true, m: 3, n: 3, k: 1025},
	} {
		checkSame(t, sgemmAVX512, sgemmGeneric, g, rng)
	}
}

// TestDotColumns512 checks the AVX-512 dot form where a column of blocks
// is one panel call (more blocks down than across, both exact) against
// the generic path.
func TestDotColumns512(t *testing.T) {
	if !hasAVX512 {
		t.Skip("the processor lacks AVX-512: " + Unavailable("avx512"))
	}
	rng := rand.New(rand.NewPCG(9, 12))
	for _, g := range []gemmCase{
		{transB: true, m: 16, n: 10, k: 84}, {transB: true, acc: true, m: 24, n: 5, k: 33, pad: 1},
		{transB: true, acc: true, m: 12, n: 12, k: 40, pad: 2}, {transB: true, m: 8, n: 6, k: 7},
	} {
		checkSame(t, sgemmAVX512, sgemmGeneric, g, rng)
	}
}

// TestPackVector compares the AVX-512 path's vector packing of A (packA512:
// masked loads and stores for a transposed A, a scatter otherwise) with
// packA's element moves in Go on random blocks of random matrices,
// transposed or not, including blocks that end at the matrix's last
// element: every packed float must be packA's, and the guard floats after
// the packed panels must stay untouched (the masked stores write no lane
// beyond the block).
func TestPackVector(t *testing.T) {
	if !hasAVX512 {
		t.Skip("the processor lacks AVX-512: " + Unavailable("avx512"))
	}
	const guard = 19
	rng := rand.New(rand.NewPCG(11, 12))
	for it := range 400 {
		transA := it%2 == 1
		mb, kb := 1+rng.IntN(mc), 1+rng.IntN(40)
		if it%5 == 0 {
			kb = 1 + rng.IntN(kc)
		}
		ic, pc := rng.IntN(5), rng.IntN(5)
		// op(A) is at least (ic+mb)×(pc+kb); A is stored with lda >= its
		// stored row length and ends right after the block.
		rows, cols := ic+mb, pc+kb
		if transA {
			rows, cols = cols, rows
		}
		lda := cols + rng.IntN(4)
		a := make([]float32, (rows-1)*lda+cols)
		for i := range a {
			a[i] = rng.Float32()*2 - 1
		}
		want := make([]float32, mb*kb+guard)
		got := make([]float32, mb*kb+guard)
		for i := range want {
			want[i] = float32(-1000 - i)
			got[i] = want[i]
		}
		packA(want, transA, a, lda, ic, pc, mb, kb)
		packA512(got, transA, a, lda, ic, pc, mb, kb)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("transA=%v mb=%d kb=%d ic=%d pc=%d lda=%d: dst[%d] = %v, packA gives %v (packed floats end at %d)",
					transA, mb, kb, ic, pc, lda, i, got[i], want[i], mb*kb)
			}
		}
	}
}
