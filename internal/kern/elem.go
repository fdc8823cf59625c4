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

// Sum sets dst to a + b element by element: dst[i] = a[i] + b[i], one
// float32 addition each, which is copy(dst, a) followed by Add(dst, b) in
// one pass. It panics if the three slices differ in length.
func Sum(dst, a, b []float32) {
	if len(a) != len(dst) || len(b) != len(dst) {
		panic(errLength)
	}
	n := sum2Asm(dst, a, b, false)
	a, b = a[n:len(dst)], b[n:len(dst)]
	for i := range dst[n:] {
		dst[n+i] = a[i] + b[i]
	}
}

// Add2 adds a and then b to dst element by element: dst[i] = (dst[i] +
// a[i]) + b[i], two float32 additions rounded in that order, which is
// Add(dst, a) followed by Add(dst, b) in one pass. It panics if the three
// slices differ in length.
func Add2(dst, a, b []float32) {
	if len(a) != len(dst) || len(b) != len(dst) {
		panic(errLength)
	}
	n := sum2Asm(dst, a, b, true)
	a, b = a[n:len(dst)], b[n:len(dst)]
	for i := range dst[n:] {
		// The conversion keeps the two roundings (Go spec,
		// "Floating-point operators").
		dst[n+i] = float32(dst[n+i]+a[i]) + b[i]
	}
}

// Lookup sets dst[i] = table[src[i]] for every i, a table look-up per byte
// (it turns pixel bytes into scaled floats); no arithmetic, so every path
// gives the table's bits. It panics if len(src) != len(dst).
func Lookup(dst []float32, src []uint8, table *[256]float32) {
	if len(src) != len(dst) {
		panic(errLength)
	}
	n := lookupAsm(dst, src, table)
	src = src[n:len(dst)]
	for i, b := range src {
		dst[n+i] = table[b]
	}
}

// Prefetch hints that b will be read soon: on amd64 it asks the processor
// to bring b's cache lines into its caches (PREFETCHT0); elsewhere it does
// nothing. It never changes memory or a result. mnist.Set.BatchImages
// prefetches the next image of a batch while it converts one, since the
// images of a shuffled batch lie far apart.
func Prefetch(b []uint8) { prefetch(b) }

// Processor returns the number of the processor the calling goroutine runs
// on, or -1 where it cannot tell cheaply (it reads RDTSCP's processor
// number on amd64's vector build, and tells nothing elsewhere). It is a
// hint: the goroutine may have moved by the time the caller uses it. The
// model uses it to give a task the buffers last used on the same core.
func Processor() int { return processor() }
