package kern

// errPoolShape is the panic message for bad MaxPool2 sizes.
const errPoolShape = "kern: bad MaxPool2 shape"

// MaxPool2 max-pools an h×w plane of src (row stride ld; h and w even) with
// 2×2 windows and stride 2, then adds bias and, if relu, applies ReLU:
//
//	dst[py*(w/2)+px] = act(max(window) + bias)
//	arg[py*(w/2)+px] = base + index in src of the window's first maximum
//
// for py < h/2, px < w/2, where the window is src[(2py+dy)*ld + 2px+dx]
// taken in the order (dy,dx) = (0,0), (0,1), (1,0), (1,1), and an element
// replaces the running maximum only if it is strictly greater (PyTorch's
// CPU max_pool2d rule: ties keep the first). max and ReLU follow Go's
// built-in max: max(−0, +0) = +0 and act(v) = max(v, 0). Adding the bias
// after pooling and then clamping equals pooling ReLU(x + bias), as both
// are monotonic.
//
// Results are bitwise identical on both code paths, except that when a
// window holds a NaN the value is a NaN (of unspecified payload) and arg
// may name any element of that window.
//
// MaxPool2 panics if h or w is odd or negative, ld < w, or a slice is too
// short.
func MaxPool2(dst []float32, arg []int32, src []float32, h, w, ld int, bias float32, relu bool, base int32) {
	// one plane, with the smallest strides MaxPool2Planes accepts
	MaxPool2Planes(dst, arg, src, 1, h, w, ld, (h-1)*ld+w, (h/2)*(w/2), bias, relu, base)
}

// MaxPool2Planes is MaxPool2 on n planes in one call: plane q's h×w
// inputs at src[q·sstride:] (row stride ld), its outputs and arg-maxes at
// dst[q·dstride:] and arg[q·dstride:], with base + q·sstride as its base.
// It gives exactly what
//
//	for q := range n {
//		MaxPool2(dst[q*dstride:], arg[q*dstride:], src[q*sstride:], h, w, ld, bias, relu, base+int32(q*sstride))
//	}
//
// gives, without a call per plane (LeNet-5's conv2 pools 16 planes of
// 5×5 outputs per image).
//
// MaxPool2Planes panics if n is negative, the shape is one MaxPool2
// rejects, the planes' inputs or outputs overlap (sstride < (h-1)·ld + w,
// dstride < (h/2)·(w/2)) or a slice is too short.
func MaxPool2Planes(dst []float32, arg []int32, src []float32, n, h, w, ld, sstride, dstride int, bias float32, relu bool, base int32) {
	if n < 0 || h < 0 || w < 0 || h%2 != 0 || w%2 != 0 || ld < w {
		panic(errPoolShape)
	}
	ph, pw := h/2, w/2
	if n == 0 || ph == 0 || pw == 0 {
		return
	}
	if sstride < (h-1)*ld+w || dstride < ph*pw {
		panic(errPoolShape)
	}
	if len(src) < (n-1)*sstride+(h-1)*ld+w {
		panic(errShortIn)
	}
	if last := (n-1)*dstride + ph*pw; len(dst) < last || len(arg) < last {
		panic(errShortC)
	}
	if maxPool2Asm(dst, arg, src, n, ph, pw, ld, sstride, dstride, bias, relu, base) {
		return
	}
	for q := range n {
		o := q * dstride
		maxPool2Generic(dst[o:], arg[o:], src[q*sstride:], ph, pw, ld, bias, relu, base+int32(q*sstride))
	}
}

// maxPool2Generic is the portable MaxPool2 on ph×pw outputs.
func maxPool2Generic(dst []float32, arg []int32, src []float32, ph, pw, ld int, bias float32, relu bool, base int32) {
	for py := range ph {
		r0 := src[2*py*ld:][: 2*pw : 2*pw]
		r1 := src[(2*py+1)*ld:][: 2*pw : 2*pw]
		d := dst[py*pw:][:pw:pw]
		a := arg[py*pw:][:pw:pw]
		rb := base + int32(2*py*ld)
		for px := range pw {
			m, at := max4(r0[2*px], r0[2*px+1], r1[2*px], r1[2*px+1])
			v := m + bias
			if relu {
				v = max(v, 0)
			}
			d[px] = v
			a[px] = rb + int32((at>>1)*ld+2*px+at&1)
		}
	}
}

// max4 returns the largest of a0..a3 (Go's max) and the index of the first
// one that is strictly greater than all before it.
func max4(a0, a1, a2, a3 float32) (float32, int) {
	m, at := a0, 0
	if a1 > m {
		at = 1
	}
	m = max(m, a1)
	if a2 > m {
		at = 2
	}
	m = max(m, a2)
	if a3 > m {
		at = 3
	}
	return max(m, a3), at
}

// MaxUnpool2 is the backward pass of [MaxPool2] (followed, if relu, by the
// backward pass of its ReLU): given the gradient d of a ph×pw pooled plane,
// the pooled values y and the arg-maxes arg that MaxPool2 wrote (with the
// same ld and base), it computes for every output j = py*pw + px
//
//	v_j = d[j], or +0 if relu and !(y[j] > 0),
//
// writes the first 2ph rows of dst (row stride ld, all ld columns): v_j
// at the position arg[j]-base of its 2×2 window, +0 at the window's three
// other positions and in the columns from 2pw on; and returns Σ v_j in
// float64: four partial sums, s_q over the j ≡ q (mod 4) below 4⌊n/4⌋ in
// increasing order, the last n%4 values added to s_0 in order, returned as
// (s_0+s_1)+(s_2+s_3), where n = ph·pw. d may be overwritten with the v_j.
// If an arg does not name a position of its window, what dst receives is
// unspecified (an arg outside dst panics).
//
// MaxUnpool2 panics if a size is negative, ld < 2pw, or a slice is too
// short (dst must hold 2ph·ld elements).
func MaxUnpool2(dst, d, y []float32, arg []int32, ph, pw, ld int, relu bool, base int32) float64 {
	if ph < 0 || pw < 0 || ld < 2*pw {
		panic(errPoolShape)
	}
	n := ph * pw
	if n == 0 {
		return 0
	}
	if len(d) < n || len(y) < n || len(arg) < n {
		panic(errShortIn)
	}
	if len(dst) < 2*ph*ld {
		panic(errShortC)
	}
	if s, ok := maxUnpool2Asm(dst, d, y, arg, 1, ph, pw, ld, 0, 2*ph*ld, relu, base); ok {
		return s
	}
	return maxUnpool2Generic(dst, d, y, arg, ph, pw, ld, relu, base)
}

// MaxUnpool2Planes is MaxUnpool2 on n planes in one call: plane q's d, y
// and arg at d[q·sstride:], y[q·sstride:] and arg[q·sstride:], its
// gradient at dst[q·dstride:][:dstride], with base + q·dstride as its
// base. Each plane's first 2ph rows are written as MaxUnpool2 writes them
// and the rest of its dstride floats is set to +0; the result is the sum
// of the planes' MaxUnpool2 sums in plane order, starting from +0:
//
//	var s float64
//	for q := range n {
//		p := dst[q*dstride:][:dstride]
//		s += MaxUnpool2(p, d[q*sstride:], y[q*sstride:], arg[q*sstride:], ph, pw, ld, relu, base+int32(q*dstride))
//		clear(p[2*ph*ld:])
//	}
//
// bit for bit, without a call per plane.
//
// MaxUnpool2Planes panics if n or a size is negative, ld < 2pw, the
// planes overlap (sstride < ph·pw, dstride < 2ph·ld) or a slice is too
// short.
func MaxUnpool2Planes(dst, d, y []float32, arg []int32, n, ph, pw, ld, sstride, dstride int, relu bool, base int32) float64 {
	if n < 0 || ph < 0 || pw < 0 || ld < 2*pw {
		panic(errPoolShape)
	}
	if sstride < ph*pw || dstride < 2*ph*ld {
		panic(errPoolShape)
	}
	if n == 0 {
		return 0
	}
	if k := (n-1)*sstride + ph*pw; len(d) < k || len(y) < k || len(arg) < k {
		panic(errShortIn)
	}
	if len(dst) < n*dstride {
		panic(errShortC)
	}
	if ph > 0 && pw > 0 {
		if s, ok := maxUnpool2Asm(dst, d, y, arg, n, ph, pw, ld, sstride, dstride, relu, base); ok {
			return s
		}
	}
	var s float64
	for q := range n {
		p := dst[q*dstride:][:dstride]
		if ph > 0 && pw > 0 {
			o := q * sstride
			s += maxUnpool2Generic(p, d[o:], y[o:], arg[o:], ph, pw, ld, relu, base+int32(q*dstride))
		}
		clear(p[2*ph*ld:])
	}
	return s
}

// maxUnpool2Generic is MaxUnpool2 without AVX-512: the ReLU mask in
// place in d (ReLUMask, AVX2 where the path has it), the sum, then the
// rows cleared (one clear: they are contiguous) and v scattered through
// arg.
func maxUnpool2Generic(dst, d, y []float32, arg []int32, ph, pw, ld int, relu bool, base int32) float64 {
	n := ph * pw
	d = d[:n]
	if relu {
		k := reluMaskAsm(d, y[:n])
		reluMaskGeneric(d[k:], y[k:n])
	}
	var s0, s1, s2, s3 float64
	v := d
	for len(v) >= 4 {
		s0 += float64(v[0])
		s1 += float64(v[1])
		s2 += float64(v[2])
		s3 += float64(v[3])
		v = v[4:]
	}
	for _, x := range v {
		s0 += float64(x)
	}
	dst = dst[:2*ph*ld]
	clear(dst)
	for j, a := range arg[:n] {
		dst[int(a-base)] = d[j]
	}
	return (s0 + s1) + (s2 + s3)
}
