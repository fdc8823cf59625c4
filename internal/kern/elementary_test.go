package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

func ulps(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / (math.Nextafter(math.Abs(b), math.Inf(1)) - math.Abs(b))
}

// TestElementaryAccuracy compares Exp, Log and Cos with the math package
// (itself accurate to about 1 ulp) over the ranges the trainer uses and
// beyond, and checks the special values.
func TestElementaryAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	worst := map[string]float64{}
	check := func(name string, got, want, tol float64, x float64) {
		t.Helper()
		u := ulps(got, want)
		worst[name] = max(worst[name], u)
		if !(u <= tol) {
			t.Fatalf("%s(%v) = %v, math gives %v (%.1f ulp apart)", name, x, got, want, u)
		}
	}
	for range 200000 {
		x := (2*rng.Float64() - 1) * 100
		check("Exp", Exp(x), math.Exp(x), 3, x)
		x = -745 * rng.Float64()
		if e := math.Exp(x); e > 0x1p-1000 {
			check("Exp", Exp(x), e, 3, x)
		}
		y := math.Ldexp(1+rng.Float64(), rng.IntN(200)-100)
		check("Log", Log(y), math.Log(y), 3, y)
		y = 1 + 9*rng.Float64() // the softmax's sums
		check("Log", Log(y), math.Log(y), 3, y)
		z := (2*rng.Float64() - 1) * 20
		if c := math.Cos(z); math.Abs(c) > 1e-3 {
			check("Cos", Cos(z), c, 3, z)
		} else if d := math.Abs(Cos(z) - c); d > 1e-18 {
			t.Fatalf("Cos(%v) = %v, math gives %v", z, Cos(z), c)
		}
	}
	for T := int64(1); T <= 300; T++ {
		for e := int64(0); e <= T; e++ {
			x := math.Pi * float64(e) / float64(T)
			if d := math.Abs(Cos(x) - math.Cos(x)); d > 4e-16 {
				t.Fatalf("Cos(π·%d/%d) = %v, math gives %v", e, T, Cos(x), math.Cos(x))
			}
		}
	}
	t.Logf("largest differences from package math (ulp): %v", worst)
	specials := []struct {
		name      string
		got, want float64
	}{
		{"Exp(0)", Exp(0), 1}, {"Exp(1)", Exp(1), math.E}, {"Exp(-Inf)", Exp(math.Inf(-1)), 0},
		{"Exp(+Inf)", Exp(math.Inf(1)), math.Inf(1)}, {"Exp(710)", Exp(710), math.Inf(1)},
		{"Log(1)", Log(1), 0}, {"Log(0)", Log(0), math.Inf(-1)}, {"Log(+Inf)", Log(math.Inf(1)), math.Inf(1)},
		{"Log(e)", Log(math.E), 1}, {"Cos(0)", Cos(0), 1}, {"Cos(π)", Cos(math.Pi), -1},
	}
	for _, s := range specials {
		if s.got != s.want {
			t.Errorf("%s = %v, want %v", s.name, s.got, s.want)
		}
	}
	for _, v := range []float64{Exp(math.NaN()), Log(math.NaN()), Log(-1), Cos(math.NaN()), Cos(math.Inf(1))} {
		if v == v {
			t.Errorf("got %v, want NaN", v)
		}
	}
}
