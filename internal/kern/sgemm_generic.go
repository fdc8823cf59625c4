package kern

// sgemmGeneric is the portable implementation of [Sgemm]; arguments have
// been checked and m, n, k are all positive. It computes the canonical
// arithmetic (package doc): the dot form for A·Bᵀ (dotGeneric), the chain
// form with register blocks where B's rows are contiguous (chainGeneric),
// and for Aᵀ·Bᵀ, which the model never asks for, the chain of each
// element by itself.
func sgemmGeneric(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	switch {
	case transB && !transA:
		dotGeneric(m, n, k, a, lda, b, ldb, nil, accumulate, c, ldc)
	case !transB:
		ars, acs := lda, 1
		if transA {
			ars, acs = 1, lda
		}
		chainGeneric(m, n, k, a, ars, acs, b, ldb, nil, accumulate, c, ldc)
	default:
		for i := range m {
			ci := c[i*ldc : i*ldc+n]
			for j := range ci {
				v := ci[j]
				if !accumulate {
					v = 0
				}
				for l := range k {
					v = fma32(a[l*lda+i], b[j*ldb+l], v)
				}
				ci[j] = v
			}
		}
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
