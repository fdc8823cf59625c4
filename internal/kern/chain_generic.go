package kern

// The chain form of the portable path, register-blocked.
//
// Each element of C is one chain of fused multiply-adds over l, and one
// chain alone runs at the latency of its fma (four or more cycles), not
// at the processor's throughput. So the micro-kernel keeps a block of
// chainRows×chainCols elements of C in local variables and advances all
// their chains by one step per iteration of l: the steps of different
// elements are independent and overlap, each loaded element of A is used
// chainCols times and each of B chainRows times, and C is read and
// written once per block instead of once per step.
//
// Where the fused multiply-add is emulated (fma.go), the micro-kernels
// (chain_emul.go) check each step with one predictable branch and fix the
// rare ones out of line; on arm64 (chain_fused.go) each step is one
// instruction.

// chainRows×chainCols is the block of the micro-kernel: 8 accumulators,
// besides the 2+4 operands of a step, fit the 16 floating-point registers
// of amd64. With wideChains (arm64: 32 registers) rows are taken 4 at a
// time first (chain4x4: 16 chains, enough to keep several FMA pipelines
// busy), the 2×4 block doing what is left.
const (
	chainRows = 2
	chainCols = 4
)

// chainGeneric computes the chain form of the canonical arithmetic,
//
//	C[i][j] (+)= Σ_l A(i, l)·B̃(l, j)   for i < m, j < n, l < k,
//
// where A(i, l) = a[i*ars+l*acs] and row l of B̃ is b[l*ldb:] (boff nil)
// or b[boff[l]:]. m, n, k are positive and the arguments have been checked.
func chainGeneric(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, boff []int, accumulate bool, c []float32, ldc int) {
	var acc [chainRows * chainCols]float32
	i := 0
	if wideChains {
		var acc4 [16]float32
		for ; i+4 <= m; i += 4 {
			ai := a[i*ars:]
			j := 0
			for ; j+4 <= n; j += 4 {
				for r := range 4 {
					if accumulate {
						copy(acc4[4*r:4*r+4], c[(i+r)*ldc+j:])
					} else {
						clear(acc4[4*r : 4*r+4])
					}
				}
				chain4x4(&acc4, ai, ars, acs, b, ldb, boff, j, k)
				for r := range 4 {
					copy(c[(i+r)*ldc+j:(i+r)*ldc+j+4], acc4[4*r:4*r+4])
				}
			}
			for ; j < n; j++ {
				for r := range 4 {
					c[(i+r)*ldc+j] = chain1(c[(i+r)*ldc+j], accumulate, k, ai[r*ars:], acs, b, ldb, boff, j)
				}
			}
		}
	}
	for ; i+chainRows <= m; i += chainRows {
		ai := a[i*ars:]
		c0 := c[i*ldc : i*ldc+n]
		c1 := c[(i+1)*ldc : (i+1)*ldc+n]
		j := 0
		for ; j+chainCols <= n; j += chainCols {
			if accumulate {
				copy(acc[0:4], c0[j:j+4])
				copy(acc[4:8], c1[j:j+4])
			} else {
				acc = [chainRows * chainCols]float32{}
			}
			chain2x4(&acc, ai, ars, acs, b, ldb, boff, j, 0, k)
			copy(c0[j:j+4], acc[0:4])
			copy(c1[j:j+4], acc[4:8])
		}
		for ; j < n; j++ {
			c0[j] = chain1(c0[j], accumulate, k, ai, acs, b, ldb, boff, j)
			c1[j] = chain1(c1[j], accumulate, k, ai[ars:], acs, b, ldb, boff, j)
		}
	}
	for ; i < m; i++ {
		ai := a[i*ars:]
		ci := c[i*ldc : i*ldc+n]
		for j := range ci {
			ci[j] = chain1(ci[j], accumulate, k, ai, acs, b, ldb, boff, j)
		}
	}
}

// bRow returns the offset in b of B̃(l, j).
func bRow(l, j, ldb int, boff []int) int {
	if boff != nil {
		return boff[l] + j
	}
	return l*ldb + j
}

// chain1 returns one element of C computed alone: the chain over l of
// A(0, l)·B̃(l, j) from c (accumulate) or +0.
func chain1(c float32, accumulate bool, k int, a []float32, acs int, b []float32, ldb int, boff []int, j int) float32 {
	if !accumulate {
		c = 0
	}
	for l := range k {
		c = fma32(a[l*acs], b[bRow(l, j, ldb, boff)], c)
	}
	return c
}

// dotGeneric computes the dot form of the canonical arithmetic,
//
//	C[i][j] (+)= Σ_l a[i*lda+l]·B̃(j, l)   for i < m, j < n, l < k,
//
// where row j of B̃ is b[j*ldb:] (boff nil) or b[boff[j]:]. m, n, k are
// positive and the arguments have been checked. Two elements of a row of
// C at a time share the loads of A; their 16 lanes each advance four at
// a time in registers (dot2x4) over the whole chunks of 16 steps, then
// over the last k%16 steps one lane at a time.
func dotGeneric(m, n, k int, a []float32, lda int, b []float32, ldb int, boff []int, accumulate bool, c []float32, ldc int) {
	row := func(j int) []float32 {
		if boff != nil {
			return b[boff[j] : boff[j]+k]
		}
		return b[j*ldb : j*ldb+k]
	}
	nch := k / 16
	for i := range m {
		x := a[i*lda : i*lda+k]
		ci := c[i*ldc : i*ldc+n]
		j := 0
		for ; j+2 <= n; j += 2 {
			y0, y1 := row(j), row(j+1)
			var s0, s1 [16]float32
			for g := 0; g < 16; g += 4 {
				dot2x4(&s0, &s1, g, x, y0, y1, 0, nch)
			}
			for l := 16 * nch; l < k; l++ {
				s0[l%16] = fma32(x[l], y0[l], s0[l%16])
				s1[l%16] = fma32(x[l], y1[l], s1[l%16])
			}
			d0, d1 := reduce16(&s0), reduce16(&s1)
			if accumulate {
				d0, d1 = ci[j]+d0, ci[j+1]+d1
			}
			ci[j], ci[j+1] = d0, d1
		}
		if j < n {
			d := dot16(x, row(j))
			if accumulate {
				d += ci[j]
			}
			ci[j] = d
		}
	}
}
