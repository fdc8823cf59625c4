package kern

// Panic messages for programmer errors (bad sizes or short slices).
const (
	errNegDim   = "kern: negative dimension"
	errBadLdA   = "kern: bad lda"
	errBadLdB   = "kern: bad ldb"
	errBadLdC   = "kern: bad ldc"
	errShortA   = "kern: a is too short"
	errShortB   = "kern: b is too short"
	errShortC   = "kern: c is too short"
	errBadShape = "kern: inconsistent shape"
)

// Sgemm computes
//
//	C = op(A)·op(B)    if accumulate is false,
//	C += op(A)·op(B)   if accumulate is true,
//
// where op(A) is m×k and op(B) is k×n. A is stored as an m×k matrix with row
// stride lda, or as a k×m matrix when transA is true (op(A) = Aᵀ); likewise B
// is k×n with row stride ldb, or n×k when transB is true. C is m×n with row
// stride ldc. All matrices are row-major.
//
// When accumulate is false the previous contents of C are never read, so C
// may hold garbage (even NaN). When k is 0, C is set to zero (or left
// unchanged if accumulate is true).
//
// Sgemm panics with a message starting "kern: " if a dimension is negative,
// a leading dimension is smaller than the number of columns of the stored
// matrix (or smaller than 1), or a slice is too short for its matrix.
func Sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	checkedSgemm(cur().sgemm, transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
}

// gemmFunc is the signature of the implementations behind [Sgemm]. They may
// assume checked arguments and positive m, n, k.
type gemmFunc func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int)

// checkedSgemm checks the arguments as documented on [Sgemm], handles the
// empty cases and calls fn for the rest.
func checkedSgemm(fn gemmFunc, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(errNegDim)
	}
	// Stored shapes: A is ar×ac, B is br×bc.
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) {
		panic(errBadLdA)
	}
	if ldb < max(1, bc) {
		panic(errBadLdB)
	}
	if ldc < max(1, n) {
		panic(errBadLdC)
	}
	if m == 0 || n == 0 {
		return
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
		return
	}
	if len(a) < (ar-1)*lda+ac {
		panic(errShortA)
	}
	if len(b) < (br-1)*ldb+bc {
		panic(errShortB)
	}
	fn(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
}
