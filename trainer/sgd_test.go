package trainer

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// fma32Exact computes a·b + c exactly with math/big and rounds once to float32.
func fma32Exact(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

func TestFMA32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	f := func() float32 {
		// Random sign, significand and a modest exponent range so products and
		// sums overlap (where double rounding would show).
		return float32(math.Ldexp(r.Float64()*2-1, r.IntN(40)-20))
	}
	cases := [][3]float32{
		{1, 1, 0}, {0, 5, -3}, {-0.01, 3, 1},
		// (1+2^-23)·(1-2^-23)·2^-24 + (1+2^-23) = 1 + 2^-23 + 2^-24 - 2^-70:
		// rounding to float64 first gives the tie 1 + 2^-23 + 2^-24, which
		// then rounds to even (1 + 2^-22); the exact value rounds down to
		// 1 + 2^-23.
		{1 + 0x1p-23, (1 - 0x1p-23) * 0x1p-24, 1 + 0x1p-23},
	}
	// Results near and below the smallest float32 normal (2^-126), where
	// float32 drops more bits than usual.
	tiny := func() float32 {
		return float32(math.Ldexp(r.Float64()*2-1, r.IntN(20)-140))
	}
	for range 200000 {
		cases = append(cases, [3]float32{f(), f(), f()})
	}
	for range 50000 {
		cases = append(cases, [3]float32{tiny(), f(), tiny()}, [3]float32{f(), tiny(), -tiny()})
	}
	tie := cases[3]
	if naive := float32(float64(tie[0])*float64(tie[1]) + float64(tie[2])); naive == fma32Exact(tie[0], tie[1], tie[2]) {
		t.Fatalf("the double-rounding case does not double-round: %v", naive)
	}
	for _, c := range cases {
		got, want := fma32(c[0], c[1], c[2]), fma32Exact(c[0], c[1], c[2])
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%v, %v, %v) = %v, exact rounding %v", c[0], c[1], c[2], got, want)
		}
	}
}

func TestSGDSetBuffersRoundTrip(t *testing.T) {
	sizes := []int{3, 2}
	params := func() [][]float32 { return [][]float32{{1, 2, 3}, {4, 5}} }
	grads := [][]float32{{0.5, -1, 2}, {0.25, 3}}
	a := NewSGD(0.9, sizes)
	pa := params()
	a.Step(pa, grads, 0.1)

	// A second optimizer restored from a's buffers must take the same next step.
	b := NewSGD(0.9, sizes)
	pb := [][]float32{append([]float32(nil), pa[0]...), append([]float32(nil), pa[1]...)}
	if err := b.SetBuffers(a.Buffers()); err != nil {
		t.Fatal(err)
	}
	if !b.HasBuffers() {
		t.Fatal("HasBuffers false after SetBuffers")
	}
	a.Step(pa, grads, 0.05)
	b.Step(pb, grads, 0.05)
	for i := range pa {
		for j := range pa[i] {
			if pa[i][j] != pb[i][j] {
				t.Errorf("param %d[%d]: straight %v, restored %v", i, j, pa[i][j], pb[i][j])
			}
		}
	}
	if err := b.SetBuffers([][]float32{{1}}); err == nil {
		t.Error("SetBuffers with 1 buffer for 2 parameters: no error")
	}
	if err := b.SetBuffers([][]float32{{1, 2, 3}, {1}}); err == nil {
		t.Error("SetBuffers with a short buffer: no error")
	}
}

func TestPermute(t *testing.T) {
	const n = 1000
	a, b := make([]int, n), make([]int, n)
	permute(a, epochRNG(7, 3))
	permute(b, epochRNG(7, 3))
	seen := make([]bool, n)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("epoch order is not a pure function of (seed, epoch): index %d: %d vs %d", i, a[i], b[i])
		}
		if a[i] < 0 || a[i] >= n || seen[a[i]] {
			t.Fatalf("not a permutation: %d at index %d", a[i], i)
		}
		seen[a[i]] = true
	}
	for _, other := range []struct {
		seed uint64
		e    int64
	}{{7, 4}, {8, 3}, {6, 3}, {7, 2}} {
		permute(b, epochRNG(other.seed, other.e))
		same := 0
		for i := range a {
			if a[i] == b[i] {
				same++
			}
		}
		// Two independent permutations share about one fixed point.
		if same > 10 {
			t.Errorf("seed %d epoch %d: %d of %d positions equal to seed 7 epoch 3", other.seed, other.e, same, n)
		}
	}
}

func TestPermuteUniform(t *testing.T) {
	// Where does element 0 land, over many epochs of a 4-element shuffle?
	// Each of the 24 orders should appear about trials/24 times.
	const trials = 24000
	counts := map[[4]int]int{}
	p := make([]int, 4)
	for e := range int64(trials) {
		permute(p, epochRNG(1, e))
		counts[[4]int(p)]++
	}
	if len(counts) != 24 {
		t.Fatalf("%d distinct orders of 4 elements, want 24", len(counts))
	}
	// Chi-square with 23 degrees of freedom; 49.7 is the 0.999 quantile
	// (NIST/SEMATECH e-Handbook, table 1.3.6.7.4).
	chi := 0.0
	for _, c := range counts {
		d := float64(c) - trials/24.0
		chi += d * d / (trials / 24.0)
	}
	if chi > 49.7 {
		t.Errorf("chi-square %.1f over 24 orders, want < 49.7", chi)
	}
}

// TestSGDPiecewiseMatchesStep: BeginStep, UpdateRange over ranges that
// cover the concatenated parameters (cut anywhere, also inside a
// parameter, in any order) and EndStep give Step's parameters and momentum
// buffers bit for bit, for the first step (buffer = gradient) and later
// ones.
func TestSGDPiecewiseMatchesStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	sizes := []int{150, 6, 2400, 16, 37, 1}
	total := 0
	for _, n := range sizes {
		total += n
	}
	flatA, flatB := make([]float32, total), make([]float32, total)
	for i := range flatA {
		flatA[i] = float32(rng.NormFloat64())
	}
	copy(flatB, flatA)
	split := func(flat []float32) [][]float32 {
		var out [][]float32
		off := 0
		for _, n := range sizes {
			out = append(out, flat[off:off+n])
			off += n
		}
		return out
	}
	a, b := NewSGD(0.9, sizes), NewSGD(0.9, sizes)
	grad := make([]float32, total)
	for step := range 4 {
		for i := range grad {
			grad[i] = float32(rng.NormFloat64() * 0.1)
		}
		lr := 0.01 * float64(step+1)
		a.Step(split(flatA), split(grad), lr)
		// cut points at random, the pieces applied in reverse order
		cuts := []int{0, total}
		for range 5 {
			cuts = append(cuts, rng.IntN(total+1))
		}
		slices.Sort(cuts)
		b.BeginStep(lr)
		for i := len(cuts) - 1; i > 0; i-- {
			b.UpdateRange(flatB, grad, cuts[i-1], cuts[i])
		}
		b.EndStep()
		for i := range flatA {
			if math.Float32bits(flatA[i]) != math.Float32bits(flatB[i]) {
				t.Fatalf("step %d: parameter %d: Step %g, pieces %g", step, i, flatA[i], flatB[i])
			}
		}
		for p, buf := range a.Buffers() {
			for i, v := range buf {
				if w := b.Buffers()[p][i]; math.Float32bits(v) != math.Float32bits(w) {
					t.Fatalf("step %d: buffer %d[%d]: Step %g, pieces %g", step, p, i, v, w)
				}
			}
		}
	}
	if !b.HasBuffers() {
		t.Error("HasBuffers false after EndStep")
	}
}
