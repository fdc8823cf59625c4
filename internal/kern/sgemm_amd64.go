//go:build !purego

package kern

import (
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

func init() {
	if hasAVX2FMA {
		sgemm = sgemmAVX2
		sgemmRows = sgemmRowsAVX2
		sgemmRowsT = sgemmRowsTAVX2
		impl = "avx2"
	}
}

// hasAVX2FMA reports whether the assembly kernels can run here; x/sys/cpu
// also checks that the OS saves the YMM registers.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Blocking of the AVX2 path (the GotoBLAS/BLIS loop nest, see Goto and van
// de Geijn, "Anatomy of High-Performance Matrix Multiplication", ACM TOMS
// 34(3), 2008):
//
//   - mr×nr is the register block of the micro-kernel: 6×16 uses 12 of the
//     16 YMM registers as accumulators, 2 for a row of B and 2 for
//     broadcasts of A.
//   - kc bounds the depth of one pass so that an mr×kc panel of A (6 KiB)
//     and a kc×nr panel of B (16 KiB) fit together in the 32 KiB L1 data
//     cache of this machine (AMD Zen 3, lscpu).
//   - mc bounds the rows of A packed at once: mc×kc floats (120 KiB) stay
//     in the 512 KiB L2 together with the panel of B.
const (
	mr = 6
	nr = 16
	kc = 256
	mc = 120
)

// sgemmAVX2 is [Sgemm] with the assembly micro-kernels; arguments have been
// checked and m, n, k are positive.
//
// Each element of C is computed as: per block of kc steps of k (in order),
// a float32 sum of fused multiply-adds over that block starting from zero,
// then stored (first block, not accumulating) or added to C. A·Bᵀ with
// k >= dotMinK goes to sgemmDot instead, which documents its own order.
// Either way the order depends only on the sizes and flags, so results are
// deterministic.
func sgemmAVX2(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if transB && !transA && k >= dotMinK {
		sgemmDot(m, n, k, a, lda, b, ldb, accumulate, c, ldc)
		return
	}
	ws, slot := getWorkspace()
	defer putWorkspace(ws, slot)
	ap, bp, tile := &ws.ap, &ws.bp, &ws.tile
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		add := 0
		if accumulate || pc > 0 {
			add = 1
		}
		for ic := 0; ic < m; ic += mc {
			mb := min(mc, m-ic)
			packA(ap[:], transA, a, lda, ic, pc, mb, kb)
			for jr := 0; jr < n; jr += nr {
				nb := min(nr, n-jr)
				var bptr *float32
				bstride := nr
				if !transB && nb == nr {
					// Full-width panels of an untransposed B are read
					// in place.
					bptr, bstride = &b[pc*ldb+jr], ldb
				} else {
					packB(bp[:], transB, b, ldb, pc, jr, kb, nb)
					bptr = &bp[0]
				}
				ci := ic*ldc + jr
				if nb == nr {
					// All full panels of A in one call, then the rest.
					full, h1, h2 := panels(mb)
					if full > 0 {
						kern6x16(kb, &ap[0], bptr, 4*bstride, &c[ci], 4*ldc, add, full)
					}
					if r0 := full * mr; h1 > 0 {
						kernel(h1, kb, &ap[r0*kb], bptr, 4*bstride, &c[ci+r0*ldc], 4*ldc, add)
					}
					if r0 := full*mr + h1; h2 > 0 {
						kernel(h2, kb, &ap[r0*kb], bptr, 4*bstride, &c[ci+r0*ldc], 4*ldc, add)
					}
					continue
				}
				for ir, rows := 0, 0; ir < mb; ir += rows {
					rows = panelHeight(mb, ir)
					kernel(rows, kb, &ap[ir*kb], bptr, 4*bstride, &tile[0], 4*nr, 0)
					cr := ci + ir*ldc
					for i := range rows {
						dst := c[cr+i*ldc : cr+i*ldc+nb]
						src := tile[i*nr : i*nr+nb]
						if add != 0 {
							for j, v := range src {
								dst[j] += v
							}
						} else {
							copy(dst, src)
						}
					}
				}
			}
		}
	}
}

// packA copies rows ic..ic+mb-1 and columns pc..pc+kb-1 of op(A) into dst as
// consecutive panels of the heights given by panels (mr rows, then up to
// two shorter ones): within a panel of r rows, element (i, l) is at l*r+i,
// and the panel starting at row ir starts at ir*kb.
func packA(dst []float32, transA bool, a []float32, lda, ic, pc, mb, kb int) {
	for ir, r := 0, 0; ir < mb; ir += r {
		r = panelHeight(mb, ir)
		p := dst[ir*kb : ir*kb+r*kb]
		if transA {
			// op(A)(i, l) = a[l*lda+i]: the r values of step l are
			// contiguous in a. Element moves, not copy: a memmove call
			// per 6 floats would cost more than the move.
			if r == mr {
				for l := range kb {
					src := a[(pc+l)*lda+ic+ir:][:mr:mr]
					d := p[l*mr:][:mr:mr]
					d[0], d[1], d[2], d[3], d[4], d[5] = src[0], src[1], src[2], src[3], src[4], src[5]
				}
				continue
			}
			for l := range kb {
				src := a[(pc+l)*lda+ic+ir:][:r:r]
				copy(p[l*r:][:r:r], src)
			}
			continue
		}
		for i := range r {
			src := a[(ic+ir+i)*lda+pc:]
			src = src[:kb]
			for l, v := range src {
				p[l*r+i] = v
			}
		}
	}
}

// packB copies columns jr..jr+nb-1 and rows pc..pc+kb-1 of op(B) into dst
// as a kb×nr row-major panel, padding columns nb..nr-1 with zeros.
func packB(dst []float32, transB bool, b []float32, ldb, pc, jr, kb, nb int) {
	dst = dst[:kb*nr]
	if !transB {
		for l := range kb {
			row := dst[l*nr : l*nr+nr]
			copy(row, b[(pc+l)*ldb+jr:(pc+l)*ldb+jr+nb])
			clear(row[nb:])
		}
		return
	}
	// op(B)(l, j) = b[j*ldb+l]: read each stored row once, scatter down a
	// column of the panel.
	if nb < nr {
		clear(dst)
	}
	for j := range nb {
		src := b[(jr+j)*ldb+pc:]
		src = src[:kb]
		for l, v := range src {
			dst[l*nr+j] = v
		}
	}
}

// kernel calls the micro-kernel for one panel of r rows. A switch rather
// than a table of func values keeps the go:noescape property of the assembly
// functions visible to escape analysis.
func kernel(r, k int, a, b *float32, ldb int, c *float32, ldc int, add int) {
	switch r {
	case 6:
		kern6x16(k, a, b, ldb, c, ldc, add, 1)
	case 5:
		kern5x16(k, a, b, ldb, c, ldc, add, 1)
	case 4:
		kern4x16(k, a, b, ldb, c, ldc, add, 1)
	case 3:
		kern3x16(k, a, b, ldb, c, ldc, add, 1)
	case 2:
		kern2x16(k, a, b, ldb, c, ldc, add, 1)
	default:
		kern1x16(k, a, b, ldb, c, ldc, add, 1)
	}
}

// workspace holds the packing buffers of one sgemmAVX2 call.
type workspace struct {
	ap   [mc * kc]float32 // packed rows of A: panels of mr rows, l-major
	bp   [kc * nr]float32 // one packed kc×nr panel of B
	tile [mr * nr]float32 // result of a panel that is narrower than nr
}

// workspaces is a fixed set of reusable workspaces, each claimed by at most
// one call at a time through its busy flag. A workspace is allocated the
// first time its slot is claimed and kept for the life of the process, so in
// steady state no call allocates (unlike sync.Pool, which drops its contents
// at garbage collection). The number of slots bounds the concurrent calls
// served without allocating; 64 is well above the worker count of any
// caller in this module.
var workspaces [64]struct {
	busy atomic.Bool
	ws   atomic.Pointer[workspace]
	_    [48]byte // keep slots on separate 64-byte cache lines
}

// getWorkspace claims a free workspace slot, or returns a fresh workspace and
// slot -1 when all slots are busy.
func getWorkspace() (*workspace, int) {
	for i := range workspaces {
		s := &workspaces[i]
		if s.busy.Load() || !s.busy.CompareAndSwap(false, true) {
			continue
		}
		ws := s.ws.Load()
		if ws == nil {
			ws = new(workspace)
			s.ws.Store(ws)
		}
		return ws, i
	}
	return new(workspace), -1
}

// putWorkspace releases a slot claimed by getWorkspace.
func putWorkspace(ws *workspace, slot int) {
	if slot >= 0 {
		workspaces[slot].busy.Store(false)
	}
}

// Blocking of the dot-product path, used for C = A·Bᵀ when k is at least
// dotMinK (sgemm.go): both operands are then read in place along k, so
// nothing is packed (packing Bᵀ costs as much as the product when m is
// small). k is cut into chunks of dotKC = 1024 floats (4 KiB per row) so
// that up to 6 rows of A and 3 of B stay in the 32 KiB L1 data cache and
// the rows of A of a chunk stay in L2 while all of B passes.
const dotKC = 1024

// sgemmDot computes C = A·Bᵀ (or C += A·Bᵀ) with the dot-product kernels.
// Per element the order is: per chunk of dotKC steps of k (in order) the
// fixed-tree sum of the kernel, stored (first chunk, not accumulating) or
// added to C.
func sgemmDot(m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	// Blocks of 4×3, or 6×2 when that covers the rows exactly (conv1's 6
	// output channels), so that few edge blocks with short sums remain.
	dotR, dotC := 4, 3
	if m%6 == 0 && m%4 != 0 {
		dotR, dotC = 6, 2
	}
	for pc := 0; pc < k; pc += dotKC {
		kb := min(dotKC, k-pc)
		add := 0
		if accumulate || pc > 0 {
			add = 1
		}
		k8, k4 := 4*(kb&^7), 4*kb
		offs := [3]int{0, ldb, 2 * ldb}
		for j := 0; j < n; j += dotC {
			cols := min(dotC, n-j)
			bp := &b[j*ldb+pc]
			for i := 0; i < m; i += dotR {
				rows := min(dotR, m-i)
				dot(rows, cols, k8, k4, &a[i*lda+pc], 4*lda, bp, &offs[0], &c[i*ldc+j], 4*ldc, add)
			}
		}
	}
}

// sgemmRowsAVX2 is [SgemmRows] on the packed path: A is packed as in
// sgemmAVX2 and the rows of B̃ are read in place through the offset table
// by the kern<r>x16t kernels (the same arithmetic as kern<r>x16), so the
// results equal sgemmAVX2 on the materialised B̃.
func sgemmRowsAVX2(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	ws, slot := getWorkspace()
	defer putWorkspace(ws, slot)
	ap, bp, tile := &ws.ap, &ws.bp, &ws.tile
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		add := 0
		if accumulate || pc > 0 {
			add = 1
		}
		offs := boff[pc : pc+kb]
		for ic := 0; ic < m; ic += mc {
			mb := min(mc, m-ic)
			packA(ap[:], false, a, lda, ic, pc, mb, kb)
			for jr := 0; jr < n; jr += nr {
				nb := min(nr, n-jr)
				ci := ic*ldc + jr
				if nb == nr {
					full, h1, h2 := panels(mb)
					if full > 0 {
						kern6x16t(kb, &ap[0], &b[jr], &offs[0], &c[ci], 4*ldc, add, full)
					}
					if r0 := full * mr; h1 > 0 {
						kernelT(h1, kb, &ap[r0*kb], &b[jr], &offs[0], &c[ci+r0*ldc], 4*ldc, add)
					}
					if r0 := full*mr + h1; h2 > 0 {
						kernelT(h2, kb, &ap[r0*kb], &b[jr], &offs[0], &c[ci+r0*ldc], 4*ldc, add)
					}
					continue
				}
				// Narrow last panel: gather it, then as in sgemmAVX2.
				for l, o := range offs {
					row := bp[l*nr : l*nr+nr]
					copy(row, b[o+jr:o+jr+nb])
					clear(row[nb:])
				}
				for ir, rows := 0, 0; ir < mb; ir += rows {
					rows = panelHeight(mb, ir)
					kernel(rows, kb, &ap[ir*kb], &bp[0], 4*nr, &tile[0], 4*nr, 0)
					cr := ci + ir*ldc
					for i := range rows {
						dst := c[cr+i*ldc : cr+i*ldc+nb]
						src := tile[i*nr : i*nr+nb]
						if add != 0 {
							for j, v := range src {
								dst[j] += v
							}
						} else {
							copy(dst, src)
						}
					}
				}
			}
		}
	}
}

// kernelT calls the table micro-kernel for one panel of r rows.
func kernelT(r, k int, a, b *float32, boff *int, c *float32, ldc int, add int) {
	switch r {
	case 6:
		kern6x16t(k, a, b, boff, c, ldc, add, 1)
	case 5:
		kern5x16t(k, a, b, boff, c, ldc, add, 1)
	case 4:
		kern4x16t(k, a, b, boff, c, ldc, add, 1)
	case 3:
		kern3x16t(k, a, b, boff, c, ldc, add, 1)
	case 2:
		kern2x16t(k, a, b, boff, c, ldc, add, 1)
	default:
		kern1x16t(k, a, b, boff, c, ldc, add, 1)
	}
}

// sgemmRowsTAVX2 is [SgemmRowsT]: sgemmAVX2's dot-product path with the
// rows of B̃ taken from the offset table. It uses the dot kernels for every
// k (sgemmAVX2 switches to the packed path below dotMinK), so its results
// equal sgemmAVX2's on the materialised B̃ when k >= dotMinK.
func sgemmRowsTAVX2(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	dotR, dotC := 4, 3
	if m%6 == 0 && m%4 != 0 {
		dotR, dotC = 6, 2
	}
	for pc := 0; pc < k; pc += dotKC {
		kb := min(dotKC, k-pc)
		add := 0
		if accumulate || pc > 0 {
			add = 1
		}
		k8, k4 := 4*(kb&^7), 4*kb
		bp := &b[pc]
		for j := 0; j < n; j += dotC {
			cols := min(dotC, n-j)
			for i := 0; i < m; i += dotR {
				rows := min(dotR, m-i)
				dot(rows, cols, k8, k4, &a[i*lda+pc], 4*lda, bp, &boff[j], &c[i*ldc+j], 4*ldc, add)
			}
		}
	}
}

// panels splits mb rows of A into full panels of mr rows followed by up to
// two shorter panels of h1 >= h2 rows. A remainder of 1 to 4 rows is merged
// with the last full panel and split evenly (16 = 6+5+5 rather than
// 6+6+4): a panel of 4 or fewer rows has at most 8 accumulators, just
// enough to cover the FMA latency (4 cycles, 2 FMAs per cycle on Zen 3),
// so it has no slack; measured +3% on conv2's forward product (m = 16).
// Which kernel computes a row does not change its value (the same fused
// multiply-adds in the same order), so the split does not affect results.
func panels(mb int) (full, h1, h2 int) {
	full, rem := mb/mr, mb%mr
	switch {
	case rem == 0:
		return full, 0, 0
	case full == 0 || rem == mr-1:
		return full, rem, 0
	default:
		t := mr + rem
		return full - 1, (t + 1) / 2, t / 2
	}
}

// panelHeight is the height of the panel of packA starting at row ir.
func panelHeight(mb, ir int) int {
	full, h1, h2 := panels(mb)
	switch {
	case ir < full*mr:
		return mr
	case ir == full*mr:
		return h1
	default:
		return h2
	}
}
