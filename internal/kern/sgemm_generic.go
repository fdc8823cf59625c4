package kern

// sgemmGeneric is the portable implementation of [Sgemm]; arguments have
// been checked and m, n, k are all positive.
//
// Every element of C is accumulated in float32 over l = 0, 1, ..., k-1 in
// that order, so the result depends only on the inputs, sizes and flags.
func sgemmGeneric(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if !transB {
		// Row of C += a(i,l) * row l of B: the inner loop is a saxpy over
		// contiguous memory.
		for i := range m {
			ci := c[i*ldc : i*ldc+n]
			if !accumulate {
				clear(ci)
			}
			for l := range k {
				var av float32
				if transA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				bl := b[l*ldb : l*ldb+n]
				for j, bv := range bl {
					ci[j] += av * bv
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
					s += a[l*lda+i] * bv
				}
			} else {
				ai := a[i*lda : i*lda+k]
				for l, bv := range bj {
					s += ai[l] * bv
				}
			}
			if accumulate {
				ci[j] += s
			} else {
				ci[j] = s
			}
		}
	}
}
