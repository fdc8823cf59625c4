package kern

// errBadOffset is the panic message for a row offset outside b.
const errBadOffset = "kern: row offset out of range"

// SgemmRows computes
//
//	C = A·B̃    if accumulate is false,
//	C += A·B̃   if accumulate is true,
//
// where A is m×k with row stride lda, C is m×n with row stride ldc, and B̃
// is the k×n matrix whose row l is b[boff[l] : boff[l]+n]. The rows of B̃
// may overlap: with boff[(ky*K)+kx] = ky*W+kx, the rows of B̃ are the
// im2col rows of a zero-padded, channel-contiguous image batch of row
// width W computed on the full padded grid, so a convolution needs no
// im2col copy ("implicit im2col"). The results are bitwise identical to
// [Sgemm] on the materialised B̃ (the chain form of the canonical
// arithmetic).
//
// SgemmRows panics like Sgemm on bad sizes, if len(boff) < k, or if a row
// does not lie inside b.
func SgemmRows(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	if !checkRows(m, n, k, a, lda, b, boff, k, n, accumulate, c, ldc) {
		return
	}
	cur().rows(m, n, k, a, lda, b, boff, accumulate, c, ldc)
}

// SgemmRowsT computes C = A·B̃ᵀ (or C += A·B̃ᵀ when accumulate is true),
// that is
//
//	C[i][j] = Σ_{l<k} a[i*lda+l] · b[boff[j]+l],
//
// for an m×k matrix A and the n×k matrix B̃ whose row j is
// b[boff[j] : boff[j]+k]. It is the weight gradient of the convolution
// computed by [SgemmRows]. The results are bitwise identical to [Sgemm]
// with transB on the materialised B̃ (the dot form of the canonical
// arithmetic). It panics like [SgemmRows], with len(boff) < n.
func SgemmRowsT(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	if !checkRows(m, n, k, a, lda, b, boff, n, k, accumulate, c, ldc) {
		return
	}
	cur().rowsT(m, n, k, a, lda, b, boff, accumulate, c, ldc)
}

// checkRows checks the arguments of SgemmRows (rows = k, width = n) and
// SgemmRowsT (rows = n, width = k), handles the empty cases and reports
// whether there is work left.
func checkRows(m, n, k int, a []float32, lda int, b []float32, boff []int, rows, width int, accumulate bool, c []float32, ldc int) bool {
	if m < 0 || n < 0 || k < 0 {
		panic(errNegDim)
	}
	if lda < max(1, k) {
		panic(errBadLdA)
	}
	if ldc < max(1, n) {
		panic(errBadLdC)
	}
	if m == 0 || n == 0 {
		return false
	}
	if len(c) < (m-1)*ldc+n {
		panic(errShortC)
	}
	if k == 0 {
		if !accumulate {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return false
	}
	if len(a) < (m-1)*lda+k {
		panic(errShortA)
	}
	if len(boff) < rows {
		panic(errShortB)
	}
	for _, o := range boff[:rows] {
		if o < 0 || o > len(b)-width {
			panic(errBadOffset)
		}
	}
	return true
}

// sgemmRowsGeneric is the portable SgemmRows: the chain form, as
// sgemmGeneric without transposes (chainGeneric).
func sgemmRowsGeneric(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	chainGeneric(m, n, k, a, lda, 1, b, 0, boff, accumulate, c, ldc)
}

// sgemmRowsTGeneric is the portable SgemmRowsT: the dot form, as
// sgemmGeneric with transB.
func sgemmRowsTGeneric(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	dotGeneric(m, n, k, a, lda, b, 0, boff, accumulate, c, ldc)
}
