package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// rowsImpl is one code path of SgemmRows and SgemmRowsT.
type rowsImpl struct {
	name        string
	rows, rowsT rowsFunc
}

// rowsImpls lists the code paths to test: those that can run here.
var rowsImpls = func() []rowsImpl {
	var ris []rowsImpl
	for _, p := range available {
		ris = append(ris, rowsImpl{p.name, p.rows, p.rowsT})
	}
	return ris
}()

// rowsCase is one test case: rows of B̃ at offs in b.
type rowsCase struct {
	m, n, k, pad int
	acc          bool
	conv         bool // offsets of a convolution window instead of random ones
}

func (rc rowsCase) String() string {
	return fmt.Sprintf("m=%d,n=%d,k=%d,pad=%d,acc=%v,conv=%v", rc.m, rc.n, rc.k, rc.pad, rc.acc, rc.conv)
}

// offsets returns count row offsets for rows of width floats and the length
// b must have. Convolution offsets are ky*W+kx for a window of side s over
// rows of W = s+3 floats (overlapping rows); random ones may overlap too.
func (rc rowsCase) offsets(rng *rand.Rand, count, width int) ([]int, int) {
	offs := make([]int, count)
	maxOff := 0
	for l := range offs {
		if rc.conv {
			s := int(math.Ceil(math.Sqrt(float64(count))))
			offs[l] = (l/s)*(s+3) + l%s
		} else {
			offs[l] = rng.IntN(3*width + 5)
		}
		maxOff = max(maxOff, offs[l])
	}
	return offs, maxOff + width + rng.IntN(3)
}

// checkRowsCase runs both kernels of ri on case rc and compares them with
// the float64 reference and, bitwise, with the generic path's Sgemm on the
// materialised matrix.
func checkRowsCase(t *testing.T, ri rowsImpl, rc rowsCase, rng *rand.Rand) {
	t.Helper()
	lda, ldc := max(1, rc.k)+rc.pad, max(1, rc.n)+rc.pad
	a := randSlice(rng, max(0, (rc.m-1)*lda+rc.k))
	c0 := randSlice(rng, max(0, (rc.m-1)*ldc+rc.n))
	for _, trans := range []bool{false, true} {
		rows, width := rc.k, rc.n
		if trans {
			rows, width = rc.n, rc.k
		}
		offs, nb := rc.offsets(rng, rows, width)
		b := randSlice(rng, nb)
		// The materialised B̃ (rows × width) for Sgemm.
		bm := make([]float32, rows*width)
		for l, o := range offs {
			copy(bm[l*width:(l+1)*width], b[o:o+width])
		}
		got := append([]float32(nil), c0...)
		want := append([]float32(nil), c0...)
		fn := ri.rows
		if trans {
			fn = ri.rowsT
		}
		call := func(_, _ bool, m, n, k int, a []float32, lda int, _ []float32, _ int, accumulate bool, c []float32, ldc int) {
			if checkRows(m, n, k, a, lda, b, offs, rows, width, accumulate, c, ldc) {
				fn(m, n, k, a, lda, b, offs, accumulate, c, ldc)
			}
		}
		// Against the float64 reference (checkGemm makes its own a, b, c
		// of the right shapes, so use the materialised layout there).
		call(false, trans, rc.m, rc.n, rc.k, a, lda, nil, 0, rc.acc, got, ldc)
		checkedSgemm(sgemmGeneric, false, trans, rc.m, rc.n, rc.k, a, lda, bm, max(1, width), rc.acc, want, ldc)
		ref, mag := refSgemm(false, trans, rc.m, rc.n, rc.k, a, lda, bm, max(1, width), rc.acc, c0, ldc)
		u := math.Ldexp(1, -24)
		for i := range rc.m {
			for j := range rc.n {
				x := i*ldc + j
				if math.Float32bits(got[x]) != math.Float32bits(want[x]) {
					t.Fatalf("%s %v trans=%v: C[%d,%d] = %v, Sgemm on the materialised matrix gives %v", ri.name, rc, trans, i, j, got[x], want[x])
				}
				tol := 2*float64(rc.k+2)*u*mag[i*rc.n+j] + 1e-30
				if d := math.Abs(float64(got[x]) - ref[i*rc.n+j]); !(d <= tol) {
					t.Fatalf("%s %v trans=%v: C[%d,%d] = %v, want %v (tol %g)", ri.name, rc, trans, i, j, got[x], ref[i*rc.n+j], tol)
				}
			}
		}
	}
}

func TestSgemmRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, ri := range rowsImpls {
		t.Run(ri.name, func(t *testing.T) {
			for _, m := range []int{1, 4, 6, 7, 13} {
				for _, n := range []int{1, 3, 15, 16, 17, 40, 100} {
					for _, k := range []int{1, 5, 25, 31, 32, 33, 70} {
						for _, conv := range []bool{false, true} {
							checkRowsCase(t, ri, rowsCase{m: m, n: n, k: k, pad: (m + n) % 3, acc: (n+k)%2 == 0, conv: conv}, rng)
						}
					}
				}
			}
			// Long rows and deep sums: k-blocking of both paths.
			for _, rc := range []rowsCase{
				{m: 6, n: 8 * 1024, k: 25, conv: true},
				{m: 6, n: 25, k: 8*1024 + 7, conv: true, acc: true},
				{m: 17, n: 300, k: 600, pad: 2},
			} {
				checkRowsCase(t, ri, rc, rng)
			}
		})
	}
}

func TestSgemmRowsPanics(t *testing.T) {
	s := make([]float32, 100)
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"offset past end", func() { SgemmRows(2, 10, 2, s, 2, s, []int{0, 91}, false, s, 10) }, errBadOffset},
		{"negative offset", func() { SgemmRowsT(2, 2, 10, s, 10, s, []int{-1, 0}, false, s, 2) }, errBadOffset},
		{"short boff", func() { SgemmRows(2, 10, 3, s, 3, s, []int{0, 1}, false, s, 10) }, errShortB},
		{"short c", func() { SgemmRows(11, 10, 2, s, 2, s, []int{0, 1}, false, s, 10) }, errShortC},
		{"bad lda", func() { SgemmRowsT(2, 2, 10, s, 9, s, []int{0, 1}, false, s, 2) }, errBadLdA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.want {
					t.Errorf("panic = %v, want %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
}

// FuzzSgemmRows compares both kernels of every code path with the
// reference and, bit for bit, with the generic Sgemm on the materialised
// matrix.
func FuzzSgemmRows(f *testing.F) {
	f.Add(uint8(6), uint16(2048), uint16(25), uint8(1), uint64(1))
	f.Add(uint8(6), uint16(25), uint16(2048), uint8(3), uint64(2))
	f.Fuzz(func(t *testing.T, m uint8, n, k uint16, flags uint8, seed uint64) {
		rc := rowsCase{m: int(m % 40), n: int(n % 2500), k: int(k % 2500), acc: flags&1 != 0, conv: flags&2 != 0, pad: int(flags>>2) % 4}
		if rc.m*rc.n*rc.k > 300_000 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		for _, ri := range rowsImpls {
			checkRowsCase(t, ri, rc, rng)
		}
	})
}

// BenchmarkConv1 compares LeNet-5's conv1 on a chunk of 8 images computed
// three ways: Im2col + Sgemm on the 28×28 outputs, and SgemmRows (forward)
// / SgemmRowsT (weight gradient) straight on 32×32 zero-padded images,
// computing the full 32×32 grid per image (1.3× the useful products, no
// im2col matrix).
func BenchmarkConv1(b *testing.B) {
	const imgs, side, padded, k = 8, 28, 32, 5
	rng := rand.New(rand.NewPCG(1, 3))
	w := randSlice(rng, 6*k*k)
	in := randSlice(rng, imgs*side*side)
	s := ConvShape{C: 1, H: side, W: side, K: k, Pad: 2}
	col := make([]float32, k*k*imgs*side*side)
	out := make([]float32, 6*imgs*side*side)
	pad := randSlice(rng, imgs*padded*padded+(k-1)*padded+k)
	wide := make([]float32, 6*imgs*padded*padded)
	offs := make([]int, k*k)
	for ky := range k {
		for kx := range k {
			offs[ky*k+kx] = ky*padded + kx
		}
	}
	dw := make([]float32, 6*k*k)
	nIm, nWide := imgs*side*side, imgs*padded*padded
	b.Run("fwd/im2col+Sgemm", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU()
		for b.Loop() {
			Im2col(col, in, s, imgs)
			Sgemm(false, false, 6, nIm, k*k, w, k*k, col, nIm, false, out, nIm)
		}
		reportGFLOPS(b, 2*6*k*k*float64(nIm), processCPU()-cpu0)
	})
	b.Run("fwd/SgemmRows", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU()
		for b.Loop() {
			SgemmRows(6, nWide, k*k, w, k*k, pad, offs, false, wide, nWide)
		}
		reportGFLOPS(b, 2*6*k*k*float64(nIm), processCPU()-cpu0) // useful flops only
	})
	b.Run("dW/Sgemm", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU()
		for b.Loop() {
			Sgemm(false, true, 6, k*k, nIm, out, nIm, col, nIm, false, dw, k*k)
		}
		reportGFLOPS(b, 2*6*k*k*float64(nIm), processCPU()-cpu0)
	})
	b.Run("dW/SgemmRowsT", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU()
		for b.Loop() {
			SgemmRowsT(6, k*k, nWide, wide, nWide, pad, offs, false, dw, k*k)
		}
		reportGFLOPS(b, 2*6*k*k*float64(nIm), processCPU()-cpu0)
	})
}
