package bench

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/cputime"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/model"
	"github.com/tbtrain/tbtrain/trainer"
)

// The trainer's defaults (trainer.DefaultConfig): lr 0.01, momentum 0.9,
// batch 64 — also the lr and momentum bench/pytorch_lenet.py uses.
const (
	lr       = 0.01
	momentum = 0.9
)

// Sinks keep the compiler from dropping benchmarked work.
var (
	sinkLoss float64
	sinkHits int
)

var (
	dataOnce          sync.Once
	trainSet, testSet *mnist.Set
	dataErr           error
)

// data loads MNIST once per test binary.
func data(tb testing.TB) (train, test *mnist.Set) {
	tb.Helper()
	dataOnce.Do(func() { trainSet, testSet, dataErr = mnist.LoadDefault() })
	if dataErr != nil {
		tb.Fatalf("loading MNIST: %v", dataErr)
	}
	return trainSet, testSet
}

// run is the state of one training run: the model, the optimizer, the
// batch buffers and the epoch order.
type run struct {
	net    *model.LeNet5
	opt    *trainer.SGD
	set    *mnist.Set
	x      []float32
	labels []uint8
	perm   []int
	rng    *rand.Rand
	batch  int
	next   int   // index in perm of the next batch's first image
	idx    []int // the step's images: a part of perm
}

// Fill gathers images lo..hi-1 of the step's batch (a model.Filler).
func (r *run) Fill(x []float32, lo, hi int) { r.set.BatchImages(x, r.idx[lo:hi]) }

// newRun builds the model and optimizer the way trainer.New does (seeded
// initialisation, default model options, one SGD buffer per parameter).
func newRun(set *mnist.Set, batch int) *run {
	r := &run{
		net:    model.NewLeNet5(rand.New(rand.NewPCG(1, 2))),
		set:    set,
		x:      make([]float32, batch*model.ImageSize),
		labels: make([]uint8, batch),
		perm:   make([]int, set.Len()),
		rng:    rand.New(rand.NewPCG(3, 4)),
		batch:  batch,
	}
	var sizes []int
	for _, p := range r.net.Params() {
		sizes = append(sizes, len(p.Data))
	}
	r.opt = trainer.NewSGD(momentum, sizes)
	r.shuffle()
	return r
}

// shuffle draws a new epoch order (Fisher–Yates) and starts it.
func (r *run) shuffle() {
	for i := range r.perm {
		r.perm[i] = i
	}
	r.rng.Shuffle(len(r.perm), func(i, j int) { r.perm[i], r.perm[j] = r.perm[j], r.perm[i] })
	r.next = 0
}

// batches is the number of full batches per epoch (the last partial one is
// dropped, as in the trainer and with PyTorch's drop_last).
func (r *run) batches() int { return len(r.perm) / r.batch }

// step trains on the next batch of the current order, starting the order
// again when it runs out, and returns the batch loss.
func (r *run) step() float32 {
	if r.next+r.batch > len(r.perm) {
		r.next = 0
	}
	// as the trainer: each shard gathers its own images, and the SGD
	// step is fused with the sum of the shards' gradients
	r.idx = r.perm[r.next : r.next+r.batch]
	r.next += r.batch
	r.set.BatchLabels(r.labels, r.idx)
	r.opt.BeginStep(lr)
	loss := r.net.TrainStepFill(r.x, r.labels, r, r.opt)
	r.opt.EndStep()
	return loss
}

// epoch shuffles and trains one epoch; it returns the sum of batch losses.
func (r *run) epoch() float64 {
	r.shuffle()
	var sum float64
	for range r.batches() {
		sum += float64(r.step())
	}
	return sum
}

// evaluator runs the test set through a model in batches of a given size.
type evaluator struct {
	net       *model.LeNet5
	set       *mnist.Set
	x         []float32
	labels    []uint8
	pred      []uint8
	idx       []int
	batch     int
	lossTotal float64
}

func newEvaluator(set *mnist.Set, batch int) *evaluator {
	return &evaluator{
		net:    model.NewLeNet5(rand.New(rand.NewPCG(1, 2))),
		set:    set,
		x:      make([]float32, batch*model.ImageSize),
		labels: make([]uint8, batch),
		pred:   make([]uint8, batch),
		idx:    make([]int, batch),
		batch:  batch,
	}
}

// pass evaluates every image of the set in order (the last batch may be
// short) and returns the number classified right; the loss sum is kept in
// e.lossTotal.
func (e *evaluator) pass() int {
	n := e.set.Len()
	hits := 0
	e.lossTotal = 0
	for lo := 0; lo < n; lo += e.batch {
		k := min(e.batch, n-lo)
		for i := range k {
			e.idx[i] = lo + i
		}
		e.set.Batch(e.x[:k*model.ImageSize], e.labels[:k], e.idx[:k])
		e.lossTotal += e.net.Eval(e.x[:k*model.ImageSize], e.labels[:k], e.pred[:k])
		for i := range k {
			if e.pred[i] == e.labels[i] {
				hits++
			}
		}
	}
	return hits
}

// cpuTime is the CPU time (user+system) used by the process so far.
func cpuTime(tb testing.TB) time.Duration {
	d, err := cputime.Process()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// report adds img/s and cpu-µs/img for imagesPerOp images per iteration.
func report(b *testing.B, imagesPerOp int, cpu0 time.Duration) {
	total := float64(imagesPerOp) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/total, "cpu-µs/img")
}

// BenchmarkStep measures one training step (gather, TrainStep with the SGD step).
func BenchmarkStep(b *testing.B) {
	train, _ := data(b)
	for _, n := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			r := newRun(train, n)
			for range 3 { // buffers for this batch size, momentum buffers started
				r.step()
			}
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				sinkLoss = float64(r.step())
			}
			report(b, n, cpu0)
		})
	}
}

// BenchmarkEpoch measures one epoch of the 60,000 training images at batch
// 16 (the PyTorch demo's) and 64 (the trainer's) after one untimed warm-up
// epoch, the work of pytorch_lenet.py at the same batch size.
func BenchmarkEpoch(b *testing.B) {
	train, _ := data(b)
	for _, n := range []int{16, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			r := newRun(train, n)
			r.epoch() // warm-up, as pytorch_lenet.py does
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				sinkLoss = r.epoch()
			}
			report(b, r.batches()*n, cpu0)
		})
	}
}

// BenchmarkEval measures the evaluation of the 10,000 test images.
func BenchmarkEval(b *testing.B) {
	_, test := data(b)
	for _, n := range []int{16, 500, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			e := newEvaluator(test, n)
			e.pass()
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				sinkHits = e.pass()
			}
			report(b, test.Len(), cpu0)
		})
	}
}
