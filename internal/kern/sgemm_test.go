package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// refSgemm is the reference: a triple loop accumulating in float64. It
// returns op(A)·op(B) (+ C) and, per element, the bound Σ_l |a_il·b_lj| (+ |c_ij|)
// that scales the rounding error of any float32 evaluation order.
func refSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, abs float64
			for l := range k {
				var av, bv float32
				if transA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if transB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				p := float64(av) * float64(bv)
				s += p
				abs += math.Abs(p)
			}
			if accumulate {
				cv := float64(c[i*ldc+j])
				s += cv
				abs += math.Abs(cv)
			}
			want[i*n+j] = s
			mag[i*n+j] = abs
		}
	}
	return want, mag
}

// randSlice returns n values uniform in [-1, 1).
func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// gemmCase is one Sgemm call; pad is added to every minimum leading dimension.
type gemmCase struct {
	transA, transB, acc bool
	m, n, k, pad        int
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,acc=%v,m=%d,n=%d,k=%d,pad=%d", g.transA, g.transB, g.acc, g.m, g.n, g.k, g.pad)
}

// checkGemm runs fn on random inputs for case g and compares every element
// of C (including the padding between rows, which must be untouched) with
// the float64 reference.
func checkGemm(t *testing.T, fn gemmFunc, g gemmCase, rng *rand.Rand) {
	t.Helper()
	ar, ac := g.m, g.k
	if g.transA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.transB {
		br, bc = g.n, g.k
	}
	lda, ldb, ldc := max(1, ac)+g.pad, max(1, bc)+g.pad, max(1, g.n)+g.pad
	a := randSlice(rng, max(0, (ar-1)*lda+ac))
	b := randSlice(rng, max(0, (br-1)*ldb+bc))
	c := randSlice(rng, max(0, (g.m-1)*ldc+g.n))
	if !g.acc {
		// C's old contents must not be read.
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	orig := append([]float32(nil), c...)
	want, mag := refSgemm(g.transA, g.transB, g.m, g.n, g.k, a, lda, b, ldb, g.acc, c, ldc)
	fn(g.transA, g.transB, g.m, g.n, g.k, a, lda, b, ldb, g.acc, c, ldc)
	// Error bound for a float32 inner product of length n in any order:
	// |error| <= γ_n Σ|x_i·y_i| with γ_n ≈ n·u, u = 2⁻²⁴ (Higham, Accuracy
	// and Stability of Numerical Algorithms, 2nd ed., §3.1, eq. 3.5). Here
	// n = k plus one addition of C and one of a k-chunk partial sum; the
	// factor 2 is slack. A wrong term is off by about |a·b| ~ 0.3, far
	// above this.
	u := math.Ldexp(1, -24)
	bad := 0
	for i := range g.m {
		for j := range ldc {
			idx := i*ldc + j
			if idx >= len(c) {
				break
			}
			if j >= g.n {
				if math.Float32bits(c[idx]) != math.Float32bits(orig[idx]) {
					t.Errorf("%v: padding C[%d,%d] changed: got %v, want %v", g, i, j, c[idx], orig[idx])
					return
				}
				continue
			}
			got, w := float64(c[idx]), want[i*g.n+j]
			tol := 2*float64(g.k+2)*u*mag[i*g.n+j] + 1e-30
			if math.IsNaN(got) || math.Abs(got-w) > tol {
				if bad < 3 {
					t.Errorf("%v: C[%d,%d] = %v, want %v (tol %g)", g, i, j, got, w, tol)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%v: %d wrong elements", g, bad)
	}
}

// sizes covers empty, tiny, register-block tails and the LeNet-5 shapes.
var sizes = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 15, 16, 17, 23, 24, 25, 31, 33, 47, 64, 65}

// implCase is one code path under test.
type implCase struct {
	name string
	fn   gemmFunc
}

// testImpls lists the code paths that can run on this machine (the
// generic one last); the others are reported by TestPaths.
var testImpls = func() []implCase {
	var ics []implCase
	for _, p := range available {
		ics = append(ics, implCase{p.name, p.sgemm})
	}
	return ics
}()

// forImpls runs f as a subtest for each code path, with Sgemm's argument
// checks in front of it.
func forImpls(t *testing.T, f func(t *testing.T, fn gemmFunc)) {
	for _, ic := range testImpls {
		t.Run(ic.name, func(t *testing.T) {
			f(t, func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
				checkedSgemm(ic.fn, transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
			})
		})
	}
}

func TestSgemmSmallSizes(t *testing.T) { forImpls(t, testSgemmSmallSizes) }

func testSgemmSmallSizes(t *testing.T, fn gemmFunc) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for _, acc := range []bool{false, true} {
				for _, m := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 16, 17} {
					for _, n := range sizes {
						for _, k := range []int{0, 1, 2, 3, 7, 8, 9, 25, 33} {
							pad := (m + n + k) % 3
							checkGemm(t, fn, gemmCase{tA, tB, acc, m, n, k, pad}, rng)
						}
					}
				}
			}
		}
	}
}

// TestSgemmLeNetShapes covers the products LeNet-5 training makes (see
// model/), with sizes large enough to cross any internal blocking.
func TestSgemmLeNetShapes(t *testing.T) { forImpls(t, testSgemmLeNetShapes) }

func testSgemmLeNetShapes(t *testing.T, fn gemmFunc) {
	rng := rand.New(rand.NewPCG(2, 2))
	cases := []gemmCase{
		{m: 6, n: 784 * 2, k: 25},                            // conv1 forward
		{m: 16, n: 100 * 3, k: 150},                          // conv2 forward
		{m: 17, n: 120, k: 400, transB: true},                // fc1 forward
		{m: 120, n: 400, k: 17, transA: true},                // fc1 dW
		{m: 17, n: 400, k: 120},                              // fc1 dX
		{m: 16, n: 150, k: 100 * 3, transB: true, acc: true}, // conv2 dW
		{m: 150, n: 100 * 3, k: 16, transA: true},            // conv2 dCol
		{m: 6, n: 25, k: 784 * 2, transB: true},              // conv1 dW
		{m: 300, n: 290, k: 530},                             // large square-ish
		{m: 131, n: 259, k: 300, transA: true, transB: true, pad: 5},
	}
	for _, g := range cases {
		checkGemm(t, fn, g, rng)
	}
}

func TestSgemmPanics(t *testing.T) {
	s := make([]float32, 100)
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, s, 2, s, 2, false, s, 2) }, errNegDim},
		{"lda too small", func() { Sgemm(false, false, 2, 2, 3, s, 2, s, 2, false, s, 2) }, errBadLdA},
		{"lda transA", func() { Sgemm(true, false, 3, 2, 2, s, 2, s, 2, false, s, 2) }, errBadLdA},
		{"ldb too small", func() { Sgemm(false, false, 2, 3, 2, s, 2, s, 2, false, s, 3) }, errBadLdB},
		{"ldb transB", func() { Sgemm(false, true, 2, 2, 3, s, 3, s, 2, false, s, 2) }, errBadLdB},
		{"ldc too small", func() { Sgemm(false, false, 2, 3, 2, s, 2, s, 3, false, s, 2) }, errBadLdC},
		{"short a", func() { Sgemm(false, false, 11, 2, 10, s, 10, s, 2, false, s, 2) }, errShortA},
		{"short b", func() { Sgemm(false, false, 2, 10, 11, s, 11, s, 10, false, s, 10) }, errShortB},
		{"short c", func() { Sgemm(false, false, 11, 10, 2, s, 2, s, 10, false, s, 10) }, errShortC},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if msg != tc.want || !strings.HasPrefix(msg, "kern: ") {
					t.Errorf("panic = %v, want %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
}

// TestSgemmDeterministic checks that the result does not depend on where the
// operands sit in memory: the same values at different offsets (so different
// alignments) give bitwise identical results, for every code path.
func TestSgemmDeterministic(t *testing.T) { forImpls(t, testSgemmDeterministic) }

func testSgemmDeterministic(t *testing.T, fn gemmFunc) {
	rng := rand.New(rand.NewPCG(3, 3))
	const m, n, k = 23, 70, 300
	a0 := randSlice(rng, m*k)
	b0 := randSlice(rng, k*n)
	var first []float32
	for off := range 8 {
		a := make([]float32, off+len(a0))[off:]
		b := make([]float32, off+len(b0))[off:]
		c := make([]float32, off+m*n)[off:]
		copy(a, a0)
		copy(b, b0)
		fn(false, true, m, n, k, a, k, b, k, false, c, n)
		fn(true, false, m, n, k, a, m, b, n, true, c, n)
		if first == nil {
			first = c
			continue
		}
		for i := range c {
			if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
				t.Fatalf("offset %d: c[%d] = %v, want %v as at offset 0", off, i, c[i], first[i])
			}
		}
	}
}

// TestSgemmLongK covers long products: k around the vector width, the
// packing depth and the chunking of the dot-product path, with row and
// column tails, for all transpose combinations.
func TestSgemmLongK(t *testing.T) { forImpls(t, testSgemmLongK) }

func testSgemmLongK(t *testing.T, fn gemmFunc) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, k := range []int{31, 32, 39, 47, 255, 256, 257, 1023, 1024, 1025, 1031, 2100} {
		for _, mn := range [][2]int{{1, 1}, {5, 4}, {7, 17}, {4, 3}, {13, 6}, {6, 25}, {18, 5}} {
			for combo := range 8 {
				g := gemmCase{
					transA: combo&1 != 0, transB: combo&2 != 0, acc: combo&4 != 0,
					m: mn[0], n: mn[1], k: k, pad: combo % 3,
				}
				checkGemm(t, fn, g, rng)
			}
		}
	}
}
