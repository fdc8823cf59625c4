package kern

// Panic messages of the elementwise kernels.
const errLength = "kern: mismatched slice lengths"

// AddBias adds bias to every element of x and, if relu is set, then replaces
// every element that is not greater than zero by +0: x[i] = max(x[i]+bias, 0)
// with NaN mapped to 0, as PyTorch's ReLU after a bias add (up to NaN
// handling). Every element is rounded exactly as the scalar expression
// float32(x[i]+bias), so both code paths give identical bits.
func AddBias(x []float32, bias float32, relu bool) {
	n := addBiasAsm(x, bias, relu)
	addBiasGeneric(x[n:], bias, relu)
}

// AddBiasVec adds bias element by element to x and applies ReLU like
// [AddBias]: x[i] = act(x[i] + bias[i]). It panics if len(bias) != len(x).
// A fully connected layer calls it on each output row.
func AddBiasVec(x, bias []float32, relu bool) {
	if len(bias) != len(x) {
		panic(errLength)
	}
	n := addBiasVecAsm(x, bias, relu)
	addBiasVecGeneric(x[n:], bias[n:], relu)
}

// ReLUMask is the backward pass of ReLU given its output y: it sets d[i] to
// +0 wherever y[i] is not greater than zero (including NaN) and leaves the
// other elements untouched. It panics if len(y) != len(d).
func ReLUMask(d, y []float32) {
	if len(y) != len(d) {
		panic(errLength)
	}
	n := reluMaskAsm(d, y)
	reluMaskGeneric(d[n:], y[n:])
}

func addBiasGeneric(x []float32, bias float32, relu bool) {
	if !relu {
		for i := range x {
			x[i] += bias
		}
		return
	}
	for i, v := range x {
		v += bias
		if !(v > 0) {
			v = 0
		}
		x[i] = v
	}
}

func addBiasVecGeneric(x, bias []float32, relu bool) {
	bias = bias[:len(x)]
	for i, v := range x {
		v += bias[i]
		if relu && !(v > 0) {
			v = 0
		}
		x[i] = v
	}
}

func reluMaskGeneric(d, y []float32) {
	y = y[:len(d)]
	for i, v := range y {
		if !(v > 0) {
			d[i] = 0
		}
	}
}

// Add adds s to dst element by element: dst[i] += s[i], each a float32 add,
// so both code paths give identical bits. It panics if len(s) != len(dst).
func Add(dst, s []float32) {
	if len(s) != len(dst) {
		panic(errLength)
	}
	addRows(dst, s, 1, 0, 0, 1, 0, 0, len(dst))
}
