package kern

import "math"

// fma32Slow returns a·b + c rounded once to float32 without relying on a
// fused instruction: s = a·b + c is rounded once to float64 (a·b is exact
// there), then, if s is inexact, nudged one float64 ulp towards the exact
// value when its last bit is even (round to odd). The exact error of the
// float64 sum comes from Knuth's TwoSum (TAOCP vol. 2, §4.2.2); a value
// rounded to odd with at least two bits more than float32 rounds correctly
// to float32 (Boldo and Melquiond, "Emulation of FMA and correctly rounded
// sums: proved algorithms using rounding to odd", IEEE Trans. Computers
// 57(4), 2008). Every operation is converted explicitly, so a compiler
// that fuses cannot change it.
func fma32Slow(a, b, c float32) float32 {
	x := float64(float64(a) * float64(b))
	y := float64(c)
	return float32(roundOdd(x, y, float64(x+y)))
}

// roundOdd returns x + y rounded to odd in float64, given s = x + y
// rounded to nearest: s itself if exact, else s nudged one ulp towards
// the exact sum when its last bit is even. The kernels call it where the
// quick check of fmaFast fails, with x = a·b (exact).
func roundOdd(x, y, s float64) float64 {
	bv := float64(s - x)
	err := float64(float64(x-float64(s-bv)) + float64(y-bv))
	if bits := math.Float64bits(s); err != 0 && !math.IsInf(s, 0) && bits&1 == 0 {
		if (err > 0) == (s > 0) {
			bits++
		} else {
			bits--
		}
		s = math.Float64frombits(bits)
	}
	return s
}
