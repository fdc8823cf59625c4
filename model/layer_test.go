package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tbtrain/tbtrain/internal/kern"
)

// layerCases are the layers the conformance suite runs over: the five
// LeNet-5 layers as built by NewLeNet5With, and variants with odd sizes,
// chunking that leaves a short last chunk, and each optional stage on or
// off.
func layerCases() []struct {
	name string
	l    layer
} {
	m := NewLeNet5(seeded(1))
	cases := []struct {
		name string
		l    layer
	}{
		{"lenet/conv1", m.layers[0]},
		{"lenet/conv2", m.layers[1]},
		{"lenet/fc1", m.layers[2]},
		{"lenet/fc2", m.layers[3]},
		{"lenet/fc3", m.layers[4]},
		{"conv/plain", &conv{cin: 2, cout: 3, h: 7, w: 5, k: 3}},
		{"conv/pad/relu", &conv{cin: 2, cout: 3, h: 7, w: 5, k: 3, pad: 1, relu: true}},
		{"conv/pad/relu/wide", &conv{cin: 2, cout: 3, h: 7, w: 5, k: 3, pad: 1, relu: true, wide: true}},
		{"conv/pool/chunk2", &conv{cin: 3, cout: 4, h: 9, w: 7, k: 4, pad: 1, pool: true, chunk: 2}},
		{"conv/pool/relu/flatten/wide/chunk2", &conv{cin: 3, cout: 4, h: 9, w: 7, k: 4, pad: 1, relu: true, pool: true, flatten: true, wide: true, chunk: 2}},
		{"conv/k1", &conv{cin: 3, cout: 2, h: 4, w: 4, k: 1, relu: true, wide: true, chunk: 3}},
		{"linear/plain", &linear{in: 7, out: 5}},
		{"linear/relu", &linear{in: 13, out: 9, relu: true}},
	}
	return cases
}

// refLayer is a direct float64 evaluation of l on b images, in the
// layer's own output layout.
func refLayer(l layer, w64, in []float64, b int) []float64 {
	out := make([]float64, b*l.outSize())
	switch l := l.(type) {
	case *linear:
		for i := range b {
			x := make([]float64, l.in)
			for j := range x {
				x[j] = in[i*l.in+j]
			}
			y := refLinear(x, w64[:l.out*l.in], w64[l.out*l.in:], l.out)
			if l.relu {
				refReLU(y)
			}
			copy(out[i*l.out:], y)
		}
	case *conv:
		hw := l.h * l.w
		for i := range b {
			// gather image i from the channel-major input
			x := make([]float64, l.cin*hw)
			for ci := range l.cin {
				for j := range hw {
					x[ci*hw+j] = in[(ci*b+i)*hw+j]
				}
			}
			kd := l.kdim()
			y, oh, ow := refConv(x, l.cin, l.h, l.w, w64[:l.cout*kd], w64[l.cout*kd:], l.cout, l.k, l.pad)
			if l.relu {
				refReLU(y)
			}
			if l.pool {
				y = refPool(y, l.cout, oh, ow)
				oh, ow = oh/2, ow/2
			}
			for co := range l.cout {
				copy(out[l.outBase(co, i, b):][:oh*ow], y[co*oh*ow:][:oh*ow])
			}
		}
	default:
		panic(fmt.Sprintf("refLayer: unknown layer %T", l))
	}
	return out
}

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(scale * (2*rng.Float64() - 1))
	}
	return v
}

func nanVec(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	return v
}

// TestLayerConformance runs every layer case through the same checks:
// forward against the direct reference, backward against central finite
// differences, overwrite (not accumulate) semantics, a nil din, batch
// independence, determinism and zero allocations.
func TestLayerConformance(t *testing.T) {
	const b = 3
	for ci, c := range layerCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := seeded(uint64(100 + ci))
			l := c.l
			w := randVec(rng, l.numParams(), 0.5)
			in := randVec(rng, b*l.inSize(), 1)
			r := randVec(rng, b*l.outSize(), 1) // L = Σ r·out
			s := l.newScratch(b)
			out := make([]float32, b*l.outSize())

			t.Run("forward", func(t *testing.T) {
				l.forward(w, in, out, b, &s)
				want := refLayer(l, to64(w), to64(in), b)
				for j, v := range want {
					if g := float64(out[j]); math.Abs(g-v) > 1e-5+1e-5*math.Abs(v) {
						t.Fatalf("out[%d] = %.8g, reference %.8g", j, g, v)
					}
				}
			})

			// analytic gradients, with g and din pre-filled with NaN to
			// prove they are overwritten
			l.forward(w, in, out, b, &s)
			g := nanVec(l.numParams())
			din := nanVec(b * l.inSize())
			l.backward(w, in, out, slices.Clone(r), din, g, b, &s)

			t.Run("gradients", func(t *testing.T) {
				w64, in64 := to64(w), to64(in)
				loss := func() []float64 { return refLayer(l, w64, in64, b) }
				checkFD(t, "param", w64, g, loss, r, seeded(uint64(200+ci)))
				checkFD(t, "input", in64, din, loss, r, seeded(uint64(300+ci)))
			})

			t.Run("repeatable", func(t *testing.T) {
				out2 := make([]float32, len(out))
				l.forward(w, in, out2, b, &s)
				g2 := make([]float32, len(g))
				l.backward(w, in, out2, slices.Clone(r), nil, g2, b, &s)
				if !slices.Equal(bits(out2), bits(out)) {
					t.Error("second forward differs")
				}
				if !slices.Equal(bits(g2), bits(g)) {
					t.Error("backward with din=nil gives a different parameter gradient")
				}
			})

			t.Run("batch independence", func(t *testing.T) {
				// image 1 alone must give its outputs from the batch
				const i = 1
				one := make([]float32, l.inSize())
				gatherImage(l, in, one, i, b)
				s1 := l.newScratch(1)
				o1 := make([]float32, l.outSize())
				l.forward(w, one, o1, 1, &s1)
				want := make([]float32, l.outSize())
				gatherOut(l, out, want, i, b)
				for j := range o1 {
					if d := math.Abs(float64(o1[j] - want[j])); d > 1e-5*(1+math.Abs(float64(want[j]))) {
						t.Fatalf("output %d of image %d: alone %g, in batch %g", j, i, o1[j], want[j])
					}
				}
			})

			t.Run("no allocations", func(t *testing.T) {
				dout := make([]float32, len(r))
				a := testing.AllocsPerRun(3, func() {
					l.forward(w, in, out, b, &s)
					copy(dout, r)
					l.backward(w, in, out, dout, din, g, b, &s)
				})
				if a != 0 {
					t.Errorf("%v allocations per forward+backward", a)
				}
			})
		})
	}
}

// gatherImage copies image i of a b-image input batch into dst (one image).
func gatherImage(l layer, in, dst []float32, i, b int) {
	switch l := l.(type) {
	case *conv:
		hw := l.h * l.w
		for ci := range l.cin {
			copy(dst[ci*hw:][:hw], in[(ci*b+i)*hw:])
		}
	default:
		copy(dst, in[i*l.inSize():][:l.inSize()])
	}
}

// gatherOut copies image i's outputs from a b-image output batch into dst,
// in the layout of a batch of one.
func gatherOut(l layer, out, dst []float32, i, b int) {
	switch l := l.(type) {
	case *conv:
		oh, ow := l.outHW()
		for co := range l.cout {
			copy(dst[l.outBase(co, 0, 1):][:oh*ow], out[l.outBase(co, i, b):])
		}
	default:
		copy(dst, out[i*l.outSize():][:l.outSize()])
	}
}

func to64(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// checkFD compares grad (the layer's float32 dL/dv, L = Σ r·f(v)) with
// central finite differences of the float64 reference f at up to 20 random
// entries of v, perturbed in place.
//
// Every layer is piecewise linear in each input, so a central difference is
// exact up to float64 rounding unless the perturbation crosses a kink (a
// ReLU turning on or off, a pool's arg-max changing). In that case the
// second difference d2 = L(v+e) - 2L(v) + L(v-e) is non-zero and the finite
// difference is off by exactly d2/(2e); such entries are not compared, and
// at most one in ten may be skipped.
func checkFD(t *testing.T, what string, v []float64, grad []float32, f func() []float64, r []float32, rng *rand.Rand) {
	t.Helper()
	const eps = 1e-5
	probes, skipped := 0, 0
	for range min(20, len(v)) {
		j := rng.IntN(len(v))
		orig := v[j]
		v[j] = orig + eps
		up := f()
		v[j] = orig - eps
		down := f()
		v[j] = orig
		mid := f()
		var d1, d2 float64
		for k, rk := range r {
			d1 += float64(rk) * (up[k] - down[k])
			d2 += float64(rk) * (up[k] - 2*mid[k] + down[k])
		}
		fd := d1 / (2 * eps)
		probes++
		if math.Abs(d2)/(2*eps) > 1e-7 {
			skipped++
			continue
		}
		// float32 accumulation over up to a few thousand terms
		an := float64(grad[j])
		if math.IsNaN(an) || math.Abs(fd-an) > 1e-4*(1+math.Abs(fd)) {
			t.Errorf("%s %d: analytic %.7g, finite difference %.7g", what, j, an, fd)
		}
	}
	if skipped*10 > probes {
		t.Errorf("%s: %d of %d probes crossed a kink; finite differences not checked enough", what, skipped, probes)
	}
	for j, g := range grad {
		if math.IsNaN(float64(g)) {
			t.Fatalf("%s gradient %d not written (still NaN)", what, j)
		}
	}
}

// poolPlane is the reference for kern.MaxPool2, which the pooling conv
// layers use: it max-pools one h×w plane of src (row stride ld; h, w even)
// with 2×2 windows: dst[py*(w/2)+px] = act(max of the window + bias), and
// arg[...] = base + the index in src of the window's first maximum.
func poolPlane(dst []float32, arg []int32, src []float32, h, w, ld int, bias float32, relu bool, base int32) {
	pw := w / 2
	for py := range h / 2 {
		r0 := src[2*py*ld:][:w:w]
		r1 := src[(2*py+1)*ld:][:w:w]
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

// max4 returns the largest of a0..a3 and the index of the first one equal
// to it; written with max and conditional moves, not branches, since the
// comparisons are unpredictable.
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

// TestPoolTies checks the arg-max rule on ties: the first maximum in
// row-major window order wins, as in PyTorch's CPU max_pool2d (it replaces
// the running maximum only on a strictly greater value).
func TestPoolTies(t *testing.T) {
	// a 2×6 plane (row stride 7, the last column ignored): three windows
	src := []float32{
		1, 1, 0, 5, -2, -2, 99,
		1, 1, 5, 5, -2, -1, 99,
	}
	dst := make([]float32, 3)
	arg := make([]int32, 3)
	for _, f := range []struct {
		name string
		pool func([]float32, []int32, []float32, int, int, int, float32, bool, int32)
	}{{"poolPlane", poolPlane}, {"kern.MaxPool2", kern.MaxPool2}} {
		f.pool(dst, arg, src, 2, 6, 7, 0.5, true, 100)
		if want := []float32{1.5, 5.5, 0}; !slices.Equal(dst, want) {
			t.Errorf("%s: values %v, want %v", f.name, dst, want)
		}
		// window 0: all four equal -> (0,0); window 1: 5 at (0,1) first;
		// window 2: max -1 at (1,1) (ReLU clamps the value, not the index)
		if want := []int32{100, 100 + 3, 100 + 7 + 5}; !slices.Equal(arg, want) {
			t.Errorf("%s: arg %v, want %v", f.name, arg, want)
		}
	}
}

// TestMaxPool2MatchesReference checks the kernel the layers use against
// poolPlane on the LeNet-5 plane shapes, with and without ReLU, including
// planes with many ties (values from a small set).
func TestMaxPool2MatchesReference(t *testing.T) {
	rng := seeded(9)
	for _, c := range []struct{ h, w, ld int }{{28, 28, 32}, {10, 10, 10}, {6, 14, 15}, {2, 2, 2}} {
		for _, relu := range []bool{false, true} {
			for _, levels := range []int{0, 3} {
				src := make([]float32, c.h*c.ld)
				for i := range src {
					if levels > 0 {
						src[i] = float32(rng.IntN(levels) - 1)
					} else {
						src[i] = float32(rng.NormFloat64())
					}
				}
				n := (c.h / 2) * (c.w / 2)
				d1, d2 := make([]float32, n), make([]float32, n)
				a1, a2 := make([]int32, n), make([]int32, n)
				poolPlane(d1, a1, src, c.h, c.w, c.ld, -0.25, relu, 7)
				kern.MaxPool2(d2, a2, src, c.h, c.w, c.ld, -0.25, relu, 7)
				if !slices.Equal(bits(d1), bits(d2)) || !slices.Equal(a1, a2) {
					t.Errorf("%dx%d ld %d relu=%v levels=%d: kern.MaxPool2 differs from poolPlane", c.h, c.w, c.ld, relu, levels)
				}
			}
		}
	}
}
