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
	if h < 0 || w < 0 || h%2 != 0 || w%2 != 0 || ld < w {
		panic(errPoolShape)
	}
	ph, pw := h/2, w/2
	if ph == 0 || pw == 0 {
		return
	}
	if len(src) < (h-1)*ld+w {
		panic(errShortIn)
	}
	if len(dst) < ph*pw || len(arg) < ph*pw {
		panic(errShortC)
	}
	if maxPool2Asm(dst, arg, src, ph, pw, ld, bias, relu, base) {
		return
	}
	maxPool2Generic(dst, arg, src, ph, pw, ld, bias, relu, base)
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
// writes the 2ph×2pw region of dst (row stride ld) with v_j at the
// position arg[j]-base of its 2×2 window and +0 at the window's three
// other positions, and returns Σ v_j in float64: four partial sums, s_q
// over the j ≡ q (mod 4) below 4⌊n/4⌋ in increasing order, the last n%4
// values added to s_0 in order, returned as (s_0+s_1)+(s_2+s_3), where n
// = ph·pw. Nothing outside the region is written, and d may be
// overwritten with the v_j. If an arg does not name a position of its
// window, what dst receives is unspecified (an arg outside dst panics).
//
// MaxUnpool2 panics if a size is negative, ld < 2pw, or a slice is too
// short.
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
	if len(dst) < (2*ph-1)*ld+2*pw {
		panic(errShortC)
	}
	if s, ok := maxUnpool2Asm(dst, d, y, arg, ph, pw, ld, relu, base); ok {
		return s
	}
	return maxUnpool2Generic(dst, d, y, arg, ph, pw, ld, relu, base)
}

// maxUnpool2Generic is MaxUnpool2 without AVX-512: the ReLU mask in
// place in d (ReLUMask, AVX2 where the path has it), the sum, then the
// region cleared and v scattered through arg.
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
	for r := range 2 * ph {
		clear(dst[r*ld : r*ld+2*pw])
	}
	for j, a := range arg[:n] {
		dst[int(a-base)] = d[j]
	}
	return (s0 + s1) + (s2 + s3)
}
