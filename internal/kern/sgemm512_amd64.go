//go:build !purego

package kern

import "golang.org/x/sys/cpu"

// avx512Path is the AVX-512 assembly path. The element-wise kernels are
// the AVX2 ones (vec): they are bound by memory, not by vector width.
var avx512Path = &path{name: "avx512", sgemm: sgemmAVX512, rows: sgemmRowsAVX512, rowsT: sgemmRowsTAVX512, sumT: sumTAVX512}

// hasAVX512 reports whether the AVX-512 kernels can run here: AVX-512 F
// (ZMM registers, masks, embedded broadcasts), DQ (VEXTRACTF32X8), VL
// (EVEX forms of the 128/256-bit instructions on X16-X31), BMI2 (SHLX in
// the pooling kernel) and the AVX2 path's requirements. x/sys/cpu also checks
// that the OS saves the ZMM and mask registers.
var hasAVX512 = hasAVX2FMA && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL && cpu.X86.HasBMI2

// Blocking of the AVX-512 path: the same loop nest as the AVX2 path
// (sgemmAVX2), with micro-kernels of up to mr = 6 rows (as the AVX2 path,
// so packA and panels serve both) and up to nr512 = 64 columns (four ZMM
// registers per row: 24 accumulators, 4 for B, 2 for broadcasts of A, of
// the 32). A narrower last panel of columns uses a kernel with fewer
// vectors and masks off the columns past n, so B is read in place and C
// written directly even there.
const nr512 = 64

// colMask returns the column mask of a panel of nb <= 64 columns and the
// number of 16-column vectors it needs.
func colMask(nb int) (uint64, int) {
	if nb >= 64 {
		return ^uint64(0), 4
	}
	return 1<<nb - 1, (nb + 15) / 16
}

// sgemmAVX512 is [Sgemm] with the AVX-512 kernels; arguments have been
// checked and m, n, k are positive. It computes what sgemmAVX2 computes,
// in the same way (chain form in k-blocks continued from C, dot form for
// C = A·Bᵀ).
func sgemmAVX512(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if transB && !transA {
		offs := [6]int{0, ldb, 2 * ldb, 3 * ldb, 4 * ldb, 5 * ldb}
		sgemmDot512(m, n, k, a, lda, b, offs[:], ldb, accumulate, c, ldc)
		return
	}
	ws, slot := getWorkspace()
	defer putWorkspace(ws, slot)
	ap, bp := &ws.ap, &ws.bp
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		add := 0
		if accumulate || pc > 0 {
			add = 1
		}
		for ic := 0; ic < m; ic += mc {
			mb := min(mc, m-ic)
			packA512(ap[:], transA, a, lda, ic, pc, mb, kb)
			for jr := 0; jr < n; jr += nr512 {
				nb := min(nr512, n-jr)
				cols, v := colMask(nb)
				var bptr *float32
				bstride := nr512
				if !transB {
					bptr, bstride = &b[pc*ldb+jr], ldb
				} else {
					packB512(bp[:], b, ldb, pc, jr, kb, nb)
					bptr = &bp[0]
				}
				ci := ic*ldc + jr
				full, h1, h2 := panels(mb)
				if full > 0 {
					chain512(mr, v, kb, &ap[0], bptr, 4*bstride, &c[ci], 4*ldc, add, full, cols)
				}
				if r0 := full * mr; h1 > 0 {
					chain512(h1, v, kb, &ap[r0*kb], bptr, 4*bstride, &c[ci+r0*ldc], 4*ldc, add, 1, cols)
				}
				if r0 := full*mr + h1; h2 > 0 {
					chain512(h2, v, kb, &ap[r0*kb], bptr, 4*bstride, &c[ci+r0*ldc], 4*ldc, add, 1, cols)
				}
			}
		}
	}
}

// packB512 copies columns jr..jr+nb-1 and rows pc..pc+kb-1 of Bᵀ (op(B)
// for a transposed B) into dst as a kb×nr512 row-major panel (the columns
// past nb are not read by the masked kernels and stay as they are).
func packB512(dst []float32, b []float32, ldb, pc, jr, kb, nb int) {
	dst = dst[:kb*nr512]
	for j := range nb {
		src := b[(jr+j)*ldb+pc:]
		src = src[:kb]
		for l, v := range src {
			dst[l*nr512+j] = v
		}
	}
}

// sgemmRowsAVX512 is [SgemmRows] on the AVX-512 packed path: the rows of
// B̃ are read in place through the offset table by the t kernels.
func sgemmRowsAVX512(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	ws, slot := getWorkspace()
	defer putWorkspace(ws, slot)
	ap := &ws.ap
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
			for jr := 0; jr < n; jr += nr512 {
				nb := min(nr512, n-jr)
				cols, v := colMask(nb)
				ci := ic*ldc + jr
				full, h1, h2 := panels(mb)
				if full > 0 {
					chain512t(mr, v, kb, &ap[0], &b[jr], &offs[0], &c[ci], 4*ldc, add, full, cols)
				}
				if r0 := full * mr; h1 > 0 {
					chain512t(h1, v, kb, &ap[r0*kb], &b[jr], &offs[0], &c[ci+r0*ldc], 4*ldc, add, 1, cols)
				}
				if r0 := full*mr + h1; h2 > 0 {
					chain512t(h2, v, kb, &ap[r0*kb], &b[jr], &offs[0], &c[ci+r0*ldc], 4*ldc, add, 1, cols)
				}
			}
		}
	}
}

// sgemmRowsTAVX512 is [SgemmRowsT] with the AVX-512 dot kernels.
func sgemmRowsTAVX512(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int) {
	sgemmDot512(m, n, k, a, lda, b, boff, 0, accumulate, c, ldc)
}

// sgemmDot512 is sgemmDot with the AVX-512 dot kernels: one ZMM register
// per element of C, blocks of 4×6 when the 10 rows a block reads fit in
// 40 KiB (k <= dotKC floats: 4 rows of A and 6 of B, 10 loads for 24
// fused multiply-adds), else 4×4 (8 loads for 16), or 6×4 when that
// covers the rows exactly (conv1's 6 output channels; 6.6 % faster than
// the 6×3 blocks before it on conv1's weight gradient). Measured on the
// AVX-512 machine of docs/speed.md: conv2's weight gradient in shards of
// 8 images (k = 800) +7 % with 4×6; in shards of 16 (k = 1600) 4×6 was
// 3 % slower (not significant) unchunked, and 4×6 blocks over two chunks
// of k (dotHalves512) 6 % faster than unchunked 4×4. offs holds the
// offsets of 6 consecutive rows (ldb != 0) or the table (ldb == 0).
func sgemmDot512(m, n, k int, a []float32, lda int, b []float32, offs []int, ldb int, accumulate bool, c []float32, ldc int) {
	dotR, dotC := 4, 4
	if k <= dotKC {
		dotC = 6
		if n%6 != 0 && n%5 == 0 {
			// 4×5 blocks cover n exactly (fc3's 10 outputs: one call
			// per row of blocks, no narrower last block).
			dotC = 5
		}
	}
	if m%6 == 0 && m%4 != 0 {
		dotR, dotC = 6, 4
	}
	if dotR == 4 && k > dotKC && k <= 2*dotKC && (m+dotR)*6*16 <= len(workspace{}.lanes) {
		dotHalves512(m, n, k, dotR, 6, a, lda, b, offs, ldb, accumulate, c, ldc)
		return
	}
	if !dotChunked(m, n, k, dotR, dotC) {
		dotRows512(m, n, k, dotR, dotC, a, lda, b, offs, ldb, accumulate, c, ldc)
		return
	}
	dotChunks(m, n, k, dotR, dotC, accumulate, func(pc, kb, mode, i, j, rows, cols int, lanes *float32, add int) {
		bp, op := dotB(b, offs, ldb, j, pc)
		dot512(rows, cols, 64*(kb/16), uint64(1)<<(kb%16)-1, &a[i*lda+pc], 4*lda, bp, op, &c[i*ldc+j], 4*ldc, add, lanes, mode)
	})
}

// dotRows512 is sgemmDot512 on an unchunked k with blocks of r×c: one call
// of the panel kernel p512x<rows>x<c> per row of blocks (instead of one
// call per block: the calls cost as much as the arithmetic in the small
// fully connected products), and d512 for the last, narrower block of the
// row. Rows of blocks outer, so the rows of A a panel reads stay in L1.
func dotRows512(m, n, k, r, c int, a []float32, lda int, b []float32, offs []int, ldb int, accumulate bool, cm []float32, ldc int) {
	add := 0
	if accumulate {
		add = 1
	}
	k16, tail := 64*(k/16), uint64(1)<<(k%16)-1
	full := n / c
	// The step from one block of B̃ to the next: through the table
	// (ldb == 0) or along B's rows.
	bstep, offstep := 4*c*ldb, 0
	if ldb == 0 {
		bstep, offstep = 0, 8*c
	}
	if m%r == 0 && n%c == 0 && m/r > full {
		// More blocks down than across: a column of blocks per call
		// (fc3's forward product, 16×10: 2 calls instead of 4).
		for j := 0; j < n; j += c {
			bp, op := dotB(b, offs, ldb, j, 0)
			panel512(r, c, k16, tail, &a[0], 4*lda, bp, op, &cm[j], 4*ldc, add, nil, 0, m/r, 4*r*lda, 0, 0, 4*r*ldc)
		}
		return
	}
	for i := 0; i < m; i += r {
		rows := min(r, m-i)
		if full > 0 {
			panel512(rows, c, k16, tail, &a[i*lda], 4*lda, &b[0], &offs[0], &cm[i*ldc], 4*ldc, add, nil, 0, full, 0, bstep, offstep, 4*c)
		}
		if j := full * c; j < n {
			bp, op := dotB(b, offs, ldb, j, 0)
			dot512(rows, n-j, k16, tail, &a[i*lda], 4*lda, bp, op, &cm[i*ldc+j], 4*ldc, add, nil, 0)
		}
	}
}

// dotHalves512 is sgemmDot512 for dotKC < k <= 2*dotKC in two chunks of k
// (the first a multiple of 16 floats, so each lane keeps its steps; three
// or four chunks measured no different on conv2's weight gradient) with
// blocks of r×c: for each block of c columns, the first chunk of every
// block of rows, its lanes stored in a small lane buffer that stays in
// L1, then the second chunk from those lanes; a column of blocks per call
// of the panel kernel. The rows a block reads in one chunk (r+c rows of at
// most dotKC floats) fit in L1 with the lanes, where the unchunked rows of
// conv2's weight gradient in shards of 16 images (4+4 rows of 1600
// floats, 51 KB) did not.
func dotHalves512(m, n, k, r, c int, a []float32, lda int, b []float32, offs []int, ldb int, accumulate bool, cm []float32, ldc int) {
	add := 0
	if accumulate {
		add = 1
	}
	ws, slot := getWorkspace()
	defer putWorkspace(ws, slot)
	lanes := ws.lanes[:]
	kc := 16 * ((k + 31) / 32)
	full := m / r
	for j := 0; j < n; j += c {
		cols := min(c, n-j)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			mode := chunkMode(pc, kb, k)
			k16, tail := 64*(kb/16), uint64(1)<<(kb%16)-1
			bp, op := dotB(b, offs, ldb, j, pc)
			if full > 0 && cols >= 4 {
				panel512(r, cols, k16, tail, &a[pc], 4*lda, bp, op, &cm[j], 4*ldc, add, &lanes[0], mode, full, 4*r*lda, 0, 0, 4*r*ldc)
			} else {
				for q := range full {
					dot512(r, cols, k16, tail, &a[q*r*lda+pc], 4*lda, bp, op, &cm[q*r*ldc+j], 4*ldc, add, &lanes[q*r*cols*16], mode)
				}
			}
			if i := full * r; i < m {
				dot512(m-i, cols, k16, tail, &a[i*lda+pc], 4*lda, bp, op, &cm[i*ldc+j], 4*ldc, add, &lanes[full*r*cols*16], mode)
			}
		}
	}
}

// packA512 is packA with the panels of a transposed A copied by packT512
// (a masked vector load and store per step of k instead of r element
// moves in Go: packing was a third of the time of the fully connected
// layers' weight gradients, fc2_dW and fc3_dW, whose k is the shard's 16
// or 8 images).
func packA512(dst []float32, transA bool, a []float32, lda, ic, pc, mb, kb int) {
	if !transA {
		for ir, r := 0, 0; ir < mb; ir += r {
			r = panelHeight(mb, ir)
			p := dst[ir*kb : ir*kb+r*kb]
			_ = a[(ic+ir+r-1)*lda+pc+kb-1]
			packN512(kb, &a[(ic+ir)*lda+pc], 4*lda, &p[0], r, &scatterIdx[r][0])
		}
		return
	}
	for ir, r := 0, 0; ir < mb; ir += r {
		r = panelHeight(mb, ir)
		p := dst[ir*kb : ir*kb+r*kb]
		// The last of the kb rows read ends at column ic+ir+r-1 of row
		// pc+kb-1 (checked here, as packA's slicing would).
		_ = a[(pc+kb-1)*lda+ic+ir+r-1]
		packT512(kb, &a[pc*lda+ic+ir], 4*lda, &p[0], r)
	}
}

// scatterIdx[r] holds 0, r, 2r, ..., 15r: where packN512 scatters the 16
// floats of a row, in floats.
var scatterIdx = func() (t [mr + 1][16]int32) {
	for r := range t {
		for q := range t[r] {
			t[r][q] = int32(q * r)
		}
	}
	return t
}()
