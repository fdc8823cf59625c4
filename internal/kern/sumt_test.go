package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// sumCase is one SumTProducts call: C is m×n, term s has ks[s] steps, and
// pad is added to every minimum leading dimension.
type sumCase struct {
	m, n, pad int
	ks        []int
}

func (c sumCase) String() string { return fmt.Sprintf("m=%d,n=%d,pad=%d,ks=%v", c.m, c.n, c.pad, c.ks) }

// sumOperands returns the terms of case sc with canonValues inputs and a C
// whose elements are NaN and whose padding (between rows and after the
// last) holds 7.
func sumOperands(sc sumCase, rng *rand.Rand) ([]TProduct, []float32, int) {
	terms := make([]TProduct, len(sc.ks))
	for s, k := range sc.ks {
		// A's stride is another layer's width (dY's), often wider than m.
		lda := max(1, sc.m) + sc.pad + rng.IntN(3)
		ldb := max(1, sc.n) + sc.pad
		terms[s] = TProduct{
			A: canonValues(rng, max(0, (k-1)*lda+sc.m)), Lda: lda,
			B: canonValues(rng, max(0, (k-1)*ldb+sc.n)), Ldb: ldb, K: k,
		}
	}
	ldc := max(1, sc.n) + sc.pad
	c := make([]float32, sc.m*ldc+3)
	for i := range c {
		c[i] = 7
		if i%ldc < sc.n && i/ldc < sc.m {
			c[i] = float32(math.NaN())
		}
	}
	return terms, c, ldc
}

// composedSum is SumTProducts' definition written with the public kernels,
// as model's reduction did before it: each term's product by Sgemm into a
// temporary, then the shards summed two at a time with Sum and Add2 and
// the last odd one with Add.
func composedSum(m, n int, terms []TProduct, c []float32, ldc int) {
	dst := make([]float32, m*n)
	var pend []float32
	for s, t := range terms {
		p := make([]float32, m*n)
		Sgemm(true, false, m, n, t.K, t.A, t.Lda, t.B, t.Ldb, false, p, max(1, n))
		switch {
		case s == 1:
			Sum(dst, pend, p)
			pend = nil
		case pend != nil:
			Add2(dst, pend, p)
			pend = nil
		default:
			pend = p
		}
	}
	switch {
	case len(terms) == 1:
		copy(dst, pend)
	case pend != nil:
		Add(dst, pend)
	}
	for i := range m {
		copy(c[i*ldc:][:n], dst[i*n:][:n])
	}
}

// checkSum runs SumTProducts on the active path and the composition on
// the generic path for case sc and fails unless C, padding included, has
// the same bits.
func checkSum(t *testing.T, sc sumCase, rng *rand.Rand) {
	t.Helper()
	terms, got, ldc := sumOperands(sc, rng)
	want := append([]float32(nil), got...)
	SumTProducts(sc.m, sc.n, terms, got, ldc)
	p := cur()
	defer active.Store(p)
	active.Store(genericPath)
	composedSum(sc.m, sc.n, terms, want, ldc)
	if i := sameFloats(got, want); i >= 0 {
		t.Fatalf("%v on %s: C[%d,%d] = %v (%#x), want %v (%#x)", sc, p.name, i/ldc, i%ldc, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
}

// composedAdd is AddTProducts' definition written with the public
// kernels: each term's product by Sgemm into a temporary, added to C with
// Add in the terms' order.
func composedAdd(m, n int, terms []TProduct, c []float32, ldc int) {
	p := make([]float32, m*n)
	for _, t := range terms {
		Sgemm(true, false, m, n, t.K, t.A, t.Lda, t.B, t.Ldb, false, p, max(1, n))
		for i := range m {
			Add(c[i*ldc:][:n], p[i*n:][:n])
		}
	}
}

// checkAdd runs AddTProducts on the active path for case sc and fails
// unless C, padding included, has the bits of: the composition on the
// generic path added to a C of canonValues; SumTProducts of a prefix of
// the terms (split at a random s0 >= 1) followed by AddTProducts of the
// rest; and, with two terms or more, SumTProducts of the second term
// followed by AddTProducts of the first and the rest, all equal to
// SumTProducts of all the terms (the first addition commutes).
func checkAdd(t *testing.T, sc sumCase, rng *rand.Rand) {
	t.Helper()
	terms, got, ldc := sumOperands(sc, rng)
	for i := range sc.m {
		copy(got[i*ldc:][:sc.n], canonValues(rng, sc.n))
	}
	want := append([]float32(nil), got...)
	AddTProducts(sc.m, sc.n, terms, got, ldc)
	p := cur()
	func() {
		defer active.Store(p)
		active.Store(genericPath)
		composedAdd(sc.m, sc.n, terms, want, ldc)
	}()
	if i := sameFloats(got, want); i >= 0 {
		t.Fatalf("%v on %s, AddTProducts: C[%d,%d] = %v (%#x), want %v (%#x)", sc, p.name, i/ldc, i%ldc, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
	if len(terms) == 0 {
		return
	}
	SumTProducts(sc.m, sc.n, terms, want, ldc)
	s0 := 1 + rng.IntN(len(terms))
	SumTProducts(sc.m, sc.n, terms[:s0], got, ldc)
	AddTProducts(sc.m, sc.n, terms[s0:], got, ldc)
	if i := sameFloats(got, want); i >= 0 {
		t.Fatalf("%v on %s, split at %d: C[%d,%d] = %v (%#x), want %v (%#x)", sc, p.name, s0, i/ldc, i%ldc, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
	if len(terms) < 2 {
		return
	}
	swapped := append([]TProduct{terms[0]}, terms[2:]...)
	SumTProducts(sc.m, sc.n, terms[1:2], got, ldc)
	AddTProducts(sc.m, sc.n, swapped, got, ldc)
	if i := sameFloats(got, want); i >= 0 {
		t.Fatalf("%v on %s, second term first: C[%d,%d] = %v (%#x), want %v (%#x)", sc, p.name, i/ldc, i%ldc, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
}

// TestSumTProducts checks every path's SumTProducts against the
// composition of Sgemm and the sums, bit for bit, on the shapes of
// model's reduction (blocks of 6, 24 and 36 rows of 400, 120 and 84
// columns, shards of 8 and 16 images) and random ones: odd row counts
// (every panel height), widths around the 16- and 64-column vectors and
// tiles and past the composition's 4096-float tile, 0 to 4 terms and
// more than one call's 8, and terms of 0 steps; and AddTProducts on the
// same cases (checkAdd).
func TestSumTProducts(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 41))
		for _, sc := range []sumCase{
			{m: 6, n: 400, ks: []int{8, 8}},
			{m: 24, n: 120, ks: []int{16, 16, 16, 16}},
			{m: 36, n: 84, ks: []int{16, 16, 16}},
			{m: 6, n: 84, ks: []int{8}},
			{m: 5, n: 4097, ks: []int{3, 2}},
			{m: 3, n: 17, ks: nil},
			{m: 7, n: 65, ks: []int{0, 5, 0}},
			{m: 13, n: 129, pad: 2, ks: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
			{m: 0, n: 5, ks: []int{3}},
			{m: 4, n: 0, ks: []int{3}},
		} {
			checkSum(t, sc, rng)
			checkAdd(t, sc, rng)
		}
		for range 300 {
			sc := sumCase{m: 1 + rng.IntN(40), n: 1 + rng.IntN(200), pad: rng.IntN(3)}
			for range rng.IntN(5) {
				sc.ks = append(sc.ks, rng.IntN(21))
			}
			checkSum(t, sc, rng)
			checkAdd(t, sc, rng)
		}
	})
}

// FuzzSumTProducts checks SumTProducts and AddTProducts (checkAdd) on
// every path against the compositions, on shapes chosen by the fuzzer: m, n, the pad, up to 8
// terms whose steps are the bytes of ks (mod 40; the count in nt), with
// inputs from a PCG seeded by it.
func FuzzSumTProducts(f *testing.F) {
	f.Add(uint8(6), uint16(400), uint8(2), uint64(0x0808), uint8(0), uint64(1))
	f.Add(uint8(36), uint16(84), uint8(4), uint64(0x10101010), uint8(1), uint64(2))
	f.Add(uint8(7), uint16(65), uint8(3), uint64(0x050003), uint8(2), uint64(3))
	f.Add(uint8(1), uint16(1), uint8(0), uint64(0), uint8(0), uint64(4))
	f.Fuzz(func(t *testing.T, m uint8, n uint16, nt uint8, ks uint64, pad uint8, seed uint64) {
		sc := sumCase{m: int(m % 64), n: int(n % 700), pad: int(pad % 4)}
		for s := range int(nt % 9) {
			sc.ks = append(sc.ks, int(ks>>(8*s)&0xff)%40)
		}
		onEveryPath(t, func() {
			checkSum(t, sc, rand.New(rand.NewPCG(seed, 0)))
			checkAdd(t, sc, rand.New(rand.NewPCG(seed, 1)))
		})
	})
}

// TestSumTProductsPanics checks the argument checks.
func TestSumTProductsPanics(t *testing.T) {
	a := make([]float32, 100)
	ok := TProduct{A: a, Lda: 4, B: a, Ldb: 5, K: 3}
	for name, f := range map[string]func(){
		"negative m":   func() { SumTProducts(-1, 5, nil, a, 5) },
		"negative K":   func() { SumTProducts(4, 5, []TProduct{{A: a, Lda: 4, B: a, Ldb: 5, K: -1}}, a, 5) },
		"small ldc":    func() { SumTProducts(4, 5, []TProduct{ok}, a, 4) },
		"small Lda":    func() { SumTProducts(4, 5, []TProduct{ok, {A: a, Lda: 3, B: a, Ldb: 5, K: 3}}, a, 5) },
		"small Ldb":    func() { SumTProducts(4, 5, []TProduct{{A: a, Lda: 4, B: a, Ldb: 4, K: 3}}, a, 5) },
		"short C":      func() { SumTProducts(4, 5, []TProduct{ok}, a[:19], 5) },
		"short A":      func() { SumTProducts(4, 5, []TProduct{{A: a[:11], Lda: 4, B: a, Ldb: 5, K: 3}}, a, 5) },
		"short B":      func() { SumTProducts(4, 5, []TProduct{{A: a, Lda: 4, B: a[:14], Ldb: 5, K: 3}}, a, 5) },
		"short C rows": func() { SumTProducts(4, 5, nil, a[:10], 5) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				} else if s, _ := r.(string); len(s) < 6 || s[:6] != "kern: " {
					t.Errorf("%s: panic %v, want a kern: message", name, r)
				}
			}()
			f()
		}()
	}
}

// TestSumTProductsNoAllocs checks that SumTProducts allocates nothing in
// steady state on any path.
func TestSumTProductsNoAllocs(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 9))
		terms, c, ldc := sumOperands(sumCase{m: 24, n: 120, ks: []int{16, 16, 16, 16}}, rng)
		if n := testing.AllocsPerRun(20, func() { SumTProducts(24, 120, terms, c, ldc) }); n != 0 {
			t.Errorf("%v allocations per call, want 0", n)
		}
	})
}

// BenchmarkSumTProducts compares SumTProducts ("sum_<path>") with the
// composition model's reduction used before it ("composed_<path>": Sgemm
// of each shard into one of two temporaries, then Sum, Add2 and Add) on
// each path, on the blocks of the
// fully connected layers' weight gradients that model's reduceLinear
// computes (a reduce task's rows, a quarter of each layer's, in blocks of
// at most 6 rows of fc1, 24 of fc2 and 36 of fc3: 6, 21 and 3 rows; also
// fc1's 30 rows at once; dY's stride is the layer's width), for 2 shards of 8 images (batch 16) and 4
// of 16 (batch 64). cpu-ns/op is per block.
func BenchmarkSumTProducts(b *testing.B) {
	layers := []struct {
		name       string
		z, in, out int
	}{{"fc1", 6, 400, 120}, {"fc1", 30, 400, 120}, {"fc2", 21, 120, 84}, {"fc3", 3, 84, 10}}
	rng := rand.New(rand.NewPCG(3, 3))
	for _, sh := range []struct{ shards, k int }{{2, 8}, {4, 16}} {
		for _, l := range layers {
			terms := make([]TProduct, sh.shards)
			for s := range terms {
				terms[s] = TProduct{A: randSlice(rng, sh.k*l.out), Lda: l.out, B: randSlice(rng, sh.k*l.in), Ldb: l.in, K: sh.k}
			}
			c := make([]float32, l.z*l.in)
			tmp := [2][]float32{make([]float32, l.z*l.in), make([]float32, l.z*l.in)}
			name := fmt.Sprintf("%s_z%d_%dx%d", l.name, l.z, sh.shards, sh.k)
			for _, path := range Paths() {
				b.Run(name+"/sum_"+path, func(b *testing.B) {
					if err := SetPath(path); err != nil {
						b.Fatal(err)
					}
					defer SetPath("")
					cpu0 := processCPU()
					for b.Loop() {
						SumTProducts(l.z, l.in, terms, c, l.in)
					}
					reportCPU(b, processCPU()-cpu0)
				})
				b.Run(name+"/composed_"+path, func(b *testing.B) {
					if err := SetPath(path); err != nil {
						b.Fatal(err)
					}
					defer SetPath("")
					cpu0 := processCPU()
					for b.Loop() {
						var pend []float32
						for s, t := range terms {
							g := tmp[0]
							if pend != nil {
								g = tmp[1]
							}
							Sgemm(true, false, l.z, l.in, t.K, t.A, t.Lda, t.B, t.Ldb, false, g, l.in)
							switch {
							case s == 1:
								Sum(c, pend, g)
								pend = nil
							case pend != nil:
								Add2(c, pend, g)
								pend = nil
							default:
								pend = g
							}
						}
						if pend != nil {
							Add(c, pend)
						}
					}
					reportCPU(b, processCPU()-cpu0)
				})
			}
		}
	}
}
