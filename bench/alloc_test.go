package bench

import (
	"math"
	"testing"
)

// TestStepAllocs checks that a training step (gather, TrainStep with the SGD step)
// allocates nothing once the buffers exist, at every benchmarked batch size.
//
// AllocsPerRun reports the average rounded down. What it cannot see, and
// BenchmarkEpoch's B/op shows: now and then (0-15 times per 937-step epoch
// in our runs) an allocation of 112 bytes, made by the Go runtime when a
// goroutine of the model's worker team goes to sleep on a channel (after
// polling for a while) and its per-P cache of waiter records (sudogs) is
// empty.
func TestStepAllocs(t *testing.T) {
	train, _ := data(t)
	for _, n := range []int{16, 64, 256} {
		r := newRun(train, n)
		r.step()
		r.step()
		if got := testing.AllocsPerRun(10, func() { r.step() }); got != 0 {
			t.Errorf("batch %d: %v allocations per step, want 0", n, got)
		}
	}
}

// TestEpochAllocs checks that starting an epoch (the shuffle) allocates
// nothing either, so a whole epoch runs without allocating.
func TestEpochAllocs(t *testing.T) {
	train, _ := data(t)
	r := newRun(train, 64)
	r.step()
	r.step()
	if got := testing.AllocsPerRun(5, func() { r.shuffle(); r.step() }); got != 0 {
		t.Errorf("%v allocations per shuffle+step, want 0", got)
	}
	seen := make([]bool, len(r.perm))
	for _, i := range r.perm {
		if seen[i] {
			t.Fatalf("shuffle: index %d appears twice", i)
		}
		seen[i] = true
	}
}

// TestEvalAllocs checks that a pass over the test set allocates nothing in
// steady state, and that an untrained model's loss is near ln 10 per image
// (PyTorch's default initialisation gives almost uniform outputs).
func TestEvalAllocs(t *testing.T) {
	_, test := data(t)
	e := newEvaluator(test, 1000)
	hits := e.pass()
	if hits < 0 || hits > test.Len() {
		t.Fatalf("hits = %d of %d", hits, test.Len())
	}
	mean := e.lossTotal / float64(test.Len())
	if math.Abs(mean-math.Log(10)) > 0.1 {
		t.Errorf("untrained mean test loss %.4f, want about ln 10 = %.4f", mean, math.Log(10))
	}
	if got := testing.AllocsPerRun(2, func() { e.pass() }); got != 0 {
		t.Errorf("%v allocations per evaluation pass, want 0", got)
	}
}

// TestStepLearns checks that the benchmarked step really trains: 100 steps
// at batch 64 bring the batch loss well below the initial ln 10.
func TestStepLearns(t *testing.T) {
	train, _ := data(t)
	r := newRun(train, 64)
	first := r.step()
	var last float32
	for range 100 {
		last = r.step()
	}
	t.Logf("batch loss %.3f -> %.3f", first, last)
	if !(first > 2.0 && last < 1.0) {
		t.Errorf("loss went from %.3f to %.3f in 100 steps, want from > 2 to < 1", first, last)
	}
}
