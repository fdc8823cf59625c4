//go:build !purego

package kern

import (
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// avx2Path is the AVX2/FMA assembly path.
var avx2Path = &path{name: "avx2", sgemm: sgemmAVX2, rows: sgemmRowsAVX2, rowsT: sgemmRowsTAVX2}

// archPaths returns the vector paths this processor can run, fastest
// first, and why the others cannot run.
func archPaths() ([]*path, map[string]string) {
	var ps []*path
	why := map[string]string{}
	if hasAVX512 {
		ps = append(ps, avx512Path)
	} else {
		why["avx512"] = "the processor lacks AVX-512 F, DQ or VL, or AVX2/FMA (or the OS does not save ZMM registers)"
	}
	if hasAVX2FMA {
		ps = append(ps, avx2Path)
	} else {
		why["avx2"] = "the processor lacks AVX2 or FMA (or the OS does not save YMM registers)"
	}
	return ps, why
}

// hasAVX2FMA reports whether the AVX2 kernels can run here; x/sys/cpu
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
// C = A·Bᵀ (the dot form) goes to sgemmDot. Everything else is the chain
// form: k is cut into blocks of kc steps, and the micro-kernel's
// accumulators start each block from the C the previous block stored (or
// from C itself when accumulating), so every element is one unbroken
// chain of fused multiply-adds over l in order.
func sgemmAVX2(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if transB && !transA {
		offs := [3]int{0, ldb, 2 * ldb}
		sgemmDot(m, n, k, a, lda, b, offs[:], ldb, accumulate, c, ldc)
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
					narrowPanel(rows, kb, &ap[ir*kb], bptr, 4*bstride, tile, c[ci+ir*ldc:], ldc, nb, add)
				}
			}
		}
	}
}

// narrowPanel runs the micro-kernel for one panel of rows×nb elements of
// C (nb < nr) through tile: the tile starts as a copy of those elements
// when add != 0, so the chain continues from them.
func narrowPanel(rows, kb int, a, b *float32, ldb int, tile *[mr * nr]float32, c []float32, ldc, nb, add int) {
	if add != 0 {
		for i := range rows {
			copy(tile[i*nr:i*nr+nb], c[i*ldc:i*ldc+nb])
		}
	}
	kernel(rows, kb, a, b, ldb, &tile[0], 4*nr, add)
	for i := range rows {
		copy(c[i*ldc:i*ldc+nb], tile[i*nr:i*nr+nb])
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
	ap   [mc * kc]float32    // packed rows of A: panels of mr rows, l-major
	bp   [kc * nr512]float32 // one packed panel of B: kc×nr (AVX2) or kc×nr512 (AVX-512)
	tile [mr * nr]float32    // result of a panel that is narrower than nr
	// lanes holds the lanes of a chunked dot-form product (dotChunks):
	// 8192 floats, the 16 lanes of 512 elements of C.
	lanes [8192]float32
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
// slot -1 when all slots are busy. It tries first the slot numbered after
// the processor it runs on (processor), so that each core keeps reusing the
// workspace whose lines it holds: taking the first free slot, the two
// participants of a training step on two cores took slot 0 in turn, and
// the workspace (up to ~220 KB of packed panels and lanes) moved from one
// core's cache to the other's several hundred times per 3,750-step epoch
// at batch 16 (instrumented count, docs/speed.md).
func getWorkspace() (*workspace, int) {
	h := max(0, processor())
	for j := range workspaces {
		i := (h + j) % len(workspaces)
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

// hasRDTSCP reports whether the processor has RDTSCP (CPUID leaf
// 0x80000001, EDX bit 27), which cpuHint uses.
var hasRDTSCP = func() bool {
	if maxExt, _, _, _ := cpuidRegs(0x80000000, 0); maxExt < 0x80000001 {
		return false
	}
	_, _, _, edx := cpuidRegs(0x80000001, 0)
	return edx&(1<<27) != 0
}()

// cpuidRegs executes CPUID with EAX = leaf and ECX = sub.
//
//go:noescape
func cpuidRegs(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// cpuHint returns the number of the processor running the caller on Linux
// (RDTSCP's IA32_TSC_AUX, low 12 bits; elsewhere whatever the system keeps
// there). Only a hint: the caller may have moved by the time it uses it.
// It must only be called if hasRDTSCP.
//
//go:noescape
func cpuHint() uint32

// putWorkspace releases a slot claimed by getWorkspace.
func putWorkspace(ws *workspace, slot int) {
	if slot >= 0 {
		workspaces[slot].busy.Store(false)
	}
}

// tailMask holds the lane masks of the dot kernels: &tailMask[16-t] is the
// mask of a last block of t < 16 floats (t lanes of -1, then 0).
var tailMask = [32]int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// sgemmDot computes C = A·B̃ᵀ (or C += A·B̃ᵀ) in the dot form with the dot
// kernels, where row j of B̃ starts at b[j*ldb] (Sgemm; offs holds the
// offsets 0, ldb, 2ldb of a block's rows) or, with ldb == 0, at
// b[offs[j]] (SgemmRowsT). Both operands are read in place along k, so
// nothing is packed (packing Bᵀ costs as much as the product when m is
// small). A long k is cut into chunks when the lanes of the whole product
// fit the workspace (see dotChunk), the kernels carrying each lane from
// chunk to chunk, so the arithmetic is the same.
func sgemmDot(m, n, k int, a []float32, lda int, b []float32, offs []int, ldb int, accumulate bool, c []float32, ldc int) {
	// Blocks of 2×3, or 3×2 when that covers the rows exactly.
	dotR, dotC := 2, 3
	if m%3 == 0 && m%2 != 0 {
		dotR, dotC = 3, 2
	}
	dotChunks(m, n, k, dotR, dotC, accumulate, func(pc, kb, mode, i, j, rows, cols int, lanes *float32, add int) {
		k16 := 64 * (kb / 16)
		var mask *int32
		if t := kb % 16; t != 0 {
			mask = &tailMask[16-t]
		}
		bp, op := dotB(b, offs, ldb, j, pc)
		dot(rows, cols, k16, mask, &a[i*lda+pc], 4*lda, bp, op, &c[i*ldc+j], 4*ldc, add, lanes, mode)
	})
}

// dotB returns the first row of B̃ for the block of columns from j, at step
// pc of k, and the offsets of its rows (see sgemmDot).
func dotB(b []float32, offs []int, ldb, j, pc int) (*float32, *int) {
	if ldb == 0 {
		return &b[pc], &offs[j]
	}
	return &b[j*ldb+pc], &offs[0]
}

// dotKC is the chunk of k, in floats, of a chunked dot-form product: rows
// of 4 KiB, so that the rows of A and B̃ a block of the AVX-512 path reads
// (up to 6 and 4, for LeNet-5's conv1 weight gradient) stay in a 48 KiB L1
// data cache while every block of columns passes.
const dotKC = 1024

// dotChunked reports whether dotChunks splits k for blocks of r×c: when k
// is longer than two chunks and the blocks' lanes fit the workspace's lane
// buffer.
func dotChunked(m, n, k, r, c int) bool {
	blocks := ((m + r - 1) / r) * ((n + c - 1) / c)
	return k > 2*dotKC && blocks*r*c*16 <= len(workspace{}.lanes)
}

// chunkMode is the dot kernels' mode for the chunk [pc, pc+kb) of k
// floats: bit 0 (continue the lanes from the lane buffer) on every chunk
// but the first, bit 1 (store them there instead of into C) on every chunk
// but the last.
func chunkMode(pc, kb, k int) int {
	mode := 0
	if pc > 0 {
		mode |= 1
	}
	if pc+kb < k {
		mode |= 2
	}
	return mode
}

// dotChunks calls block for every block of C (rows×cols at row i, column
// j, in blocks of r×c: columns outer, rows inner) and every chunk of k
// (pc, kb), chunks outer, with the kernel mode (bit 0: continue the lanes
// from the lane buffer; bit 1: store them there instead of into C) and the
// add flag for C. k is chunked when it is longer than two chunks and the
// blocks' lanes fit the workspace's lane buffer; otherwise there is one
// chunk and no lane buffer (lanes nil, mode 0).
func dotChunks(m, n, k, r, c int, accumulate bool, block func(pc, kb, mode, i, j, rows, cols int, lanes *float32, add int)) {
	add := 0
	if accumulate {
		add = 1
	}
	chunk := k
	var lanes []float32
	if dotChunked(m, n, k, r, c) {
		ws, slot := getWorkspace()
		defer putWorkspace(ws, slot)
		lanes = ws.lanes[:]
		chunk = dotKC
	}
	for pc := 0; pc < k; pc += chunk {
		kb := min(chunk, k-pc)
		mode := chunkMode(pc, kb, k)
		blk := 0
		for j := 0; j < n; j += c {
			cols := min(c, n-j)
			for i := 0; i < m; i += r {
				rows := min(r, m-i)
				var lp *float32
				if lanes != nil {
					lp = &lanes[blk*r*c*16]
					blk++
				}
				block(pc, kb, mode, i, j, rows, cols, lp, add)
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
					narrowPanel(rows, kb, &ap[ir*kb], &bp[0], 4*nr, tile, c[ci+ir*ldc:], ldc, nb, add)
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
// rows of B̃ taken from the offset table.
func sgemmRowsTAVX2(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	sgemmDot(m, n, k, a, lda, b, boff, 0, accumulate, c, ldc)
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
