package model

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
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

// shardGradRef is the per-shard definition of a training step's results,
// computed without the team or the reduce phase: every shard of the batch
// runs forward and the layers' whole backward pass (each layer writing its
// own weight and bias gradient) through buffers of its own, and the
// shards' gradients are added in shard order, ((g0 + g1) + g2) + g3, one
// float32 addition per element. It returns the mean loss and the
// gradient.
func shardGradRef(m *LeNet5, x []float32, y []uint8) (float32, []float32) {
	n := len(y)
	k := m.shardsFor(n)
	grad := make([]float32, m.NumParams())
	var sum float64
	for j := range k {
		lo, hi := shardRange(j, k, n)
		b := hi - lo
		acts := make([][]float32, len(m.layers)+1)
		dacts := make([][]float32, len(m.layers)+1)
		sc := make([]scratch, len(m.layers))
		for i, l := range m.layers {
			acts[i+1] = make([]float32, b*l.outSize())
			dacts[i+1] = make([]float32, b*l.outSize())
			sc[i] = l.newScratch(b)
		}
		logits := m.forward(acts, sc, x[lo*ImageSize:hi*ImageSize], b)
		last := len(m.layers)
		sum += softmaxXent(dacts[last], logits, y[lo:hi], 1/float32(n))
		g := make([]float32, m.NumParams())
		for i := last - 1; i >= 0; i-- {
			l := m.layers[i]
			var din []float32
			if i > 0 {
				din = dacts[i]
			}
			l.backward(m.data[m.offs[i]:], acts[i], acts[i+1], dacts[i+1], din,
				g[m.offs[i]:m.offs[i]+l.numParams()], b, &sc[i])
		}
		if j == 0 {
			copy(grad, g)
			continue
		}
		for e, v := range g {
			grad[e] += v
		}
	}
	return float32(sum / float64(n)), grad
}

// TestReduceMatchesShardGradients: the reduce phase computes the fully
// connected layers' weight gradients row block by row block from the
// shards' kept inputs and output gradients, split across tasks by rows;
// its gradient, loss and update must be those of the per-shard definition
// (shardGradRef) bit for bit, for every way the rows split: 1 to 4 shards
// (each layer's 120, 84 and 10 rows in 1 to 4 parts of unequal sizes,
// fc1's 30 rows per part in blocks of 8, 8, 8 and 6, ...), shards of
// unequal sizes (17 and 64 images in 2 and 3 shards), one shard of 1 or 8
// images, 1 to 3 workers, for TrainBatch and TrainStep over two steps.
// With -short (CI's arm64 run under qemu) it checks batches of 1 and 33
// images (33 in 2, 3 and 4 shards: 16+17, 11+11+11, 8+8+8+9) on 2
// workers.
func TestReduceMatchesShardGradients(t *testing.T) {
	sizes, workerCounts := []int{1, 8, 17, 64}, []int{1, 2, 3}
	if testing.Short() { // CI runs the arm64 tests -short under qemu: 20 s in full
		sizes, workerCounts = []int{1, 33}, []int{2}
	}
	for _, n := range sizes {
		x, y := randomBatch(seeded(uint64(70+n)), n)
		for shards := 1; shards <= 4; shards++ {
			for _, workers := range workerCounts {
				m := NewLeNet5With(seeded(71), Options{Shards: shards, Workers: workers})
				u := &halveUpdater{seen: make([]int, m.NumParams())}
				for step := range 2 {
					wantLoss, wantGrad := shardGradRef(m, x, y)
					want := slices.Clone(m.Data())
					for i, g := range wantGrad {
						want[i] -= g / 2
					}
					var loss float32
					if step == 0 {
						loss = m.TrainBatch(x, y)
						for i, g := range m.Grad() {
							m.Data()[i] -= g / 2
						}
					} else {
						clear(u.seen)
						loss = m.TrainStep(x, y, u)
						for i, c := range u.seen {
							if c != 1 {
								t.Fatalf("n=%d shards=%d workers=%d: parameter %d updated %d times", n, shards, workers, i, c)
							}
						}
					}
					if math.Float32bits(loss) != math.Float32bits(wantLoss) {
						t.Fatalf("n=%d shards=%d workers=%d step %d: loss %g, per-shard reference %g", n, shards, workers, step, loss, wantLoss)
					}
					if i := firstDiff(m.Grad(), wantGrad); i >= 0 {
						t.Fatalf("n=%d shards=%d workers=%d step %d: gradient[%d] = %g, per-shard reference %g",
							n, shards, workers, step, i, m.Grad()[i], wantGrad[i])
					}
					if i := firstDiff(m.Data(), want); i >= 0 {
						t.Fatalf("n=%d shards=%d workers=%d step %d: parameter %d = %g after the update, want %g",
							n, shards, workers, step, i, m.Data()[i], want[i])
					}
				}
			}
		}
	}
}

// firstDiff returns the first index where a and b differ in their bits,
// or -1.
func firstDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestReduceAfterPrefix forces the prefixes a participant waiting at the
// step's barrier sums ahead of the reduce tasks (LeNet5.ahead) and checks
// that the step still gives the loss, gradient and parameters of a
// one-worker model bit for bit. A wrapper of the train task holds a
// participant after it has trained its shard (before the shard counts as
// finished) until another participant, waiting at the barrier, has left
// the expected prefix state in its reduce tasks:
//   - batch 16, 2 workers (2 shards): shard 0 waits until participant 1
//     has put shard 1's term alone into its tasks 1 and 3 (preSwapped);
//     the reduce tasks add shard 0's;
//   - batch 64, 2 workers (4 shards): shard 1 (participant 1) waits
//     until participant 0, which has run shards 0, 2 and 3, has summed
//     shard 0's term into its tasks 0 and 2 (count 1);
//   - batch 64, 3 workers: shard 0 waits until participant 1 (shards 1
//     and 3) has put shard 1's term alone into its task 1, then shard 2
//     (participant 2) until participant 1 has added shard 0's to it
//     (count 2); the reduce task adds shards 2's and 3's.
//
// A hold gives up when the participant it waits for has gone to sleep
// (it polls for spinFor only) and fails the test after 10 s. A task that
// another participant took over (stealing) is not held; steps are
// repeated (up to 50) until every hold has held once.
func TestReduceAfterPrefix(t *testing.T) {
	type hold struct {
		task, p int   // train task task run by participant p waits
		by      int   // for participant by to leave
		tasks   []int // these reduce tasks
		state   int32 // in state
	}
	for _, tc := range []struct {
		name       string
		n, workers int
		holds      []hold
	}{
		{"batch16-second-first", 16, 2, []hold{{0, 0, 1, []int{1, 3}, 1 | preSwapped}}},
		{"batch64-first", 64, 2, []hold{{1, 1, 0, []int{0, 2}, 1}}},
		{"batch64-second-then-first", 64, 3, []hold{{0, 0, 1, []int{1}, 1 | preSwapped}, {2, 2, 1, []int{1}, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, y := randomBatch(seeded(uint64(60+tc.n)), tc.n)
			a := NewLeNet5With(seeded(61), Options{Workers: 1})
			b := NewLeNet5With(seeded(61), Options{Workers: tc.workers})
			held := make([]int, len(tc.holds))
			b.stepJob.fn = func(p, task int) {
				b.trainTask(p, task)
				for i, h := range tc.holds {
					if h.task != task || h.p != p {
						continue
					}
					deadline := time.Now().Add(10 * time.Second)
					ok := true
					for _, r := range h.tasks {
						for ok && b.pre[r].Load() != h.state {
							if b.team.part(h.by).sleeping.Load() == 1 {
								ok = false
							} else if time.Now().After(deadline) {
								t.Errorf("train task %d: reduce task %d's state is %#x, want %#x", task, r, b.pre[r].Load(), h.state)
								ok = false
							}
							runtime.Gosched()
						}
					}
					if ok {
						held[i]++
					}
				}
			}
			ua := &halveUpdater{seen: make([]int, a.NumParams())}
			ub := &halveUpdater{seen: make([]int, b.NumParams())}
			for step := 0; step < 50 && slices.Contains(held, 0); step++ {
				la := a.TrainStep(x, y, ua)
				lb := b.TrainStep(x, y, ub)
				if math.Float32bits(la) != math.Float32bits(lb) {
					t.Fatalf("step %d: loss %g, want %g", step, lb, la)
				}
				if !slices.Equal(bits(a.Grad()), bits(b.Grad())) {
					t.Fatalf("step %d: gradients differ", step)
				}
				if !slices.Equal(bits(a.Data()), bits(b.Data())) {
					t.Fatalf("step %d: parameters differ", step)
				}
			}
			for i, c := range held {
				if c == 0 {
					t.Errorf("hold %+v never held in 50 steps: its prefix was not forced", tc.holds[i])
				}
			}
			t.Logf("holds held: %v", held)
		})
	}
}
