package kern

// sgemmGeneric is the portable implementation of [Sgemm]; arguments have
// been checked and m, n, k are all positive. It computes the canonical
// arithmetic (package doc) in the most direct way: the chain form over l
// for every element, or the 16 lanes of the dot form, each step an fma32.
func sgemmGeneric(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if transB && !transA {
		for i := range m {
			ai := a[i*lda : i*lda+k]
			ci := c[i*ldc : i*ldc+n]
			for j := range n {
				d := dot16(ai, b[j*ldb:j*ldb+k])
				if accumulate {
					ci[j] += d
				} else {
					ci[j] = d
				}
			}
		}
		return
	}
	at := func(i, l int) float32 {
		if transA {
			return a[l*lda+i]
		}
		return a[i*lda+l]
	}
	// Chain form. Rows of C are updated with a(i,l)·(row l of op(B)) for
	// l = 0, 1, ...: a saxpy over contiguous memory, four rows of C at a
	// time so that each element of B is loaded once per four steps. Every
	// element still takes its steps in the order of l.
	i := 0
	for ; i+4 <= m; i += 4 {
		c0 := c[i*ldc : i*ldc+n]
		c1 := c[(i+1)*ldc : (i+1)*ldc+n]
		c2 := c[(i+2)*ldc : (i+2)*ldc+n]
		c3 := c[(i+3)*ldc : (i+3)*ldc+n]
		if !accumulate {
			clear(c0)
			clear(c1)
			clear(c2)
			clear(c3)
		}
		for l := range k {
			a0, a1, a2, a3 := at(i, l), at(i+1, l), at(i+2, l), at(i+3, l)
			if transB {
				for j := range n {
					bv := b[j*ldb+l]
					c0[j] = fma32(a0, bv, c0[j])
					c1[j] = fma32(a1, bv, c1[j])
					c2[j] = fma32(a2, bv, c2[j])
					c3[j] = fma32(a3, bv, c3[j])
				}
				continue
			}
			fmaRows4(c0, c1, c2, c3, b[l*ldb:l*ldb+n], a0, a1, a2, a3)
		}
	}
	for ; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if !accumulate {
			clear(ci)
		}
		for l := range k {
			av := at(i, l)
			if transB {
				for j := range ci {
					ci[j] = fma32(av, b[j*ldb+l], ci[j])
				}
				continue
			}
			fmaRow(ci, b[l*ldb:l*ldb+n], av)
		}
	}
}

// fmaRow sets c[j] = fma(a, b[j], c[j]) for every j < len(b)
// (len(c) >= len(b)): one step of the chains of a row of C.
func fmaRow(c, b []float32, a float32) {
	c = c[:len(b)]
	for j, bv := range b {
		r, ok := fmaFast(a, bv, c[j])
		if !ok {
			r = fma32Slow(a, bv, c[j])
		}
		c[j] = r
	}
}

// fmaRows4 is fmaRow on four rows of C with their own a, sharing b.
func fmaRows4(c0, c1, c2, c3, b []float32, a0, a1, a2, a3 float32) {
	c0, c1, c2, c3 = c0[:len(b)], c1[:len(b)], c2[:len(b)], c3[:len(b)]
	for j, bv := range b {
		r0, ok0 := fmaFast(a0, bv, c0[j])
		r1, ok1 := fmaFast(a1, bv, c1[j])
		r2, ok2 := fmaFast(a2, bv, c2[j])
		r3, ok3 := fmaFast(a3, bv, c3[j])
		if !(ok0 && ok1 && ok2 && ok3) {
			r0, r1, r2, r3 = fma32(a0, bv, c0[j]), fma32(a1, bv, c1[j]), fma32(a2, bv, c2[j]), fma32(a3, bv, c3[j])
		}
		c0[j], c1[j], c2[j], c3[j] = r0, r1, r2, r3
	}
}

// dot16 returns the dot form Σ x[l]·y[l] of the canonical arithmetic
// (len(y) >= len(x)): lane q (q < 16) is the chain of fused multiply-adds
// over l ≡ q (mod 16) in increasing order from +0, and the lanes are added
// by reduce16.
func dot16(x, y []float32) float32 {
	y = y[:len(x)]
	var s [16]float32
	l := 0
	for ; l+16 <= len(x); l += 16 {
		xx := x[l : l+16 : l+16]
		yy := y[l : l+16 : l+16]
		for q := range s {
			r, ok := fmaFast(xx[q], yy[q], s[q])
			if !ok {
				r = fma32Slow(xx[q], yy[q], s[q])
			}
			s[q] = r
		}
	}
	for q, xv := range x[l:] {
		s[q] = fma32(xv, y[l+q], s[q])
	}
	return reduce16(&s)
}

// reduce16 adds 16 lanes in the tree of the canonical arithmetic: upper
// half onto lower half, 8 lanes, then 4, then 2, then 1.
func reduce16(s *[16]float32) float32 {
	var t [8]float32
	for q := range t {
		t[q] = s[q] + s[q+8]
	}
	u0, u1, u2, u3 := t[0]+t[4], t[1]+t[5], t[2]+t[6], t[3]+t[7]
	return (u0 + u2) + (u1 + u3)
}
