package kern

// sgemmGeneric is the portable implementation of [Sgemm]; arguments have
// been checked and m, n, k are all positive.
//
// Every element of C is accumulated in float32 in an order fixed by the
// sizes and flags (over l = 0, 1, ..., k-1, or in four interleaved partial
// sums for A·Bᵀ; see dot32), so the result depends only on the inputs.
// Every product is converted to float32 explicitly: the Go spec lets the
// compiler fuse x*y + z otherwise (it does with GOAMD64=v3), which would
// make results depend on the build.
func sgemmGeneric(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if !transB {
		// Rows of C += a(i,l) * row l of B: the inner loop is a saxpy over
		// contiguous memory, done for four rows of C at once so that each
		// element of B is loaded once per four multiply-adds. Every
		// element still sums over l in order.
		at := func(i, l int) float32 {
			if transA {
				return a[l*lda+i]
			}
			return a[i*lda+l]
		}
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
				bl := b[l*ldb : l*ldb+n]
				c1, c2, c3 := c1[:len(bl)], c2[:len(bl)], c3[:len(bl)]
				c0 := c0[:len(bl)]
				for j, bv := range bl {
					c0[j] += float32(a0 * bv)
					c1[j] += float32(a1 * bv)
					c2[j] += float32(a2 * bv)
					c3[j] += float32(a3 * bv)
				}
			}
		}
		for ; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			if !accumulate {
				clear(ci)
			}
			for l := range k {
				av := at(i, l)
				bl := b[l*ldb : l*ldb+n]
				for j, bv := range bl {
					ci[j] += float32(av * bv)
				}
			}
		}
		return
	}
	// transB: element (i,j) is a dot product of row/column i of A with row
	// j of B.
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		for j := range n {
			bj := b[j*ldb : j*ldb+k]
			var s float32
			if transA {
				for l, bv := range bj {
					s += float32(a[l*lda+i] * bv)
				}
			} else {
				s = dot32(a[i*lda:i*lda+k], bj)
			}
			if accumulate {
				ci[j] += s
			} else {
				ci[j] = s
			}
		}
	}
}

// dot32 returns Σ x[l]·y[l] (len(y) >= len(x)) in float32 with four
// partial sums, s_q over l ≡ q (mod 4) in order, combined as
// (s0+s1)+(s2+s3): four independent chains keep the adder busy where one
// would wait for each addition.
func dot32(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	l := 0
	for ; l+4 <= len(x); l += 4 {
		xx := x[l : l+4 : l+4]
		yy := y[l : l+4 : l+4]
		s0 += float32(xx[0] * yy[0])
		s1 += float32(xx[1] * yy[1])
		s2 += float32(xx[2] * yy[2])
		s3 += float32(xx[3] * yy[3])
	}
	for ; l < len(x); l++ {
		s0 += float32(x[l] * y[l])
	}
	return (s0 + s1) + (s2 + s3)
}
