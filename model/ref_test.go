package model

import (
	"math"
	"math/rand/v2"
)

// This file is a straightforward float64 re-statement of LeNet-5 with direct
// loops over the PyTorch layouts (NCHW activations, [out][in][ky][kx]
// weights): the reference the fast float32 model is tested against. It
// shares no code with the model besides the flat parameter order.

// refNet holds float64 copies of the ten parameter tensors.
type refNet struct {
	c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b []float64
}

// newRefNet copies a flat parameter vector (state_dict order).
func newRefNet(p []float32) *refNet {
	var r refNet
	off := 0
	take := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = float64(p[off+i])
		}
		off += n
		return s
	}
	r.c1w, r.c1b = take(6*1*5*5), take(6)
	r.c2w, r.c2b = take(16*6*5*5), take(16)
	r.f1w, r.f1b = take(120*400), take(120)
	r.f2w, r.f2b = take(84*120), take(84)
	r.f3w, r.f3b = take(10*84), take(10)
	if off != len(p) {
		panic("refNet: parameter count mismatch")
	}
	return &r
}

// refConv is a direct stride-1 convolution of one cin×h×w image with zero
// padding pad and a cout×cin×k×k kernel.
func refConv(in []float64, cin, h, w int, wt, bias []float64, cout, k, pad int) ([]float64, int, int) {
	oh, ow := h+2*pad-k+1, w+2*pad-k+1
	out := make([]float64, cout*oh*ow)
	for co := range cout {
		for oy := range oh {
			for ox := range ow {
				s := bias[co]
				for ci := range cin {
					for ky := range k {
						for kx := range k {
							y, x := oy+ky-pad, ox+kx-pad
							if y < 0 || y >= h || x < 0 || x >= w {
								continue
							}
							s += wt[((co*cin+ci)*k+ky)*k+kx] * in[(ci*h+y)*w+x]
						}
					}
				}
				out[(co*oh+oy)*ow+ox] = s
			}
		}
	}
	return out, oh, ow
}

func refReLU(x []float64) {
	for i, v := range x {
		x[i] = math.Max(v, 0)
	}
}

// refPool is a 2×2 stride-2 max pool of c×h×w.
func refPool(in []float64, c, h, w int) []float64 {
	oh, ow := h/2, w/2
	out := make([]float64, c*oh*ow)
	for ch := range c {
		for oy := range oh {
			for ox := range ow {
				m := math.Inf(-1)
				for dy := range 2 {
					for dx := range 2 {
						m = math.Max(m, in[(ch*h+2*oy+dy)*w+2*ox+dx])
					}
				}
				out[(ch*oh+oy)*ow+ox] = m
			}
		}
	}
	return out
}

func refLinear(in, wt, bias []float64, nout int) []float64 {
	out := make([]float64, nout)
	for o := range nout {
		s := bias[o]
		for i, v := range in {
			s += wt[o*len(in)+i] * v
		}
		out[o] = s
	}
	return out
}

// logits runs one 784-pixel image through the net.
func (r *refNet) logits(img []float64) []float64 {
	return refLinear(r.features(img), r.f3w, r.f3b, 10)
}

// features runs one 784-pixel image through the net up to the penultimate
// activations: the 84 ReLU outputs of lineNet.3.
func (r *refNet) features(img []float64) []float64 {
	a, h, w := refConv(img, 1, 28, 28, r.c1w, r.c1b, 6, 5, 2)
	refReLU(a)
	a = refPool(a, 6, h, w)
	a, h, w = refConv(a, 6, h/2, w/2, r.c2w, r.c2b, 16, 5, 0)
	refReLU(a)
	a = refPool(a, 16, h, w) // already in flatten order (c, y, x)
	a = refLinear(a, r.f1w, r.f1b, 120)
	refReLU(a)
	a = refLinear(a, r.f2w, r.f2b, 84)
	refReLU(a)
	return a
}

// refXent is -log softmax(z)[y], computed directly (fine for moderate z).
func refXent(z []float64, y uint8) float64 {
	var s float64
	for _, v := range z {
		s += math.Exp(v)
	}
	return math.Log(s) - z[y]
}

// meanLoss is the batch-mean cross-entropy of the reference net.
func (r *refNet) meanLoss(x []float32, labels []uint8) float64 {
	var s float64
	img := make([]float64, ImageSize)
	for i, y := range labels {
		for j := range img {
			img[j] = float64(x[i*ImageSize+j])
		}
		s += refXent(r.logits(img), y)
	}
	return s / float64(len(labels))
}

// param returns a pointer to flat parameter i of the reference net.
func (r *refNet) param(i int) *float64 {
	for _, t := range [][]float64{r.c1w, r.c1b, r.c2w, r.c2b, r.f1w, r.f1b, r.f2w, r.f2b, r.f3w, r.f3b} {
		if i < len(t) {
			return &t[i]
		}
		i -= len(t)
	}
	panic("refNet: parameter index out of range")
}

// randomBatch returns n images with pixels in [-1, 1] (as the scaled MNIST
// data) and random labels.
func randomBatch(rng *rand.Rand, n int) ([]float32, []uint8) {
	x := make([]float32, n*ImageSize)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	y := make([]uint8, n)
	for i := range y {
		y[i] = uint8(rng.IntN(NumClasses))
	}
	return x, y
}
