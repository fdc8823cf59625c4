//go:build !purego

package kern

// sumTerm is a term of [SumTProducts] as the s512 kernels read it (five
// words; the kernels depend on this layout): A's and B's first elements
// (nil when k = 0), their row strides in bytes and the steps.
type sumTerm struct {
	a   *float32
	lda int
	b   *float32
	ldb int
	k   int
}

// sumTermsPerCall is how many terms one s512 call handles; more terms are
// added by further calls with add set.
const sumTermsPerCall = 8

// sumTAVX512 is [SumTProducts] with the s512 kernels: tiles of up to 6
// rows and 64 columns (the last, narrower tile of a row masked), each
// computed for every term and added to C in the terms' order while it is
// in L1; A is read in place (no packing) and one call covers a whole row
// of full tiles. The products are the chain form the c512 kernels of
// [Sgemm] compute (the same fused multiply-adds from +0, in the same
// order), and the sums those of [Sum] and [Add].
func sumTAVX512(m, n int, terms []TProduct, c []float32, ldc int) {
	var d [sumTermsPerCall]sumTerm
	full, rest := n/nr512, n%nr512
	cols, v := colMask(rest)
	for t0 := 0; t0 < len(terms); t0 += len(d) {
		ts := terms[t0:min(len(terms), t0+len(d))]
		for s, t := range ts {
			d[s] = sumTerm{lda: 4 * t.Lda, ldb: 4 * t.Ldb, k: t.K}
			if t.K > 0 {
				d[s].a, d[s].b = &t.A[0], &t.B[0]
			}
		}
		add := 0
		if t0 > 0 {
			add = 1
		}
		for i := 0; i < m; i += mr {
			r := min(mr, m-i)
			if full > 0 {
				sum512(r, 4, &d[0], len(ts), add, 4*i, 0, &c[i*ldc], 4*ldc, ^uint64(0), full)
			}
			if rest > 0 {
				j := full * nr512
				sum512(r, v, &d[0], len(ts), add, 4*i, 4*j, &c[i*ldc+j], 4*ldc, cols, 1)
			}
		}
	}
}
