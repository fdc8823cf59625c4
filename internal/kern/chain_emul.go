//go:build !arm64

package kern

import "math"

// The micro-kernels with the emulated fma (fma.go) written out: for each
// step, s = a·b + c in float64 (a·b exact), and float32(s) is the fma
// unless the low 29 bits of s are a float32 halfway point or s is nonzero
// and below 2^-126 in magnitude (see fmaFast); then roundOdd fixes s
// first, as fma32Slow does. The check is one predictable branch per
// step; the fix is out of line.

// wideChains: amd64 has too few registers for 4×4 blocks of emulated
// fmas, so chainGeneric uses 2×4 blocks only.
const wideChains = false

// chain4x4 is chain2x4 on the two halves of a 4×4 block (unused, as
// wideChains is false; it keeps the arithmetic defined).
func chain4x4(acc *[16]float32, a []float32, ars, acs int, b []float32, ldb int, boff []int, j, k int) {
	h0 := (*[8]float32)(acc[0:8])
	h1 := (*[8]float32)(acc[8:16])
	chain2x4(h0, a, ars, acs, b, ldb, boff, j, 0, k)
	chain2x4(h1, a[2*ars:], ars, acs, b, ldb, boff, j, 0, k)
}

// chain2x4 advances the chains of a 2×4 block of C, held in acc (row-major),
// over steps l..k-1: A(r, l) = a[r*ars+l*acs] and B̃(l, q) = b[bRow(l, q)]
// for r < 2 and q < 4 (q relative to column j).
func chain2x4(acc *[chainRows * chainCols]float32, a []float32, ars, acs int, b []float32, ldb int, boff []int, j, l, k int) {
	c00, c01, c02, c03 := acc[0], acc[1], acc[2], acc[3]
	c10, c11, c12, c13 := acc[4], acc[5], acc[6], acc[7]
	o, ao := l*ldb+j, l*acs
	for ; l < k; l++ {
		if boff != nil {
			o = boff[l] + j
		}
		bl := b[o : o+4 : o+4]
		y0, y1, y2, y3 := float64(bl[0]), float64(bl[1]), float64(bl[2]), float64(bl[3])
		x0, x1 := float64(a[ao]), float64(a[ao+ars])
		o += ldb
		ao += acs
		p00 := x0 * y0
		s00 := p00 + float64(c00)
		if u := math.Float64bits(s00); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s00 = roundOddInline(p00, float64(c00), s00, u)
		}
		c00 = float32(s00)
		p01 := x0 * y1
		s01 := p01 + float64(c01)
		if u := math.Float64bits(s01); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s01 = roundOddInline(p01, float64(c01), s01, u)
		}
		c01 = float32(s01)
		p02 := x0 * y2
		s02 := p02 + float64(c02)
		if u := math.Float64bits(s02); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s02 = roundOddInline(p02, float64(c02), s02, u)
		}
		c02 = float32(s02)
		p03 := x0 * y3
		s03 := p03 + float64(c03)
		if u := math.Float64bits(s03); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s03 = roundOddInline(p03, float64(c03), s03, u)
		}
		c03 = float32(s03)
		p10 := x1 * y0
		s10 := p10 + float64(c10)
		if u := math.Float64bits(s10); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s10 = roundOddInline(p10, float64(c10), s10, u)
		}
		c10 = float32(s10)
		p11 := x1 * y1
		s11 := p11 + float64(c11)
		if u := math.Float64bits(s11); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s11 = roundOddInline(p11, float64(c11), s11, u)
		}
		c11 = float32(s11)
		p12 := x1 * y2
		s12 := p12 + float64(c12)
		if u := math.Float64bits(s12); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s12 = roundOddInline(p12, float64(c12), s12, u)
		}
		c12 = float32(s12)
		p13 := x1 * y3
		s13 := p13 + float64(c13)
		if u := math.Float64bits(s13); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s13 = roundOddInline(p13, float64(c13), s13, u)
		}
		c13 = float32(s13)
	}
	acc[0], acc[1], acc[2], acc[3] = c00, c01, c02, c03
	acc[4], acc[5], acc[6], acc[7] = c10, c11, c12, c13
}

// dot2x4 advances lanes g..g+3 of the dot forms of two elements of C,
// whose lanes are s0 and s1 (x·y0 and x·y1), over the chunks of 16 steps
// t..nch-1: lane g+q takes step l = 16t+g+q.
func dot2x4(s0, s1 *[16]float32, g int, x, y0, y1 []float32, t, nch int) {
	pl := s0[g : g+4 : g+4]
	rl := s1[g : g+4 : g+4]
	c00, c01, c02, c03 := pl[0], pl[1], pl[2], pl[3]
	c10, c11, c12, c13 := rl[0], rl[1], rl[2], rl[3]
	for ; t < nch; t++ {
		o := 16*t + g
		xs := x[o : o+4 : o+4]
		ya := y0[o : o+4 : o+4]
		yb := y1[o : o+4 : o+4]
		x0, x1, x2, x3 := float64(xs[0]), float64(xs[1]), float64(xs[2]), float64(xs[3])
		p00 := x0 * float64(ya[0])
		s00 := p00 + float64(c00)
		if u := math.Float64bits(s00); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s00 = roundOddInline(p00, float64(c00), s00, u)
		}
		c00 = float32(s00)
		p01 := x1 * float64(ya[1])
		s01 := p01 + float64(c01)
		if u := math.Float64bits(s01); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s01 = roundOddInline(p01, float64(c01), s01, u)
		}
		c01 = float32(s01)
		p02 := x2 * float64(ya[2])
		s02 := p02 + float64(c02)
		if u := math.Float64bits(s02); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s02 = roundOddInline(p02, float64(c02), s02, u)
		}
		c02 = float32(s02)
		p03 := x3 * float64(ya[3])
		s03 := p03 + float64(c03)
		if u := math.Float64bits(s03); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s03 = roundOddInline(p03, float64(c03), s03, u)
		}
		c03 = float32(s03)
		p10 := x0 * float64(yb[0])
		s10 := p10 + float64(c10)
		if u := math.Float64bits(s10); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s10 = roundOddInline(p10, float64(c10), s10, u)
		}
		c10 = float32(s10)
		p11 := x1 * float64(yb[1])
		s11 := p11 + float64(c11)
		if u := math.Float64bits(s11); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s11 = roundOddInline(p11, float64(c11), s11, u)
		}
		c11 = float32(s11)
		p12 := x2 * float64(yb[2])
		s12 := p12 + float64(c12)
		if u := math.Float64bits(s12); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s12 = roundOddInline(p12, float64(c12), s12, u)
		}
		c12 = float32(s12)
		p13 := x3 * float64(yb[3])
		s13 := p13 + float64(c13)
		if u := math.Float64bits(s13); u&fmaDropped == fmaHalf || (u<<1)-1 < minNormal2 {
			s13 = roundOddInline(p13, float64(c13), s13, u)
		}
		c13 = float32(s13)
	}
	pl[0], pl[1], pl[2], pl[3] = c00, c01, c02, c03
	rl[0], rl[1], rl[2], rl[3] = c10, c11, c12, c13
}

// roundOddInline is roundOdd (fmaslow.go) small enough to be inlined into
// the micro-kernels' rare branch, so that their loops have no call; u is
// the bits of s.
func roundOddInline(x, y, s float64, u uint64) float64 {
	bv := float64(s - x)
	err := float64(float64(x-float64(s-bv)) + float64(y-bv))
	if err != 0 && u&1 == 0 && u&(0x7ff<<52) != 0x7ff<<52 {
		if (err > 0) == (s > 0) {
			u++
		} else {
			u--
		}
		s = math.Float64frombits(u)
	}
	return s
}
