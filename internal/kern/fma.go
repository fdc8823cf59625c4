//go:build !arm64

package kern

import "math"

// fma32 returns a·b + c rounded once to float32 (round to nearest even):
// the fused multiply-add of the canonical arithmetic, emulated in float64
// (on arm64, fma_fused.go has the compiler emit the instruction).
func fma32(a, b, c float32) float32 {
	if r, ok := fmaFast(a, b, c); ok {
		return r
	}
	return fma32Slow(a, b, c)
}

// fmaFast returns fma32(a, b, c) and true, or false in the rare cases it
// cannot tell quickly (then fma32Slow can). It is small enough to be
// inlined into the kernels' loops, which call fma32Slow themselves.
//
// a·b is exact in float64 (24+24 significand bits <= 53), so s = a·b + c
// in float64 is rounded once. Rounding s to float32 is then correct unless
// the first rounding created or moved a tie: that needs the 29 low bits of
// s's significand to be exactly 1 followed by zeros (a float32 halfway
// point), or a result in the float32 subnormal range, where more than 29
// bits are dropped. A zero s is exact (a nonzero a·b + c is at least
// 2^-298 in magnitude, a float64 normal).
func fmaFast(a, b, c float32) (float32, bool) {
	s := float64(a)*float64(b) + float64(c)
	u := math.Float64bits(s)
	if u&fmaDropped == fmaHalf {
		return 0, false
	}
	// u<<1 drops the sign; for s = 0, (u<<1)-1 wraps around to the top
	// (zero is exact), and a nonzero s below 2^-126 in magnitude gives a
	// value below minNormal2.
	if (u<<1)-1 < minNormal2 {
		return 0, false
	}
	return float32(s), true
}

const (
	fmaDropped = 1<<29 - 1 // float64 significand bits below float32's
	fmaHalf    = 1 << 28   // a float32 halfway point in those bits
)

// minNormal2 is the biased float64 exponent of 2^-126, the smallest
// float32 normal (1023 - 126 = 897 = 0x381), in the place u<<1 has it,
// minus 1: nonzero results below 2^-126 lose more than 29 bits. It is a
// variable so that the kernels compare with it in memory instead of
// loading the 64-bit constant at every step.
var minNormal2 uint64 = 0x381<<53 - 1
