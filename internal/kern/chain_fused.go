//go:build arm64

package kern

// The micro-kernels with the fused multiply-add: every a*b + c below is
// one FMADDS instruction (fma_fused.go).

// wideChains: with 32 floating-point registers chainGeneric takes 4×4
// blocks (chain4x4) first.
const wideChains = true

// chain4x4 runs the chains of a 4×4 block of C, held in acc (row-major),
// over all k steps: A(r, l) = a[r*ars+l*acs] and B̃(l, q) = b[bRow(l, j+q)]
// for r, q < 4. 16 independent chains, 8 operands: 24 registers.
func chain4x4(acc *[16]float32, a []float32, ars, acs int, b []float32, ldb int, boff []int, j, k int) {
	c00, c01, c02, c03 := acc[0], acc[1], acc[2], acc[3]
	c10, c11, c12, c13 := acc[4], acc[5], acc[6], acc[7]
	c20, c21, c22, c23 := acc[8], acc[9], acc[10], acc[11]
	c30, c31, c32, c33 := acc[12], acc[13], acc[14], acc[15]
	o, ao := j, 0
	for l := range k {
		if boff != nil {
			o = boff[l] + j
		}
		bl := b[o : o+4 : o+4]
		y0, y1, y2, y3 := bl[0], bl[1], bl[2], bl[3]
		al := a[ao : ao+3*ars+1]
		x0, x1, x2, x3 := al[0], al[ars], al[2*ars], al[3*ars]
		o += ldb
		ao += acs
		c00 = x0*y0 + c00
		c01 = x0*y1 + c01
		c02 = x0*y2 + c02
		c03 = x0*y3 + c03
		c10 = x1*y0 + c10
		c11 = x1*y1 + c11
		c12 = x1*y2 + c12
		c13 = x1*y3 + c13
		c20 = x2*y0 + c20
		c21 = x2*y1 + c21
		c22 = x2*y2 + c22
		c23 = x2*y3 + c23
		c30 = x3*y0 + c30
		c31 = x3*y1 + c31
		c32 = x3*y2 + c32
		c33 = x3*y3 + c33
	}
	acc[0], acc[1], acc[2], acc[3] = c00, c01, c02, c03
	acc[4], acc[5], acc[6], acc[7] = c10, c11, c12, c13
	acc[8], acc[9], acc[10], acc[11] = c20, c21, c22, c23
	acc[12], acc[13], acc[14], acc[15] = c30, c31, c32, c33
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
		y0, y1, y2, y3 := bl[0], bl[1], bl[2], bl[3]
		x0, x1 := a[ao], a[ao+ars]
		o += ldb
		ao += acs
		c00 = x0*y0 + c00
		c01 = x0*y1 + c01
		c02 = x0*y2 + c02
		c03 = x0*y3 + c03
		c10 = x1*y0 + c10
		c11 = x1*y1 + c11
		c12 = x1*y2 + c12
		c13 = x1*y3 + c13
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
		c00 = xs[0]*ya[0] + c00
		c01 = xs[1]*ya[1] + c01
		c02 = xs[2]*ya[2] + c02
		c03 = xs[3]*ya[3] + c03
		c10 = xs[0]*yb[0] + c10
		c11 = xs[1]*yb[1] + c11
		c12 = xs[2]*yb[2] + c12
		c13 = xs[3]*yb[3] + c13
	}
	pl[0], pl[1], pl[2], pl[3] = c00, c01, c02, c03
	rl[0], rl[1], rl[2], rl[3] = c10, c11, c12, c13
}
