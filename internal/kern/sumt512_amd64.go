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
// in L1; A is read in place (no packing). One call covers a row of full
// tiles when C has at most 6 rows, else the full panels of a column of
// tiles; with accumulate set, the first term too is added to C. The
// products are the chain form the c512 kernels of
// [Sgemm] compute (the same fused multiply-adds from +0, in the same
// order), and the sums those of [Sum] and [Add].
func sumTAVX512(m, n int, terms []TProduct, c []float32, ldc int, accumulate bool) {
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
		if t0 > 0 || accumulate {
			add = 1
		}
		if m <= mr {
			// one row of tiles: a call for the full ones, one for the rest
			if full > 0 {
				sum512(m, 4, &d[0], len(ts), add, 0, 0, &c[0], 4*ldc, ^uint64(0), full, 0, 4*nr512, 4*nr512)
			}
			if rest > 0 {
				j := full * nr512
				sum512(m, v, &d[0], len(ts), add, 0, 4*j, &c[j], 4*ldc, cols, 1, 0, 0, 0)
			}
			continue
		}
		// Columns of tiles: a column's B (k×64 floats per term) stays
		// in L1 while its row panels run, a call for the full panels
		// and one for the last rows.
		panels, last := m/mr, m%mr
		for j := 0; j < n; j += nr512 {
			cm, vj := ^uint64(0), 4
			if j+nr512 > n {
				cm, vj = cols, v
			}
			if panels > 0 {
				sum512(mr, vj, &d[0], len(ts), add, 0, 4*j, &c[j], 4*ldc, cm, panels, 4*mr, 0, 4*mr*ldc)
			}
			if last > 0 {
				i := panels * mr
				sum512(last, vj, &d[0], len(ts), add, 4*i, 4*j, &c[i*ldc+j], 4*ldc, cm, 1, 0, 0, 0)
			}
		}
	}
}
