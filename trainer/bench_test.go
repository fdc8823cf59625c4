package trainer

import (
	"math/rand/v2"
	"testing"
)

// lenetSizes are the parameter tensor sizes of LeNet-5 in state_dict order
// (61,706 values; see package model).
var lenetSizes = []int{150, 6, 2400, 16, 48000, 120, 10080, 84, 840, 10}

// BenchmarkSGDStep measures one optimizer step over all LeNet-5 parameters.
func BenchmarkSGDStep(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	var params, grads [][]float32
	for _, n := range lenetSizes {
		p, g := make([]float32, n), make([]float32, n)
		for i := range p {
			p[i], g[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		params, grads = append(params, p), append(grads, g)
	}
	o := NewSGD(0.9, lenetSizes)
	o.Step(params, grads, 0.01)
	b.ReportAllocs()
	for b.Loop() {
		o.Step(params, grads, 0.01)
	}
}

// BenchmarkPermute measures drawing one epoch's order of the 60,000 MNIST
// training images.
func BenchmarkPermute(b *testing.B) {
	perm := make([]int, 60000)
	b.ReportAllocs()
	e := int64(0)
	for b.Loop() {
		permute(perm, epochRNG(1, e))
		e++
	}
}
