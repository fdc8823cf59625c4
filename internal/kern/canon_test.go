package kern

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// canonSgemm is the canonical arithmetic of Sgemm written out from the
// package doc, one element at a time, with every fused multiply-add
// rounded by math/big (exactFMA32): the definition the code paths are
// tested against. It is slow; use it on small sizes.
func canonSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	opA := func(i, l int) float32 {
		if transA {
			return a[l*lda+i]
		}
		return a[i*lda+l]
	}
	opB := func(l, j int) float32 {
		if transB {
			return b[j*ldb+l]
		}
		return b[l*ldb+j]
	}
	for i := range m {
		for j := range n {
			if transB && !transA {
				// Dot form: 16 lanes, then the tree.
				var s [16]float32
				for l := range k {
					s[l%16] = exactFMA32(opA(i, l), opB(l, j), s[l%16])
				}
				var t8 [8]float32
				for q := range 8 {
					t8[q] = s[q] + s[q+8]
				}
				var t4 [4]float32
				for q := range 4 {
					t4[q] = t8[q] + t8[q+4]
				}
				t2 := [2]float32{t4[0] + t4[2], t4[1] + t4[3]}
				d := t2[0] + t2[1]
				if accumulate {
					d = c[i*ldc+j] + d
				}
				c[i*ldc+j] = d
				continue
			}
			// Chain form.
			var v float32
			if accumulate {
				v = c[i*ldc+j]
			}
			for l := range k {
				v = exactFMA32(opA(i, l), opB(l, j), v)
			}
			c[i*ldc+j] = v
		}
	}
}

// canonValues returns n inputs mixing three kinds, so that the double
// rounding an emulated fused multiply-add must avoid actually occurs:
// uniform values in [-1, 1); values with short significands over a range
// of exponents (exact products whose sums hit float32 halfway points);
// and zeros of both signs and subnormals.
func canonValues(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		switch rng.IntN(8) {
		case 0, 1, 2:
			s[i] = 2*rng.Float32() - 1
		case 3, 4, 5:
			s[i] = float32(math.Ldexp(float64(rng.IntN(1<<12)-1<<11), rng.IntN(30)-40))
		case 6:
			s[i] = float32(math.Ldexp(float64(rng.IntN(1<<13)-1<<12), -140))
		default:
			s[i] = float32(math.Copysign(0, float64(rng.IntN(2)-1)))
		}
	}
	return s
}

// sameFloats reports the first index where got and want differ in bits
// (NaNs count as equal to each other), or -1.
func sameFloats(got, want []float32) int {
	for i := range want {
		if want[i] != want[i] && got[i] != got[i] {
			continue
		}
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}

// gemmOperands returns inputs for case g: A, B, C and the leading
// dimensions, with C filled with NaN when the case does not accumulate
// (Sgemm must not read it then).
func gemmOperands(g gemmCase, rng *rand.Rand, values func(*rand.Rand, int) []float32) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := g.m, g.k
	if g.transA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.transB {
		br, bc = g.n, g.k
	}
	lda, ldb, ldc = max(1, ac)+g.pad, max(1, bc)+g.pad, max(1, g.n)+g.pad
	a = values(rng, max(0, (ar-1)*lda+ac))
	b = values(rng, max(0, (br-1)*ldb+bc))
	c = values(rng, max(0, (g.m-1)*ldc+g.n))
	if !g.acc {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	return
}

// checkSame runs fn and want (both called through Sgemm's argument checks)
// on the same inputs for case g and fails unless every element of C,
// padding included, has the same bits.
func checkSame(t *testing.T, fn, want gemmFunc, g gemmCase, rng *rand.Rand) {
	t.Helper()
	a, lda, b, ldb, c, ldc := gemmOperands(g, rng, canonValues)
	got := append([]float32(nil), c...)
	checkedSgemm(fn, g.transA, g.transB, g.m, g.n, g.k, a, lda, b, ldb, g.acc, got, ldc)
	checkedSgemm(want, g.transA, g.transB, g.m, g.n, g.k, a, lda, b, ldb, g.acc, c, ldc)
	if i := sameFloats(got, c); i >= 0 {
		t.Fatalf("%v: C[%d,%d] = %v (%#x), want %v (%#x)", g, i/ldc, i%ldc, got[i], math.Float32bits(got[i]), c[i], math.Float32bits(c[i]))
	}
}

// TestCanonical checks every code path against the canonical arithmetic
// written out with exact fused multiply-adds (canonSgemm), bit for bit, on
// small sizes that cover the register blocks, the vector widths (8 and
// 16), partial blocks of k and every transpose and accumulate flag.
func TestCanonical(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	var cases []gemmCase
	for _, k := range []int{1, 2, 7, 15, 16, 17, 31, 33, 48, 70} {
		for _, mn := range [][2]int{{1, 1}, {2, 3}, {3, 2}, {5, 17}, {7, 33}, {13, 16}, {16, 5}, {17, 40}} {
			for flags := range 8 {
				cases = append(cases, gemmCase{transA: flags&1 != 0, transB: flags&2 != 0, acc: flags&4 != 0,
					m: mn[0], n: mn[1], k: k, pad: (k + flags) % 3})
			}
		}
	}
	for _, ic := range testImpls {
		t.Run(ic.name, func(t *testing.T) {
			for _, g := range cases {
				checkSame(t, ic.fn, canonSgemm, g, rng)
			}
		})
	}
}

// TestPathsBitIdentical checks that every code path gives the generic
// path's bits, element for element, on random shapes (the LeNet-5 products
// among them) large enough to cross every blocking of the vector paths.
func TestPathsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	cases := []gemmCase{
		{m: 6, n: 4096, k: 25}, {m: 16, n: 1600, k: 150}, {m: 16, n: 150, k: 1600, transB: true, acc: true},
		{m: 150, n: 1600, k: 16, transA: true}, {m: 16, n: 120, k: 400, transB: true},
		{m: 120, n: 400, k: 16, transA: true}, {m: 16, n: 400, k: 120}, {m: 6, n: 25, k: 4096, transB: true},
		{m: 300, n: 290, k: 530, pad: 1}, {m: 131, n: 259, k: 300, transA: true, transB: true, pad: 5},
	}
	for range 60 {
		cases = append(cases, gemmCase{
			transA: rng.IntN(2) == 0, transB: rng.IntN(2) == 0, acc: rng.IntN(2) == 0,
			m: 1 + rng.IntN(70), n: 1 + rng.IntN(300), k: 1 + rng.IntN(700), pad: rng.IntN(4),
		})
	}
	for _, ic := range testImpls {
		if ic.name == "generic" {
			continue
		}
		t.Run(ic.name, func(t *testing.T) {
			for _, g := range cases {
				checkSame(t, ic.fn, sgemmGeneric, g, rng)
			}
		})
	}
}

// TestPaths reports which code paths the tests of this package ran on
// and, for the others, why they cannot run here; each of those is a
// skipped subtest naming the reason.
func TestPaths(t *testing.T) {
	t.Logf("code paths tested here: %v (default %s); arithmetic %s", Paths(), Paths()[0], Arithmetic)
	if Impl() != Paths()[0] {
		t.Errorf("Impl() = %q, want the default %q", Impl(), Paths()[0])
	}
	for _, name := range allPaths {
		t.Run(name, func(t *testing.T) {
			if why := Unavailable(name); why != "" {
				t.Skipf("path %s not tested: %s", name, why)
			}
			if err := SetPath(name); err != nil {
				t.Fatalf("SetPath(%q): %v", name, err)
			}
			defer SetPath("")
			if got := Impl(); got != name {
				t.Errorf("after SetPath(%q), Impl() = %q", name, got)
			}
		})
	}
}

func TestSetPathErrors(t *testing.T) {
	defer SetPath("")
	before := Impl()
	if err := SetPath("sse9"); err == nil || !errors.Is(err, ErrUnknownPath) {
		t.Errorf("SetPath(sse9) = %v, want ErrUnknownPath", err)
	}
	for _, name := range allPaths {
		if why := Unavailable(name); why != "" {
			err := SetPath(name)
			if !errors.Is(err, ErrPathUnavailable) {
				t.Errorf("SetPath(%q) = %v, want ErrPathUnavailable", name, err)
			}
		}
	}
	if Impl() != before {
		t.Errorf("a failed SetPath changed the path from %q to %q", before, Impl())
	}
	if err := SetPath("auto"); err != nil || Impl() != Paths()[0] {
		t.Errorf("SetPath(auto) = %v, Impl() = %q, want nil and %q", err, Impl(), Paths()[0])
	}
}

// TestDot16Tree pins the lane assignment and the reduction tree of the
// dot form on values for which other orders (a sequential sum, a tree of
// adjacent pairs as horizontal adds make) round differently.
func TestDot16Tree(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	x := make([]float32, 16)
	y := make([]float32, 16)
	for q := range 16 {
		x[q] = float32(math.Ldexp(2*rng.Float64()-1, rng.IntN(24)))
		y[q] = 1
	}
	got := dot16(x, y)
	var t8 [8]float32
	for q := range 8 {
		t8[q] = x[q] + x[q+8]
	}
	want := ((t8[0] + t8[4]) + (t8[2] + t8[6])) + ((t8[1] + t8[5]) + (t8[3] + t8[7]))
	if math.Float32bits(got) != math.Float32bits(want) {
		t.Errorf("dot16 = %v, want %v", got, want)
	}
	var seq float32
	for _, v := range x {
		seq += v
	}
	p := append([]float32(nil), x...)
	for len(p) > 1 {
		for i := range len(p) / 2 {
			p[i] = p[2*i] + p[2*i+1]
		}
		p = p[:len(p)/2]
	}
	if seq == want || p[0] == want {
		t.Fatalf("test values do not tell the tree (%v) from a sequential sum (%v) or adjacent pairs (%v)", want, seq, p[0])
	}
}
