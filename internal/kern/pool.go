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
