package kern

import "math"

// SGDMomentum applies one step of SGD with momentum (PyTorch's torch.optim.SGD
// update with momentum and no dampening, weight decay or Nesterov), element by
// element:
//
//	buf[i] = fl(fl(buf[i]·momentum) + g[i])   (two float32 roundings)
//	p[i]   = fl(negLR·buf[i] + p[i])          (one rounding: a fused multiply-add)
//
// negLR is the negated learning rate. Both code paths give identical bits
// (the generic one emulates the single-rounding float32 FMA exactly). It
// panics if the three slices differ in length.
func SGDMomentum(p, buf, g []float32, momentum, negLR float32) {
	if len(buf) != len(p) || len(g) != len(p) {
		panic(errLength)
	}
	n := sgdMomentumAsm(p, buf, g, momentum, negLR)
	sgdMomentumGeneric(p[n:], buf[n:], g[n:], momentum, negLR)
}

func sgdMomentumGeneric(p, buf, g []float32, momentum, negLR float32) {
	buf = buf[:len(p)]
	g = g[:len(p)]
	for i := range p {
		// The conversions keep the compiler from fusing (Go spec,
		// "Floating-point operators").
		b := float32(float32(buf[i]*momentum) + g[i])
		buf[i] = b
		p[i] = fma32(negLR, b, p[i])
	}
}

// fma32 returns a·b + c rounded once to float32 (round to nearest even).
//
// a·b is exact in float64 (24+24 significand bits <= 53), so s = a·b + c
// in float64 is rounded once. Rounding s to float32 is then correct unless
// the first rounding created or moved a tie: that needs the 29 low bits of
// s's significand to be exactly 1 followed by zeros (a float32 halfway
// point), or a result in or near the float32 subnormal range, where more
// than 29 bits are dropped. Those cases recompute with round-to-odd: the
// exact error of the float64 sum (Knuth's TwoSum, TAOCP vol. 2, §4.2.2)
// decides whether s is nudged one float64 ulp towards the exact value when
// its last bit is even; a round-to-odd value with at least two extra bits
// rounds correctly to float32 (Boldo and Melquiond, "Emulation of FMA and
// correctly rounded sums: proved algorithms using rounding to odd", IEEE
// Trans. Computers 57(4), 2008).
func fma32(a, b, c float32) float32 {
	x := float64(a) * float64(b)
	y := float64(c)
	s := x + y
	bits := math.Float64bits(s)
	const (
		dropped = 1<<29 - 1 // float64 significand bits below float32's
		half    = 1 << 28   // a float32 halfway point in those bits
		// Biased float64 exponent of 2^-126, the smallest float32 normal:
		// 1023 - 126 = 897 = 0x381. Results below it lose more bits.
		minNormalExp = 0x381
	)
	if bits&dropped != half && (bits>>52)&0x7ff >= minNormalExp {
		return float32(s)
	}
	bv := s - x
	err := (x - (s - bv)) + (y - bv)
	if err != 0 && !math.IsInf(s, 0) && bits&1 == 0 {
		if (err > 0) == (s > 0) {
			bits++
		} else {
			bits--
		}
		s = math.Float64frombits(bits)
	}
	return float32(s)
}
