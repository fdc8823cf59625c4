package model

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

// TestEvalToMatchesReference checks EvalTo's extra outputs against the
// float64 reference net: the penultimate activations (lineNet.3 after ReLU)
// and the softmax probabilities, image by image; the loss and the
// predictions must be Eval's, bit for bit.
func TestEvalToMatchesReference(t *testing.T) {
	m := NewLeNet5(seeded(3))
	// 70 images: more than two eval chunks, the last one partial.
	x, y := randomBatch(seeded(5), 70)
	// A few training steps, so that activations are not those of the
	// initial weights only (some ReLUs at 0, some probabilities far from 1/10).
	for range 5 {
		m.TrainBatch(x[:32*ImageSize], y[:32])
		for i, g := range m.Grad() {
			m.Data()[i] -= 0.1 * g
		}
	}
	n := len(y)
	out := EvalOutputs{
		Pred:     make([]uint8, n),
		Probs:    make([]float32, n*NumClasses),
		Features: make([]float32, n*FeatureSize),
	}
	gotLoss := m.EvalTo(x, y, out)
	pred := make([]uint8, n)
	if wantLoss := m.Eval(x, y, pred); math.Float64bits(gotLoss) != math.Float64bits(wantLoss) {
		t.Errorf("EvalTo loss %v, Eval %v: not the same bits", gotLoss, wantLoss)
	}
	if !slices.Equal(out.Pred, pred) {
		t.Errorf("EvalTo predictions %v, Eval %v", out.Pred, pred)
	}
	ref := newRefNet(m.Data())
	img := make([]float64, ImageSize)
	zeros := 0
	for i := range n {
		for j := range img {
			img[j] = float64(x[i*ImageSize+j])
		}
		f := ref.features(img)
		for j, w := range f {
			g := float64(out.Features[i*FeatureSize+j])
			if math.Abs(g-w) > 1e-5+1e-5*math.Abs(w) {
				t.Errorf("image %d feature %d: got %.8g, reference %.8g", i, j, g, w)
			}
			if g == 0 {
				zeros++
			}
		}
		z := ref.logits(img)
		var s float64
		for _, v := range z {
			s += math.Exp(v)
		}
		var psum float64
		best := 0
		for j, v := range z {
			g := float64(out.Probs[i*NumClasses+j])
			if w := math.Exp(v) / s; math.Abs(g-w) > 1e-6+1e-5*w {
				t.Errorf("image %d probability of %d: got %.8g, reference %.8g", i, j, g, w)
			}
			psum += g
			if out.Probs[i*NumClasses+j] > out.Probs[i*NumClasses+best] {
				best = j
			}
		}
		if math.Abs(psum-1) > 1e-5 {
			t.Errorf("image %d: probabilities add up to %v", i, psum)
		}
		if best != int(out.Pred[i]) {
			t.Errorf("image %d: most probable class %d, predicted %d", i, best, out.Pred[i])
		}
	}
	// The ReLU must have clamped some activations and kept others.
	if zeros == 0 || zeros == n*FeatureSize {
		t.Errorf("%d of %d features are 0: the test does not exercise the ReLU", zeros, n*FeatureSize)
	}

	// Outputs not asked for are not needed: any subset gives the same values.
	probs := make([]float32, n*NumClasses)
	if l := m.EvalTo(x, y, EvalOutputs{Probs: probs}); math.Float64bits(l) != math.Float64bits(gotLoss) {
		t.Errorf("EvalTo with Probs only: loss %v, want %v", l, gotLoss)
	}
	if !slices.Equal(bits(probs), bits(out.Probs)) {
		t.Error("EvalTo with Probs only: probabilities differ from a call with every output")
	}
	feats := make([]float32, n*FeatureSize)
	m.EvalTo(x, y, EvalOutputs{Features: feats})
	if !slices.Equal(bits(feats), bits(out.Features)) {
		t.Error("EvalTo with Features only: features differ from a call with every output")
	}
}

// TestEvalToDeterministicAcrossWorkers: the extra outputs, like the loss,
// have the same bits for any worker count and GOMAXPROCS.
func TestEvalToDeterministicAcrossWorkers(t *testing.T) {
	x, y := randomBatch(seeded(31), 100)
	run := func(workers, procs int) (float64, []float32, []float32) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m := NewLeNet5With(seeded(30), Options{Workers: workers})
		out := EvalOutputs{Probs: make([]float32, len(y)*NumClasses), Features: make([]float32, len(y)*FeatureSize)}
		return m.EvalTo(x, y, out), out.Probs, out.Features
	}
	l0, p0, f0 := run(1, 1)
	for _, c := range []struct{ workers, procs int }{{4, 1}, {2, 2}, {0, 2}, {3, 4}} {
		l, p, f := run(c.workers, c.procs)
		if math.Float64bits(l) != math.Float64bits(l0) || !slices.Equal(bits(p), bits(p0)) || !slices.Equal(bits(f), bits(f0)) {
			t.Errorf("workers %d, GOMAXPROCS %d: EvalTo results differ from 1 worker", c.workers, c.procs)
		}
	}
}

func TestEvalToNoAllocations(t *testing.T) {
	m := NewLeNet5With(seeded(1), Options{Workers: 2})
	x, y := randomBatch(seeded(2), 64)
	out := EvalOutputs{Pred: make([]uint8, 64), Probs: make([]float32, 64*NumClasses), Features: make([]float32, 64*FeatureSize)}
	m.EvalTo(x, y, out)
	if a := testing.AllocsPerRun(5, func() { m.EvalTo(x, y, out) }); a != 0 {
		t.Errorf("EvalTo: %v allocations per call, want 0", a)
	}
}

func TestEvalToPanics(t *testing.T) {
	m := NewLeNet5(seeded(1))
	x, y := randomBatch(seeded(2), 2)
	cases := []struct {
		name, want string
		out        EvalOutputs
	}{
		{"pred len", errPredLen, EvalOutputs{Pred: make([]uint8, 3)}},
		{"probs len", errProbsLen, EvalOutputs{Probs: make([]float32, NumClasses)}},
		{"features len", errFeatsLen, EvalOutputs{Features: make([]float32, 3*FeatureSize)}},
		{"empty, not nil", errFeatsLen, EvalOutputs{Features: []float32{}}},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if r := recover(); r != c.want {
					t.Errorf("%s: panic %v, want %q", c.name, r, c.want)
				}
			}()
			m.EvalTo(x, y, c.out)
		}()
	}
}
