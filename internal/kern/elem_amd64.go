//go:build !purego

package kern

// The vector versions handle the longest prefix whose length is a multiple of
// 8 (one YMM register) and return its length; the callers finish the rest
// with the generic loops. Without AVX2 they handle nothing.

// vecElem reports whether the element-wise kernels may use their AVX2
// versions: on every vector path (avx2, avx512), not on the generic one.
func vecElem() bool { return cur() != genericPath }

func addBiasAsm(x []float32, bias float32, relu bool) int {
	n := len(x) &^ 7
	if !vecElem() || n == 0 {
		return 0
	}
	r := 0
	if relu {
		r = 1
	}
	addBiasAVX2(&x[0], n, bias, r)
	return n
}

func addBiasVecAsm(x, bias []float32, relu bool) int {
	n := len(x) &^ 7
	if !vecElem() || n == 0 {
		return 0
	}
	r := 0
	if relu {
		r = 1
	}
	addBiasVecAVX2(&x[0], &bias[0], n, r)
	return n
}

func reluMaskAsm(d, y []float32) int {
	n := len(d) &^ 7
	if !vecElem() || n == 0 {
		return 0
	}
	reluMaskAVX2(&d[0], &y[0], n)
	return n
}

// addBiasAVX2 does AddBias on x[0:n]; n is a positive multiple of 8.
//
//go:noescape
func addBiasAVX2(x *float32, n int, bias float32, relu int)

// addBiasVecAVX2 does AddBiasVec on x[0:n], bias[0:n]; n is a positive
// multiple of 8.
//
//go:noescape
func addBiasVecAVX2(x, bias *float32, n int, relu int)

// reluMaskAVX2 does ReLUMask on d[0:n], y[0:n]; n is a positive multiple
// of 8.
//
//go:noescape
func reluMaskAVX2(d, y *float32, n int)

// copyRowsAsm and addRowsAsm run copyRows and addRows with AVX2 when
// available (bounds already checked by the caller) and report whether they
// did.
func copyRowsAsm(dst, src []float32, blocks, dblock, sblock, rows, dstride, sstride, width int) bool {
	if !vecElem() {
		return false
	}
	rowsAVX2(&dst[0], &src[0], blocks, 4*dblock, 4*sblock, rows, 4*dstride, 4*sstride, width, 0)
	return true
}

func addRowsAsm(dst, src []float32, blocks, dblock, sblock, rows, dstride, sstride, width int) bool {
	if !vecElem() {
		return false
	}
	rowsAVX2(&dst[0], &src[0], blocks, 4*dblock, 4*sblock, rows, 4*dstride, 4*sstride, width, 1)
	return true
}

// rowsAVX2 copies (add == 0) or adds (add != 0) blocks×rows segments of
// width floats from src to dst; strides are in bytes, blocks, rows and width
// are positive.
//
//go:noescape
func rowsAVX2(dst, src *float32, blocks, dblock, sblock, rows, dstride, sstride, width, add int)

// maxPool2Asm runs MaxPool2Planes with AVX-512 (all n planes in one
// call), or plane by plane with AVX2 when the rows have at least 4
// outputs, and reports whether it did.
func maxPool2Asm(dst []float32, arg []int32, src []float32, n, ph, pw, ld, sstride, dstride int, bias float32, relu bool, base int32) bool {
	if !vecElem() || pw < 4 && cur() != avx512Path {
		return false
	}
	r := 0
	if relu {
		r = 1
	}
	if cur() == avx512Path {
		if ld+pw <= 16 {
			// two rows of outputs per group of 16 lanes (conv2's planes)
			var tab [16]int32
			for i := range pw {
				tab[i], tab[pw+i] = int32(2*i), int32(2*ld+2*i)
			}
			maxPool2AVX512x2(&dst[0], &arg[0], &src[0], ph, pw, ld, bias, r, base, n, sstride, dstride, &tab[0])
			return true
		}
		maxPool2AVX512(&dst[0], &arg[0], &src[0], ph, pw, ld, bias, r, base, n, sstride, dstride)
		return true
	}
	for q := range n {
		d, a, sp, b := &dst[q*dstride], &arg[q*dstride], &src[q*sstride], base+int32(q*sstride)
		if pw >= 8 {
			maxPool2AVX2x8(d, a, sp, ph, pw, ld, bias, r, b)
		} else {
			maxPool2AVX2(d, a, sp, ph, pw, ld, bias, r, b)
		}
	}
	return true
}

// maxPool2AVX512 is MaxPool2Planes on n >= 1 planes of ph rows of pw >= 1
// outputs, 16 at a time (the last group of a row masked), on the avx512
// path.
//
//go:noescape
func maxPool2AVX512(dst *float32, arg *int32, src *float32, ph, pw, ld int, bias float32, relu int, base int32, n, sstride, dstride int)

// maxPool2AVX512x2 is maxPool2AVX512 for planes with ld+pw <= 16: two
// rows of outputs per group of 16 lanes, the windows' first columns at
// tab[i] (2i for lane i < pw, 2ld + 2(i-pw) for the next pw lanes) from
// the group's first input row.
//
//go:noescape
func maxPool2AVX512x2(dst *float32, arg *int32, src *float32, ph, pw, ld int, bias float32, relu int, base int32, n, sstride, dstride int, tab *int32)

// maxPool2AVX2 is MaxPool2 on ph rows of pw >= 4 outputs, 4 at a time (the
// last group of a row overlaps the previous one when pw%4 != 0).
//
//go:noescape
func maxPool2AVX2(dst *float32, arg *int32, src *float32, ph, pw, ld int, bias float32, relu int, base int32)

// maxPool2AVX2x8 is maxPool2AVX2 with 8 outputs per step, for pw >= 8.
//
//go:noescape
func maxPool2AVX2x8(dst *float32, arg *int32, src *float32, ph, pw, ld int, bias float32, relu int, base int32)

// sgdMomentumAsm runs SGDMomentum on the longest prefix that is a multiple
// of 8 with AVX2+FMA and returns its length. (An AVX-512 version was no
// faster on LeNet-5's 61,706 parameters: the update is bound by the L2
// cache's bandwidth, not by the vector width.)
func sgdMomentumAsm(p, buf, g []float32, momentum, negLR float32) int {
	n := len(p) &^ 7
	if !vecElem() || n == 0 {
		return 0
	}
	sgdMomentumAVX2(&p[0], &buf[0], &g[0], n, momentum, negLR)
	return n
}

// sgdMomentumAVX2 is SGDMomentum on n floats, n a positive multiple of 8.
//
//go:noescape
func sgdMomentumAVX2(p, buf, grad *float32, n int, momentum, negLR float32)

// sum2Asm runs Sum (acc false) or Add2 (acc true) on the longest prefix
// that is a multiple of 8 with AVX2 and returns its length (as for
// SGDMomentum, AVX-512 was no faster).
func sum2Asm(dst, a, b []float32, acc bool) int {
	n := len(dst) &^ 7
	if !vecElem() || n == 0 {
		return 0
	}
	r := 0
	if acc {
		r = 1
	}
	sum2AVX2(&dst[0], &a[0], &b[0], n, r)
	return n
}

// sum2AVX2 sets dst[i] = a[i] + b[i] (acc == 0) or (dst[i] + a[i]) + b[i]
// for i < n, n a positive multiple of 8.
//
//go:noescape
func sum2AVX2(dst, a, b *float32, n int, acc int)

// convAsm runs Im2col (col2im false) or Col2im on the avx512 path when an
// AVX-512 kernel exists for the shape (no padding, see asmgen's
// convShapes), and reports whether it did. col2im overwrites in.
func convAsm(col2im bool, col, in []float32, s ConvShape, b int) bool {
	if cur() != avx512Path || s.Pad != 0 || b == 0 {
		return false
	}
	oh, ow := s.Out()
	n := b * oh * ow
	hw := s.H * s.W
	for c := range s.C {
		// whole groups of images with full-vector stores (Im2col) or
		// aligned loads (Col2im), the rest (and every image if there is no
		// grouped kernel) below
		var done int
		if col2im {
			done = col2imGroups512(s.H, s.W, s.K, &in[c*b*hw], &col[c*s.K*s.K*n], 4*n, b)
		} else {
			done = im2colGroups512(s.H, s.W, s.K, &col[c*s.K*s.K*n], &in[c*b*hw], 4*n, b)
		}
		if done == b {
			continue
		}
		if !conv512(col2im, s.H, s.W, s.K, &col[c*s.K*s.K*n+done*oh*ow], &in[(c*b+done)*hw], 4*n, 4*oh*ow, 4*hw, b-done) {
			return false
		}
	}
	return true
}

// maxUnpool2Asm runs MaxUnpool2Planes with AVX-512 on the avx512 path
// (all n planes in one call) and reports whether it did.
func maxUnpool2Asm(dst, d, y []float32, arg []int32, n, ph, pw, ld, sstride, dstride int, relu bool, base int32) (float64, bool) {
	if cur() != avx512Path {
		return 0, false
	}
	r := 0
	if relu {
		r = 1
	}
	if ld+pw > 16 {
		return maxUnpool2AVX512(&dst[0], &d[0], &y[0], &arg[0], ph, pw, ld, r, base, n, sstride, dstride, nil), true
	}
	// two rows of outputs per group of 16 lanes (conv2's planes): the
	// windows' offsets and the two rows' interleaving tables (index 15:
	// lane 15 of the first register, +0)
	var tab [3][16]int32
	for i := range tab[1] {
		tab[1][i], tab[2][i] = 15, 15
	}
	for i := range pw {
		tab[0][i], tab[0][pw+i] = int32(2*i), int32(2*ld+2*i)
		tab[1][2*i], tab[1][2*i+1] = int32(i), int32(16+i)
		tab[2][2*i], tab[2][2*i+1] = int32(pw+i), int32(16+pw+i)
	}
	return maxUnpool2AVX512(&dst[0], &d[0], &y[0], &arg[0], ph, pw, ld, r, base, n, sstride, dstride, &tab[0][0]), true
}

// maxUnpool2AVX512 is MaxUnpool2Planes on n >= 1 planes of ph >= 1 rows
// of pw >= 1 outputs; tab is nil, or for ld+pw <= 16 the tables of its
// two-row groups (the offsets of their windows and two interleavings).
//
//go:noescape
func maxUnpool2AVX512(dst, d, y *float32, arg *int32, ph, pw, ld int, relu int, base int32, n, sstride, dstride int, tab *int32) float64

// lookupAsm runs Lookup on the longest prefix that is a multiple of 16 on
// the avx512 path (a gather from the table) and returns its length.
func lookupAsm(dst []float32, src []uint8, table *[256]float32) int {
	n := len(dst) &^ 15
	if cur() != avx512Path || n == 0 {
		return 0
	}
	lookupAVX512(&dst[0], &src[0], n, table)
	return n
}

// lookupAVX512 is Lookup on n floats, n a positive multiple of 16.
//
//go:noescape
func lookupAVX512(dst *float32, src *uint8, n int, table *[256]float32)

// prefetch asks the processor to bring b's cache lines into its caches.
func prefetch(b []uint8) {
	if len(b) > 0 {
		prefetchLines(&b[0], len(b))
	}
}

// prefetchLines issues a prefetch of every cache line of p[0:n], n > 0.
//
//go:noescape
func prefetchLines(p *uint8, n int)

func processor() int {
	if hasRDTSCP {
		return int(cpuHint())
	}
	return -1
}
