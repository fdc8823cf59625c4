package kern

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA32 is a·b + c rounded once to the nearest float32 (ties to even,
// subnormals included), computed exactly with math/big.
func exactFMA32(a, b, c float32) float32 {
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) || math.IsNaN(float64(c)) ||
		math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsInf(float64(c), 0) {
		return float32(float64(a)*float64(b) + float64(c)) // not exercised with rounding subtleties
	}
	x := new(big.Float).SetPrec(400).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	if x.Sign() == 0 {
		// The sign of an exact zero sum: -0 only if both addends are -0.
		return float32(float64(a)*float64(b) + float64(c))
	}
	f, _ := x.Float32()
	return f
}

// fmaCases returns operands whose float64 sum is rounded onto a float32
// halfway point (the double-rounding trap), results in the subnormal
// range, and random ones over a wide exponent range.
func fmaCases(rng *rand.Rand) [][3]float32 {
	t12 := float32(1 + 1.0/4096) // 1 + 2^-12: (1+2^-12)^2 = 1 + 2^-11 + 2^-24, a float32 tie
	tiny := float32(math.Ldexp(1, -80))
	cases := [][3]float32{
		{t12, t12, 0},
		{t12, t12, tiny},
		{t12, t12, -tiny},
		{-t12, t12, tiny},
		{-t12, t12, -tiny},
		{float32(math.Ldexp(1, -70)), float32(math.Ldexp(1, -70)), float32(math.Ldexp(1, -140))},
		{float32(math.Ldexp(1.5, -75)), float32(math.Ldexp(1.25, -60)), float32(math.Ldexp(-1, -149))},
		{3, 5, -15},
		{float32(math.Copysign(0, -1)), 1, float32(math.Copysign(0, -1))},
		{math.MaxFloat32, 2, -math.MaxFloat32},
	}
	for range 20000 {
		var v [3]float32
		for i := range v {
			v[i] = float32(math.Ldexp(2*rng.Float64()-1, rng.IntN(120)-80))
		}
		cases = append(cases, v)
	}
	// Products landing next to halfway points: c cancels the leading part.
	for range 5000 {
		a := float32(1 + float64(rng.IntN(1<<12))/(1<<12))
		b := float32(1 + float64(rng.IntN(1<<12))/(1<<12))
		c := float32(math.Ldexp(float64(rng.IntN(3)-1), -60-rng.IntN(40)))
		cases = append(cases, [3]float32{a, b, c})
	}
	return cases
}

func TestFMA32(t *testing.T) {
	for _, v := range fmaCases(rand.New(rand.NewPCG(13, 13))) {
		got, want := fma32(v[0], v[1], v[2]), exactFMA32(v[0], v[1], v[2])
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%g, %g, %g) = %g (%#x), want %g (%#x)", v[0], v[1], v[2], got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
}

// TestSGDMomentumFMA checks the single rounding of the p update on every
// code path against math/big: with momentum 0, buf becomes g, and p becomes
// fma(negLR, g, p).
func TestSGDMomentumFMA(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		cases := fmaCases(rand.New(rand.NewPCG(14, 14)))
		n := len(cases)
		p, buf, g := make([]float32, n), make([]float32, n), make([]float32, n)
		for _, negLR := range []float32{float32(1 + 1.0/4096), -0.01} {
			for i, v := range cases {
				p[i], buf[i], g[i] = v[2], 1, v[1]
			}
			SGDMomentum(p, buf, g, 0, negLR)
			for i, v := range cases {
				want := exactFMA32(negLR, v[1], v[2])
				if math.Float32bits(p[i]) != math.Float32bits(want) || buf[i] != v[1] {
					t.Fatalf("negLR=%g case %v: p = %g, want %g (buf %g, want %g)", negLR, v, p[i], want, buf[i], v[1])
				}
			}
		}
	})
}

// TestSGDMomentum compares a full update with its definition, for all
// lengths and offsets (vector body and scalar tail).
func TestSGDMomentum(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		elemCases(t, func(t *testing.T, rng *rand.Rand, n, off int) {
			p := randSlice(rng, n+off)
			buf := randSlice(rng, n+off)
			g := randSlice(rng, n+off)
			p0, b0 := append([]float32(nil), p...), append([]float32(nil), buf...)
			const m, negLR = 0.9, -0.01
			SGDMomentum(p[off:], buf[off:], g[off:], m, negLR)
			for i := range p {
				wb, wp := b0[i], p0[i]
				if i >= off {
					prod := float32(b0[i] * m)
					wb = prod + g[i]
					wp = exactFMA32(negLR, wb, p0[i])
				}
				if math.Float32bits(buf[i]) != math.Float32bits(wb) || math.Float32bits(p[i]) != math.Float32bits(wp) {
					t.Fatalf("n=%d off=%d i=%d: (p, buf) = (%g, %g), want (%g, %g)", n, off, i, p[i], buf[i], wp, wb)
				}
			}
		})
	})
}

func TestSGDMomentumPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != errLength {
			t.Errorf("panic = %v, want %q", r, errLength)
		}
	}()
	SGDMomentum(make([]float32, 3), make([]float32, 3), make([]float32, 2), 0.9, -0.1)
}

func BenchmarkSGDMomentum(b *testing.B) {
	// LeNet-5's 61706 parameters in one vector, on every path.
	defer SetPath("")
	rng := rand.New(rand.NewPCG(1, 1))
	p, buf, g := randSlice(rng, 61706), randSlice(rng, 61706), randSlice(rng, 61706)
	for _, impl := range Paths() {
		b.Run("impl="+impl, func(b *testing.B) {
			if err := SetPath(impl); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(3 * 4 * 61706)
			for b.Loop() {
				SGDMomentum(p, buf, g, 0.9, -0.01)
			}
		})
	}
}

// BenchmarkReduce sums four shards' gradients (LeNet-5's 61706 parameters
// in one vector) as model.LeNet5 does: copy then Add three times
// (sum=add), or Sum then Add2 (sum=pairs), on every path.
func BenchmarkReduce(b *testing.B) {
	defer SetPath("")
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 61706
	dst, g0, g1, g2, g3 := make([]float32, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	for _, impl := range Paths() {
		for _, pairs := range []bool{false, true} {
			name := "sum=add"
			if pairs {
				name = "sum=pairs"
			}
			b.Run(name+"/impl="+impl, func(b *testing.B) {
				if err := SetPath(impl); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(5 * 4 * n)
				for b.Loop() {
					if pairs {
						Sum(dst, g0, g1)
						Add2(dst, g2, g3)
						continue
					}
					copy(dst, g0)
					Add(dst, g1)
					Add(dst, g2)
					Add(dst, g3)
				}
			})
		}
	}
}
