package model

import (
	"math"
	"slices"
	"sync"
	"testing"
)

// halveUpdater is an element-wise update (data -= grad/2) that records which elements it was given, to check the ranges.
type halveUpdater struct {
	mu    sync.Mutex
	calls int
	seen  []int // times each element was updated
}

func (u *halveUpdater) UpdateRange(data, grad []float32, lo, hi int) {
	for i := lo; i < hi; i++ {
		data[i] -= grad[i] / 2
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls++
	for i := lo; i < hi; i++ {
		u.seen[i]++
	}
}

// TestTrainStepMatchesTrainBatch: TrainStep gives TrainBatch's loss and
// gradient bit for bit, and its update covers every parameter exactly
// once, after the gradient is complete (the parameters equal those of the
// same update applied to TrainBatch's whole gradient), at batch sizes that
// give 1, 2 and 4 shards and with 1 to 3 workers.
func TestTrainStepMatchesTrainBatch(t *testing.T) {
	for _, n := range []int{5, 16, 24, 64} {
		for _, workers := range []int{1, 2, 3} {
			x, y := randomBatch(seeded(uint64(40+n)), n)
			a := NewLeNet5With(seeded(41), Options{Workers: workers})
			b := NewLeNet5With(seeded(41), Options{Workers: workers})
			u := &halveUpdater{seen: make([]int, b.NumParams())}
			for step := range 3 {
				la := a.TrainBatch(x, y)
				for i, g := range a.Grad() {
					a.Data()[i] -= g / 2
				}
				clear(u.seen)
				lb := b.TrainStep(x, y, u)
				if math.Float32bits(la) != math.Float32bits(lb) {
					t.Fatalf("n=%d workers=%d step %d: loss %g (TrainBatch) vs %g (TrainStep)", n, workers, step, la, lb)
				}
				if !slices.Equal(bits(a.Grad()), bits(b.Grad())) {
					t.Fatalf("n=%d workers=%d step %d: gradients differ", n, workers, step)
				}
				if !slices.Equal(bits(a.Data()), bits(b.Data())) {
					t.Fatalf("n=%d workers=%d step %d: parameters differ after the update", n, workers, step)
				}
				for i, c := range u.seen {
					if c != 1 {
						t.Fatalf("n=%d workers=%d step %d: parameter %d updated %d times", n, workers, step, i, c)
					}
				}
			}
			if u.calls < 3 {
				t.Errorf("n=%d workers=%d: %d UpdateRange calls in 3 steps", n, workers, u.calls)
			}
		}
	}
}

// TestTrainStepSkipsUpdateWhenLossNotFinite: an infinite bias of the last
// layer gives a loss that is not finite; TrainStep then leaves the
// parameters alone.
func TestTrainStepSkipsUpdateWhenLossNotFinite(t *testing.T) {
	x, y := randomBatch(seeded(50), 16)
	m := NewLeNet5(seeded(51))
	m.Data()[m.NumParams()-1] = float32(math.Inf(1)) // lineNet.5.bias[9]
	before := slices.Clone(m.Data())
	u := &halveUpdater{seen: make([]int, m.NumParams())}
	loss := m.TrainStep(x, y, u)
	if !math.IsNaN(float64(loss)) && !math.IsInf(float64(loss), 0) {
		t.Fatalf("loss %g with an infinite bias, want NaN or infinite", loss)
	}
	if u.calls != 0 {
		t.Errorf("UpdateRange called %d times after a loss of %g", u.calls, loss)
	}
	if !slices.Equal(bits(before), bits(m.Data())) {
		t.Errorf("parameters changed after a loss of %g", loss)
	}
}

// copyFiller fills a batch from src, counting the images it was asked for.
type copyFiller struct {
	src  []float32
	mu   sync.Mutex
	seen []int
}

func (f *copyFiller) Fill(x []float32, lo, hi int) {
	if len(x) != (hi-lo)*ImageSize {
		panic("copyFiller: wrong buffer length")
	}
	copy(x, f.src[lo*ImageSize:hi*ImageSize])
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := lo; i < hi; i++ {
		f.seen[i]++
	}
}

// TestTrainStepFill: a batch filled shard by shard during the step gives
// the results of the same batch filled before it, bit for bit, and every
// image is filled exactly once.
func TestTrainStepFill(t *testing.T) {
	for _, n := range []int{5, 16, 64} {
		x, y := randomBatch(seeded(uint64(60+n)), n)
		a := NewLeNet5(seeded(61))
		b := NewLeNet5(seeded(61))
		f := &copyFiller{src: x, seen: make([]int, n)}
		xb := make([]float32, len(x))
		for step := range 2 {
			ua := &halveUpdater{seen: make([]int, a.NumParams())}
			ub := &halveUpdater{seen: make([]int, b.NumParams())}
			la := a.TrainStep(x, y, ua)
			clear(xb)
			clear(f.seen)
			lb := b.TrainStepFill(xb, y, f, ub)
			if math.Float32bits(la) != math.Float32bits(lb) {
				t.Fatalf("n=%d step %d: loss %g (filled before) vs %g (filled by shards)", n, step, la, lb)
			}
			if !slices.Equal(bits(x), bits(xb)) {
				t.Fatalf("n=%d step %d: the filled batch differs from its source", n, step)
			}
			if !slices.Equal(bits(a.Grad()), bits(b.Grad())) || !slices.Equal(bits(a.Data()), bits(b.Data())) {
				t.Fatalf("n=%d step %d: gradients or parameters differ", n, step)
			}
			for i, c := range f.seen {
				if c != 1 {
					t.Fatalf("n=%d step %d: image %d filled %d times", n, step, i, c)
				}
			}
		}
	}
}
