package kern

import "math"

// The elementary functions of the canonical arithmetic. Go's math.Exp,
// math.Log and math.Cos give different bits on different architectures
// (assembly on amd64, other assembly or fused multiply-adds the compiler
// inserts on arm64), so a loss, a softmax or a learning-rate schedule
// computed with them would not be reproducible across processors. These
// use only operations every Go implementation rounds the same way: +, −,
// ×, ÷ of float64 values that are never fused implicitly (each product
// that meets a sum goes through math.FMA, which is exact everywhere, or an
// explicit conversion), math.Round, math.Frexp and math.Ldexp (exact bit
// manipulation). They are accurate to a few units in the last place,
// which is all the trainer needs; the point is that the bits are the same
// everywhere.

// Constants for argument reduction. ln2Hi + ln2Lo is ln 2 and halfPi1 +
// halfPi2 + halfPi3 is π/2, each part the float64 nearest to what the
// previous parts leave of the value (computed from 100-digit expansions
// of ln 2 and π with Python's decimal module).
const (
	ln2Hi   = 0.6931471805599453
	ln2Lo   = 2.3190468138462996e-17
	log2e   = 1.4426950408889634 // 1/ln 2
	halfPi1 = 1.5707963267948966
	halfPi2 = 6.123233995736766e-17
	halfPi3 = -1.4973849048591698e-33
	twoByPi = 0.6366197723675814
)

// Exp returns e^x, deterministically (see above): x = k·ln 2 + r with
// integer k and |r| <= ln 2/2, e^r by its Taylor series to degree 13 in
// Horner form with fused multiply-adds (the first omitted term is below
// 4e-18 relative), then scaled by 2^k.
func Exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > 709.782712893384: // ln(MaxFloat64)
		return math.Inf(1)
	case x < -745.1332191019412: // ln(2^-1075): below half the smallest subnormal
		return 0
	}
	k := math.Round(float64(x * log2e))
	r := math.FMA(-k, ln2Hi, x)
	r = math.FMA(-k, ln2Lo, r)
	p := 1.0 / 6227020800 // 1/13!
	for _, c := range [...]float64{1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880,
		1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2, 1, 1} {
		p = math.FMA(p, r, c)
	}
	return math.Ldexp(p, int(k))
}

// Log returns the natural logarithm of x, deterministically (see above):
// x = 2^e·m with √½ <= m < √2, and ln m = 2·atanh(f) with f = (m−1)/(m+1),
// |f| < 0.172, by its series to f^23 (the first omitted term is below
// 1e-18 relative), plus e·ln 2. Log(0) = −Inf, Log of a negative number
// or NaN is NaN, Log(+Inf) = +Inf.
func Log(x float64) float64 {
	switch {
	case x != x || x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	m, e := math.Frexp(x) // 0.5 <= m < 1
	if m < math.Sqrt2/2 {
		m *= 2 // exact
		e--
	}
	f := (m - 1) / (m + 1) // m - 1 is exact here (Sterbenz)
	s := float64(f * f)
	q := 1.0 / 23
	for _, c := range [...]float64{1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11,
		1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1} {
		q = math.FMA(q, s, c)
	}
	lm := float64(2*f) * q
	fe := float64(e)
	return math.FMA(fe, ln2Hi, math.FMA(fe, ln2Lo, lm))
}

// Cos returns the cosine of x (radians), deterministically (see above):
// x = j·π/2 + r with integer j and |r| <= π/4 (π/2 in three parts, so r is
// accurate for |x| up to about 2^20; larger arguments still give the same
// bits everywhere, just less accurate ones), then ±cos r or ±sin r by
// Taylor series to degree 18 and 19. Cos(±Inf) and Cos(NaN) are NaN.
func Cos(x float64) float64 {
	if x != x || math.IsInf(x, 0) {
		return math.NaN()
	}
	j := math.Round(float64(x * twoByPi))
	r := math.FMA(-j, halfPi1, x)
	r = math.FMA(-j, halfPi2, r)
	r = math.FMA(-j, halfPi3, r)
	z := float64(r * r)
	var v float64
	switch q := int64(math.Mod(j, 4)); q {
	case 0, 2, -2:
		v = cosPoly(z)
		if q != 0 {
			v = -v
		}
	default:
		v = sinPoly(r, z)
		if q == 1 || q == -3 {
			v = -v
		}
	}
	return v
}

// cosPoly is cos r for z = r², |r| <= π/4: Σ (−1)^n z^n/(2n)! for n <= 9.
func cosPoly(z float64) float64 {
	p := 1.0 / 6402373705728000 // 1/18!
	for _, c := range [...]float64{-1.0 / 20922789888000, 1.0 / 87178291200, -1.0 / 479001600,
		1.0 / 3628800, -1.0 / 40320, 1.0 / 720, -1.0 / 24, 1.0 / 2} {
		p = math.FMA(p, z, c)
	}
	// p = Σ_{n>=1} (−1)^(n+1) z^(n−1)/(2n)!, so cos r = 1 − z·p.
	return math.FMA(-z, p, 1)
}

// sinPoly is sin r for z = r², |r| <= π/4: r·Σ (−1)^n z^n/(2n+1)! for
// n <= 9.
func sinPoly(r, z float64) float64 {
	p := 1.0 / 121645100408832000 // 1/19!
	for _, c := range [...]float64{-1.0 / 355687428096000, 1.0 / 1307674368000, -1.0 / 6227020800,
		1.0 / 39916800, -1.0 / 362880, 1.0 / 5040, -1.0 / 120, 1.0 / 6} {
		p = math.FMA(p, z, c)
	}
	// p = Σ_{n>=1} (−1)^(n+1) z^(n−1)/(2n+1)!, so sin r = r − r·z·p.
	return math.FMA(-float64(r*z), p, r)
}
