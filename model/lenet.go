package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"

	"github.com/tbtrain/tbtrain/internal/kern"
)

// Panic messages for programmer errors.
const (
	errInputLen   = "model: len(x) != 784*len(labels)"
	errPredLen    = "model: len(pred) != len(labels)"
	errProbsLen   = "model: len(Probs) != 10*len(labels)"
	errFeatsLen   = "model: len(Features) != 84*len(labels)"
	errLabel      = "model: label out of range [0, 10)"
	errShards     = "model: Options.Shards must be >= 0"
	errWorkers    = "model: Options.Workers must be >= 0"
	errNilRand    = "model: nil *rand.Rand"
	errEmptyTrain = "model: TrainBatch with no images"
)

// Sizes of the network: the PyTorch demo's LeNet-5 (see LeNet5).
const (
	// ImageSize is the number of pixels of one input image (1×28×28).
	ImageSize = 28 * 28
	// NumClasses is the number of outputs (the digits 0-9).
	NumClasses = 10
	// FeatureSize is the width of the penultimate activations: the 84
	// outputs of lineNet.3 after its ReLU, the input of the last linear
	// layer lineNet.5 (see [EvalOutputs]).
	FeatureSize = 84
	// numParams is 6*25+6 + 16*150+16 + 120*400+120 + 84*120+84 + 10*84+10.
	numParams = 61706
)

// DefaultShards is the number of shards a batch is split into when
// Options.Shards is 0. Four shards give two per core on the 2-core target
// machine, so the load stays balanced when a core is busy elsewhere; at
// batch 64 they cost no more than fewer, larger shards (BenchmarkShards
// -cpu 1: 43-46 CPU-µs/img for 1, 2 and 4 shards, 45-48 for 8).
const DefaultShards = 4

// MinShardImages is the fewest images a shard gets when the batch allows:
// a batch of n images is split into min(Options.Shards, max(1,
// n/MinShardImages)) shards. Each shard writes a whole gradient vector that
// is then added up, and small shards make small products: at batch 16, 4
// shards of 4 images cost 27.1 CPU-µs per image, 2 shards of 8 22.8 and
// one of 16 20.8 (-cpu 1, avx512 path, Intel Xeon with AVX-512,
// 2026-12-02), while at batch 64 1 to 4 shards cost the same (21.9-23.1).
const MinShardImages = 8

// conv1Chunk and conv2Chunk are the numbers of images the convolutions
// process at a time. BenchmarkConvTuning -cpu 1 at batch 64 (shards of 16)
// measured 45.5 cpu-µs/img for 4 and 16, 47-50 for the other pairs of
// {4, 8, 16}, 53-55 with conv2 chunks of 2: conv2's GEMMs gain from longer
// rows more than they lose from a patch matrix (150 × 1600 floats) larger
// than the 512 KiB L2.
const (
	conv1Chunk = 4
	conv2Chunk = 16
)

// evalChunk is the number of images Eval processes as one unit of work.
const evalChunk = 32

// Options tunes a LeNet5. The zero value is ready to use.
type Options struct {
	// Workers is the number of goroutines (including the caller's) that run
	// shards in parallel; 0 means runtime.GOMAXPROCS(0), and more than
	// Shards are never used. It never changes any result, only the speed.
	Workers int
	// Shards is the number of parts every batch of at least
	// Shards·MinShardImages images is split into (a smaller batch of n
	// images into max(1, n/MinShardImages)); each part's gradient is
	// computed separately and the parts are summed in order. 0 means
	// DefaultShards. Results (bit patterns of gradients and
	// losses) depend on it, so a resumed run must use the same value.
	Shards int
}

// Param is one named parameter tensor. Data and Grad alias the model's
// storage: writing Data changes the model, and TrainBatch overwrites Grad.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
	Grad  []float32
}

// LeNet5 is the PyTorch demo's network: Conv(1→6, 5×5, pad 2) → ReLU →
// MaxPool 2 → Conv(6→16, 5×5) → ReLU → MaxPool 2 → Flatten(400) → Linear 120
// → ReLU → Linear 84 → ReLU → Linear 10, trained with mean cross-entropy.
//
// A LeNet5 is not safe for concurrent use: one TrainBatch or Eval at a time.
type LeNet5 struct {
	opts   Options
	layers []layer
	offs   []int // offset of each layer's parameters in data/grad
	data   []float32
	grad   []float32
	params []Param

	shards []*shard
	team   *team

	// The fully connected layers are layers fcFirst.. (see reduceTask);
	// their parameters start at convEnd = offs[fcFirst]. A shard's
	// gradient vector holds the convolutions' parameters only.
	fcFirst int
	convEnd int

	// the call in progress, read by the task functions
	x         []float32
	labels    []uint8
	out       EvalOutputs
	n         int
	active    int     // shards of the TrainBatch in progress
	update    Updater // TrainStep's update, nil if none (set by endTrain)
	stepU     Updater // TrainStep's u, applied if the loss is finite
	stepLoss  float32 // the mean loss of the step in progress (endTrain)
	fill      Filler  // TrainStepFill's filler, nil if none
	chunkLoss []float64

	// stepJob is a training step: trainTask for each shard, then
	// reduceTask for each part of the parameters; evalJob is Eval's.
	stepJob, evalJob job

	// pre[t] is reduce task t's prefix state: what ahead has already
	// summed into its rows of the fully connected layers' gradients (see
	// preCount).
	pre []atomic.Int32
}

// A reduce task's prefix state (LeNet5.pre) holds, in its low bits
// (preCount), how many of the shards' terms, in shard order, ahead has
// summed into the task's rows of the fully connected layers' weight and
// bias gradients (0: none, the rows hold nothing of this step); with
// preSwapped, the count is 1 and the term is the second shard's alone,
// which the first's completes as the same sum (one addition commutes).
// preBusy is set while ahead writes the rows, preOwned once the task has
// started (owned): ahead then leaves it alone.
const (
	preCount   = 1<<8 - 1
	preSwapped = 1 << 8
	preBusy    = 1 << 9
	preOwned   = 1 << 10
)

// shard holds everything one part of a batch needs: activations, their
// gradients, per-layer scratch and a private gradient vector of the
// convolutions' parameters.
type shard struct {
	busy  atomic.Bool // claimed as a participant buffer set (claim)
	cap   int         // images acts and sc hold
	dcap  int         // images dacts hold
	acts  [][]float32 // acts[i+1] = output of layer i; acts[0] is the input
	dacts [][]float32 // dacts[i+1] = dL/d acts[i+1]
	sc    []scratch
	grad  []float32 // dL/d(convolution parameters), m.convEnd floats
	loss  float64   // sum of per-image losses of the last TrainBatch

	// view and dview are the activation lists of the train task this
	// shard's participant runs (see trainTask).
	view, dview [][]float32
	// terms holds the shards' products of a block of a fully connected
	// layer's weight rows, or of the bias entries of a reduce task's rows,
	// in the reduce task this shard's participant runs, and ones dcap
	// ones, the column the bias sums multiply (see reduceLinear).
	terms []kern.TProduct
	ones  []float32
}

// NewLeNet5 returns a LeNet-5 with default Options, initialised as
// PyTorch's defaults with values drawn from rng (see NewLeNet5With).
func NewLeNet5(rng *rand.Rand) *LeNet5 { return NewLeNet5With(rng, Options{}) }

// NewLeNet5With returns a LeNet-5 initialised like PyTorch 1.13's
// reset_parameters of Conv2d and Linear (torch/nn/modules/conv.py and
// linear.py): kaiming_uniform_(weight, a=√5), which is U(-1/√fan_in,
// 1/√fan_in) since gain = √(2/(1+a²)) = √(1/3) and bound = gain·√(3/fan_in)
// (torch/nn/init.py), and bias ~ U(-1/√fan_in, 1/√fan_in), fan_in = in
// features or cin·k·k. Values are drawn in state_dict order (each weight
// tensor in row-major order, then its bias) as lo + (hi-lo)·rng.Float64(),
// rounded to float32; the same rng state gives the same model.
//
// It panics if rng is nil or opts has negative fields.
func NewLeNet5With(rng *rand.Rand, opts Options) *LeNet5 {
	if rng == nil {
		panic(errNilRand)
	}
	if opts.Shards < 0 {
		panic(errShards)
	}
	if opts.Workers < 0 {
		panic(errWorkers)
	}
	if opts.Shards == 0 {
		opts.Shards = DefaultShards
	}
	m := &LeNet5{
		layers: []layer{
			&conv{cin: 1, cout: 6, h: 28, w: 28, k: 5, pad: 2, relu: true, pool: true, wide: true, chunk: conv1Chunk},
			&conv{cin: 6, cout: 16, h: 14, w: 14, k: 5, relu: true, pool: true, flatten: true, chunk: conv2Chunk},
			&linear{in: 400, out: 120, relu: true},
			&linear{in: 120, out: 84, relu: true},
			&linear{in: 84, out: 10},
		},
	}
	total := 0
	m.fcFirst = -1
	for i, l := range m.layers {
		m.offs = append(m.offs, total)
		total += l.numParams()
		if _, ok := l.(*linear); ok && m.fcFirst < 0 {
			m.fcFirst = i
		}
	}
	for _, l := range m.layers[m.fcFirst:] {
		if _, ok := l.(*linear); !ok {
			panic("model: a convolution after a fully connected layer")
		}
	}
	m.convEnd = m.offs[m.fcFirst]
	if total != numParams {
		panic("model: layer sizes do not add up to 61706 parameters")
	}
	// The fully connected layers' parameters (from convEnd = 2572, the
	// largest tensor first) start on a cache line, and so do conv2's (156
	// ≡ 2572 mod 16): the reduce phase's parts of them then share no line
	// with each other's (fc1's parts are 12,000 floats), and
	// trainer.NewSGD aligns the momentum vector the same way. Data and
	// Grad are the same concatenation as ever.
	m.data = kern.AlignedFloats(total, m.convEnd)
	m.grad = kern.AlignedFloats(total, m.convEnd)
	specs := []struct {
		name  string
		layer int
		shape []int
	}{
		{"convModel.0", 0, []int{6, 1, 5, 5}},
		{"convModel.3", 1, []int{16, 6, 5, 5}},
		{"lineNet.1", 2, []int{120, 400}},
		{"lineNet.3", 3, []int{84, 120}},
		{"lineNet.5", 4, []int{10, 84}},
	}
	for _, s := range specs {
		off := m.offs[s.layer]
		nw := 1
		for _, d := range s.shape {
			nw *= d
		}
		nb := s.shape[0]
		fanIn := nw / nb
		bound := 1 / math.Sqrt(float64(fanIn))
		w := m.data[off : off+nw]
		bias := m.data[off+nw : off+nw+nb]
		uniform(rng, w, -bound, bound)
		uniform(rng, bias, -bound, bound)
		m.params = append(m.params,
			Param{Name: s.name + ".weight", Shape: s.shape, Data: w, Grad: m.grad[off : off+nw]},
			Param{Name: s.name + ".bias", Shape: []int{nb}, Data: bias, Grad: m.grad[off+nw : off+nw+nb]},
		)
	}
	m.shards = make([]*shard, opts.Shards)
	for i := range m.shards {
		m.shards[i] = &shard{
			grad:  make([]float32, m.convEnd),
			terms: make([]kern.TProduct, opts.Shards),
		}
	}
	m.stepJob.fn = m.trainTask
	m.stepJob.between = m.endTrain
	m.stepJob.then = m.reduceTask
	m.stepJob.ahead = m.ahead
	m.pre = make([]atomic.Int32, len(m.shards))
	m.evalJob.fn = m.evalTask
	m.setOptions(opts)
	return m
}

// uniform fills x with lo + (hi-lo)·u, u = rng.Float64() in [0, 1), rounded
// to float32 (PyTorch's uniform_ computes from + (to-from)·u). The product
// is rounded before the sum (the conversion keeps compilers that fuse, as
// on arm64, from fusing), so the values are the same on every processor.
func uniform(rng *rand.Rand, x []float32, lo, hi float64) {
	for i := range x {
		x[i] = float32(lo + float64((hi-lo)*rng.Float64()))
	}
}

// SetWorkers changes the number of goroutines used per call (0 means
// runtime.GOMAXPROCS(0)). Results do not depend on it.
func (m *LeNet5) SetWorkers(n int) {
	if n < 0 {
		panic(errWorkers)
	}
	o := m.opts
	o.Workers = n
	m.setOptions(o)
}

func (m *LeNet5) setOptions(o Options) {
	m.opts = o
	w := o.Workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	w = max(1, min(w, o.Shards))
	if m.team != nil && m.team.size() == w {
		return
	}
	if m.team != nil {
		m.team.stop()
	}
	m.team = newTeam(w)
	t := m.team
	runtime.AddCleanup(m, func(t *team) { t.stop() }, t)
}

// Options returns the options in use (Shards filled in with its default).
func (m *LeNet5) Options() Options { return m.opts }

// Numerics describes everything besides the inputs that the bits of
// TrainBatch's and Eval's results depend on: the shard count, the chunk
// sizes and the kern package's canonical arithmetic (kern.Arithmetic),
// which every kern code path computes on every processor. Two models with
// equal Numerics give bitwise identical results on identical inputs and
// parameters, whatever their Workers, processor or kern code path
// (kern.Impl); a checkpoint records it to tell whether a resumed run will
// continue bit for bit.
func (m *LeNet5) Numerics() string {
	return fmt.Sprintf("lenet5 shards=%d min-shard-images=%d conv-chunks=%d,%d eval-chunk=%d arith=%s",
		m.opts.Shards, MinShardImages, conv1Chunk, conv2Chunk, evalChunk, kern.Arithmetic)
}

// Params returns the parameters in PyTorch state_dict order: convModel.0.weight
// [6,1,5,5], convModel.0.bias [6], convModel.3.weight [16,6,5,5],
// convModel.3.bias [16], lineNet.1.weight [120,400], lineNet.1.bias [120],
// lineNet.3.weight [84,120], lineNet.3.bias [84], lineNet.5.weight [10,84],
// lineNet.5.bias [10]. Data and Grad are row-major and alias the model.
// The slice is shared; callers must not modify it (the tensors' contents,
// yes).
func (m *LeNet5) Params() []Param { return m.params }

// NumParams returns the number of scalar parameters, 61,706.
func (m *LeNet5) NumParams() int { return len(m.data) }

// Data returns all parameters as one vector: the Params' Data concatenated in
// order (the Params alias it).
func (m *LeNet5) Data() []float32 { return m.data }

// Grad returns all gradients as one vector, aliased by the Params' Grad.
func (m *LeNet5) Grad() []float32 { return m.grad }

// ensure makes every shard's forward buffers (and, if backward, gradient
// buffers) hold at least b images. Buffers only grow, so alternating
// TrainBatch and Eval does not reallocate.
func (m *LeNet5) ensure(b int, backward bool) {
	for _, s := range m.shards {
		if s.cap < b {
			s.cap = b
			s.acts = make([][]float32, len(m.layers)+1)
			s.view = make([][]float32, len(m.layers)+1)
			s.sc = make([]scratch, len(m.layers))
			for i, l := range m.layers {
				s.acts[i+1] = make([]float32, b*l.outSize())
				s.sc[i] = l.newScratch(b)
			}
		}
		if backward && s.dcap < b {
			s.dcap = b
			s.dacts = make([][]float32, len(m.layers)+1)
			s.dview = make([][]float32, len(m.layers)+1)
			for i, l := range m.layers {
				s.dacts[i+1] = make([]float32, b*l.outSize())
			}
			s.ones = make([]float32, b)
			for i := range s.ones {
				s.ones[i] = 1
			}
		}
	}
}

// forward runs the network on b images of x through the activation
// buffers acts (acts[i+1] receives layer i's output; acts[0] is set to x)
// and scratch sc, and returns the logits (b×10).
func (m *LeNet5) forward(acts [][]float32, sc []scratch, x []float32, b int) []float32 {
	acts[0] = x
	for i, l := range m.layers {
		l.forward(m.data[m.offs[i]:], acts[i][:b*l.inSize()], acts[i+1], b, &sc[i])
	}
	return acts[len(m.layers)][:b*NumClasses]
}

// shardRange is the part of an n-image batch shard i of k gets:
// images [i*n/k, (i+1)*n/k).
func shardRange(i, k, n int) (int, int) { return i * n / k, (i + 1) * n / k }

// TrainBatch runs forward and backward passes on n = len(labels) images (x
// holds n*784 values, image after image, each 28×28 row-major, already
// scaled), OVERWRITES every Param's Grad with d(mean cross-entropy)/d(param)
// and returns the mean loss.
//
// The batch is split into contiguous parts (Options.Shards of them, fewer
// for a batch of fewer than Shards·MinShardImages images); each part's
// gradient is computed on its own and the parts are added in order, so the
// result is bitwise the same for any Workers or GOMAXPROCS.
//
// It panics if n is 0, len(x) != 784*n or a label is >= 10.
func (m *LeNet5) TrainBatch(x []float32, labels []uint8) float32 {
	return m.TrainStep(x, labels, nil)
}

// Updater is an optimizer step that works element by element, applied by
// [LeNet5.TrainStep] piece by piece. UpdateRange updates data[lo:hi] from
// grad[lo:hi] (data and grad are the model's Data and Grad, lo <= hi); it
// is called once for each of a set of disjoint ranges that cover the
// vectors, concurrently from several goroutines, each time after
// grad[lo:hi] holds the batch's gradient. It must touch no element outside
// [lo, hi) of data, grad or its own state.
type Updater interface {
	UpdateRange(data, grad []float32, lo, hi int)
}

// TrainStep is TrainBatch followed by the parameter update u (nil: none),
// fused with the sum of the shards' gradients: each part of the gradient
// vector is updated by the goroutine that has just summed it, while it is
// in that core's cache, instead of in a separate pass by one goroutine.
// Grad and the returned loss are TrainBatch's, bit for bit, and so are the
// parameters afterwards as long as u works element by element (as
// trainer.SGD does). If the mean loss is NaN or infinite, u is not called
// and the parameters stay as they were.
//
// It panics as TrainBatch does.
func (m *LeNet5) TrainStep(x []float32, labels []uint8, u Updater) float32 {
	return m.TrainStepFill(x, labels, nil, u)
}

// Filler writes the images of a batch into its input buffer: Fill(x, lo,
// hi) writes images lo..hi-1 of the batch into x, which holds exactly
// their (hi-lo)·784 values (layout as in TrainBatch). It is called once
// for each of a set of disjoint ranges that cover the batch, concurrently
// from several goroutines.
type Filler interface {
	Fill(x []float32, lo, hi int)
}

// TrainStepFill is TrainStep on a batch whose images f writes into x (nil:
// x is already filled): each shard fills its own images just before its
// forward pass, so gathering a batch runs on every core and leaves the
// images in the cache of the core that reads them. Results are
// TrainStep's on the filled x, bit for bit. labels must be filled before
// the call.
//
// It panics as TrainBatch does.
func (m *LeNet5) TrainStepFill(x []float32, labels []uint8, f Filler, u Updater) float32 {
	n := len(labels)
	if n == 0 {
		panic(errEmptyTrain)
	}
	if len(x) != n*ImageSize {
		panic(errInputLen)
	}
	checkLabels(labels)
	k := m.shardsFor(n)
	m.ensure((n+k-1)/k, true)
	m.x, m.labels, m.n, m.active, m.fill, m.stepU = x, labels, n, k, f, u
	for t := range m.pre {
		m.pre[t].Store(0)
	}
	m.team.run(&m.stepJob, k, len(m.shards))
	m.x, m.labels, m.fill, m.update, m.stepU = nil, nil, nil, nil, nil
	return m.stepLoss
}

// endTrain runs once between a step's train tasks and its reduce tasks
// (on whichever participant finished the last train task): it adds the
// shards' losses in shard order into the step's mean loss and lets the
// reduce tasks apply the update only if that loss is finite.
func (m *LeNet5) endTrain() {
	var sum float64
	k := m.active
	for i, s := range m.shards[:k] {
		if lo, hi := shardRange(i, k, m.n); hi > lo {
			sum += s.loss
		}
	}
	loss := float32(sum / float64(m.n))
	m.stepLoss = loss
	m.update = nil
	if !math.IsNaN(float64(loss)) && !math.IsInf(float64(loss), 0) {
		m.update = m.stepU
	}
}

func checkLabels(labels []uint8) {
	for _, y := range labels {
		if y >= NumClasses {
			panic(errLabel)
		}
	}
}

// shardsFor returns the number of shards a batch of n images is split
// into: Options.Shards, but at most one per MinShardImages images.
func (m *LeNet5) shardsFor(n int) int {
	return min(len(m.shards), max(1, n/MinShardImages))
}

// trainTask computes shard t's loss sum, its gradient of the
// convolutions' parameters (of the batch mean) and the inputs and output
// gradients of its fully connected layers, on team participant p. The
// convolutions' activations and scratch are used within the task alone,
// so it takes a participant buffer set (claim: the one last used on the
// same processor, if free). With two shards per core, one set of them per
// core stays in the core's L2 cache, where one set per shard did not
// (about 1.5 MB each in shards of
// 16 images, 960 KB of it conv2's patch matrix, against 2 MB of L2 per
// core on the AVX-512 machine of docs/speed.md). The fully connected
// layers' inputs and output gradients (acts[fcFirst:], dacts[fcFirst+1:],
// 52 KB for a shard of 16 images) are shard t's own: the reduce
// phase reads them to compute those layers' weight gradients
// (reduceLinear), so a fully connected layer's backward pass here only
// masks its output gradient and computes its input gradient.
func (m *LeNet5) trainTask(p, t int) {
	gs := m.shards[t]
	lo, hi := shardRange(t, m.active, m.n)
	b := hi - lo
	if b == 0 {
		return
	}
	s := m.claim(p)
	defer m.release(s)
	acts, dacts := s.view, s.dview
	for i := range acts {
		acts[i], dacts[i] = s.acts[i], s.dacts[i]
		if i >= m.fcFirst {
			acts[i] = gs.acts[i]
		}
		if i > m.fcFirst {
			dacts[i] = gs.dacts[i]
		}
	}
	x := m.x[lo*ImageSize : hi*ImageSize]
	if m.fill != nil {
		m.fill.Fill(x, lo, hi)
	}
	logits := m.forward(acts, s.sc, x, b)
	last := len(m.layers)
	gs.loss = softmaxXent(dacts[last][:b*NumClasses], logits, m.labels[lo:hi], 1/float32(m.n))
	for i := last - 1; i >= 0; i-- {
		l := m.layers[i]
		var din, g []float32
		if i > 0 {
			din = dacts[i]
		}
		if i < m.fcFirst {
			g = gs.grad[m.offs[i] : m.offs[i]+l.numParams()]
		}
		l.backward(m.data[m.offs[i]:], acts[i][:b*l.inSize()], acts[i+1][:b*l.outSize()],
			dacts[i+1][:b*l.outSize()], din, g, b, &s.sc[i])
	}
}

// reduceTask computes part t (of len(m.shards)) of the batch gradient on
// participant p and applies TrainStep's update to that part while it is
// in p's cache: elements [convPart(t), convPart(t+1)) of the
// convolutions' C parameters, about C/T of them (the sum of the shards'
// gradients, reducePart), and for
// every fully connected layer of r rows its rows [t·r/T, (t+1)·r/T) of
// weights and the same bias entries (reduceLinear).
func (m *LeNet5) reduceTask(p, t int) {
	lo, hi := m.convPart(t), m.convPart(t+1)
	m.reducePart(lo, hi)
	if m.update != nil && hi > lo {
		m.update.UpdateRange(m.data, m.grad, lo, hi)
	}
	n, swapped := m.own(t)
	m.fcSums(m.shards[p], t, m.restOf(n, swapped), m.update)
}

// termSpan selects terms from..to-1 of a sum over the step's shards with
// images, in shard order, leaving term 1 out if skip1; add: the rows
// already hold the sum of the terms before (kern.AddTProducts continues
// it), else they are overwritten (kern.SumTProducts).
type termSpan struct {
	from, to   int
	skip1, add bool
}

// restOf is the span of terms a reduce task still adds to rows whose
// prefix state (see own) is n terms summed, the second shard's alone if
// swapped: all of them, or those after the first n, or every one but the
// second.
func (m *LeNet5) restOf(n int, swapped bool) termSpan {
	all := len(m.shards)
	if swapped {
		return termSpan{from: 0, to: all, skip1: true, add: true}
	}
	return termSpan{from: n, to: all, add: n > 0}
}

// own marks reduce task t as started, once ahead is not writing its rows,
// and returns its prefix state: the count of terms already summed and
// whether that one term is the second shard's (see preCount). ahead
// takes the state with a CompareAndSwap and releases it with a Store
// after its rows; own takes it with a CompareAndSwap, so it sees ahead's
// last write to it (and ahead's rows with it).
func (m *LeNet5) own(t int) (n int, swapped bool) {
	for {
		s := m.pre[t].Load()
		if s&preBusy == 0 && m.pre[t].CompareAndSwap(s, s|preOwned) {
			return int(s & preCount), s&preSwapped != 0
		}
		runtime.Gosched() // ahead is summing a prefix: a few µs at most
	}
}

// ahead is the step's work for a participant p of parts that waits for
// the last train tasks: for the first of its own reduce tasks (p, p+parts,
// ...) not yet started whose prefix the finished train tasks extend, it
// sums the shards' terms into the task's rows of the fully connected
// layers' gradients (fcSums), as far as the finished shards allow: the
// terms of the first shards in order, or the second shard's alone while
// the first is still training. The reduce task then adds only the rest
// (reduceLinear), whoever runs it, with the same bits: the sum is the
// same chain of float32 additions in shard order. One call does one
// task's piece, so the caller checks for the second phase in between.
func (m *LeNet5) ahead(p, parts int) {
	if len(m.shards) > preCount || m.fcFirst == len(m.layers) {
		return
	}
	q, second := m.endedTerms()
	for t := p; t < len(m.shards); t += parts {
		s := m.pre[t].Load()
		if s&(preBusy|preOwned) != 0 {
			continue
		}
		n, swapped := int(s&preCount), s&preSwapped != 0
		from, to, skip1, add := 0, q, false, n > 0
		next := int32(q)
		switch {
		case swapped && q >= 2:
			skip1 = true // the first shard's term, then those after the second's
		case swapped:
			continue
		case n == 0 && q == 0 && second:
			from, to, next = 1, 2, 1|preSwapped
		case q > n:
			from = n
		default:
			continue
		}
		if !m.pre[t].CompareAndSwap(s, s|preBusy) {
			continue // the task has just started
		}
		m.fcSums(m.shards[p], t, termSpan{from, to, skip1, add}, nil)
		m.pre[t].Store(next)
		return
	}
}

// endedTerms returns how many of the step's terms (its shards with
// images, in order) have finished training from the first on, and
// whether the second has.
func (m *LeNet5) endedTerms() (q int, second bool) {
	k := m.active
	ti, prefix := 0, true
	for j := range k {
		if lo, hi := shardRange(j, k, m.n); hi == lo {
			continue
		}
		e := m.stepJob.ended[j].Load()
		if prefix && e {
			q++
		} else {
			prefix = false
		}
		if ti == 1 {
			second = e
		}
		ti++
	}
	return q, second
}

// fcSums sums the terms span selects of reduce task t's rows of the
// fully connected layers' weight and bias gradients into m.grad (see
// reduceLinear), applying u to each block once summed (nil: no update).
func (m *LeNet5) fcSums(ps *shard, t int, span termSpan, u Updater) {
	for i := m.fcFirst; i < len(m.layers); i++ {
		l := m.layers[i].(*linear)
		r0, r1 := shardRange(t, len(m.shards), l.out)
		m.reduceLinear(ps, i, l, r0, r1, span, u)
	}
}

// fcTerms returns, in ps.terms, the products of the terms span selects
// (the step's shards with images, in order) of layer i's weight gradient
// rows from a (bias false: dY_j[:, a:]ᵀ·X_j) or bias entries from a
// (1ᵀ·dY_j[:, a:]).
func (m *LeNet5) fcTerms(ps *shard, i int, l *linear, a int, bias bool, span termSpan) []kern.TProduct {
	terms := ps.terms[:0]
	k := m.active
	ti := 0
	for j, s := range m.shards[:k] {
		lo, hi := shardRange(j, k, m.n)
		nb := hi - lo
		if nb == 0 {
			continue
		}
		if ti >= span.from && ti < span.to && (!span.skip1 || ti != 1) {
			if bias {
				terms = append(terms, kern.TProduct{A: ps.ones[:nb], Lda: 1, B: s.dacts[i+1][a : nb*l.out], Ldb: l.out, K: nb})
			} else {
				terms = append(terms, kern.TProduct{A: s.dacts[i+1][a : nb*l.out], Lda: l.out, B: s.acts[i][:nb*l.in], Ldb: l.in, K: nb})
			}
		}
		ti++
	}
	return terms
}

// convPart is where part t of len(m.shards) of the convolutions'
// parameters starts: t·C/T rounded to the nearest cache line (16 floats)
// of data and grad, whose lines start at the indices ≡ convEnd mod 16
// (see NewLeNet5With), so that no line is written by two reduce tasks.
func (m *LeNet5) convPart(t int) int {
	const lf = kern.CacheLine / 4
	c := m.convEnd
	x, _ := shardRange(t, len(m.shards), c)
	return max(0, c-(c-x+lf/2)/lf*lf)
}

// reducePart sums the active shards' gradients into m.grad[lo:hi] (a
// range of the convolutions' parameters).
func (m *LeNet5) reducePart(lo, hi int) {
	dst := m.grad[lo:hi]
	var pend []float32 // a shard's part not yet added
	n := 0             // shards seen
	k := m.active
	for i, s := range m.shards[:k] {
		if a, b := shardRange(i, k, m.n); b == a {
			continue
		}
		pend, n = addShard(dst, pend, s.grad[lo:hi], n)
	}
	finishShards(dst, pend, n)
}

// fcBlockRows is the number of rows of a fully connected layer with in
// inputs whose weight gradient reduceLinear computes (and updates) at a
// time: as many as fit fcBlockFloats, rounded down to a multiple of 6 (the
// height of the amd64 kernels' panels, kern's mr: 8 rows would run as two
// panels of 4), at least 6. The block of the batch gradient then stays in
// the L1 cache from its sum to its update, while the shards' activations
// stream past.
func fcBlockRows(in int) int { return max(6, fcBlockFloats/in/6*6) }

// fcBlockFloats bounds the size of the batch gradient of a block of rows
// in reduceLinear: 3,200 floats, 6 rows of fc1 (9.6 KB), 24 of fc2 and
// 36 of fc3.
const fcBlockFloats = 3200

// reduceLinear computes rows r0..r1-1 of the batch gradient of fully
// connected layer i (weights and bias) into m.grad, the terms span
// selects of it (all of them unless the barrier's ahead work summed some,
// see ahead), and applies u (TrainStep's update; nil: none) to each block
// once summed, using participant buffers ps.terms and ps.ones. Shard
// j's gradient of a row block is computed from its input X_j (b_j × in)
// and masked output gradient dY_j (b_j × out) kept by trainTask, as the
// layer's backward pass would: dW_j[r0:r1] = dY_j[:, r0:r1]ᵀ · X_j (the
// chain form of kern's canonical arithmetic: the same chain of fmas over
// the shard's images for each element whatever rows are asked for) and
// the bias gradient as float32 sums over the images in order from +0; the
// shards' gradients are then added as reducePart adds them, ((g0 + g1) +
// g2) + g3. kern.SumTProducts computes exactly this, the shards' products
// and their sum at once (on the AVX-512 path without storing any shard's
// product by itself); the bias sums are its products with a column of
// ones, fma(1, y, s) being the rounded sum y + s. So every bit is that of
// a per-shard gradient summed over shards, while each core reads only the
// other shards' small X_j and dY_j instead of half of every shard's
// gradient. The block's parameters, which the other core read in its
// forward pass, are taken back for writing by the SGD kernel's own
// PREFETCHW ahead of its stores; asking for the whole block before its
// products as well (kern.PrefetchWrite) stalled on the transfers and made
// the reduce phase slower once SumTProducts had made the products short
// (docs/speed.md).
func (m *LeNet5) reduceLinear(ps *shard, i int, l *linear, r0, r1 int, span termSpan, u Updater) {
	if r1 == r0 {
		return
	}
	in, out := l.in, l.out
	off := m.offs[i]
	rb := fcBlockRows(in)
	sum := kern.SumTProducts
	if span.add {
		sum = kern.AddTProducts
	}
	for a := r0; a < r1; a += rb {
		z := min(rb, r1-a) // rows in this block
		sum(z, in, m.fcTerms(ps, i, l, a, false, span), m.grad[off+a*in:][:z*in], in)
		if u != nil {
			u.UpdateRange(m.data, m.grad, off+a*in, off+(a+z)*in)
		}
	}
	// the bias: rows r0..r1-1 of each shard's dY added in image order,
	// 1ᵀ·dY_j[:, r0:r1]
	boff := off + out*in
	sum(1, r1-r0, m.fcTerms(ps, i, l, r0, true, span), m.grad[boff+r0:boff+r1], r1-r0)
	if u != nil {
		u.UpdateRange(m.data, m.grad, boff+r0, boff+r1)
	}
}

// addShard is one step of the sum of shards' gradients into dst in shard
// order, ((g0 + g1) + g2) + g3, two shards per pass (kern.Sum, kern.Add2):
// given pend, a shard's gradient not yet added (nil if none), and n, the
// shards seen so far, it takes shard gradient g and returns the new pend
// and n. finishShards completes the sum. g must stay unchanged while it is
// pending.
func addShard(dst, pend, g []float32, n int) ([]float32, int) {
	switch {
	case n == 1:
		kern.Sum(dst, pend, g)
		pend = nil
	case pend != nil:
		kern.Add2(dst, pend, g)
		pend = nil
	default:
		pend = g
	}
	return pend, n + 1
}

// finishShards adds the last pending shard gradient (see addShard): dst
// is a copy of it if it was the only shard.
func finishShards(dst, pend []float32, n int) {
	switch {
	case n == 1:
		copy(dst, pend)
	case pend != nil:
		kern.Add(dst, pend)
	}
}

// softmaxXent writes scale·(softmax(logits) - onehot(labels)) into d and
// returns the sum over images of the cross-entropy -log softmax(logits)[y].
// The log-sum-exp is computed in float64 after subtracting the row maximum,
// so large logits neither overflow nor lose the loss. exp and log are
// kern.Exp and kern.Log, which give the same bits on every processor
// (math.Exp and math.Log do not).
func softmaxXent(d, logits []float32, labels []uint8, scale float32) float64 {
	var total float64
	for i, y := range labels {
		row := logits[i*NumClasses:][:NumClasses]
		dr := d[i*NumClasses:][:NumClasses]
		mx := row[0]
		for _, v := range row[1:] {
			if v > mx {
				mx = v
			}
		}
		var sum float64
		var e [NumClasses]float64
		for j, v := range row {
			e[j] = kern.Exp(float64(v) - float64(mx))
			sum += e[j]
		}
		lse := kern.Log(sum)
		total += lse - (float64(row[y]) - float64(mx))
		for j := range dr {
			p := e[j] / sum
			if j == int(y) {
				p--
			}
			dr[j] = float32(p) * scale
		}
	}
	return total
}

// Eval runs the network forward on n = len(labels) images (layout as in
// TrainBatch), writes each image's predicted class (the first largest
// logit) into pred (unless pred is nil) and returns the sum of the per-image
// cross-entropy losses. Images are processed in fixed chunks, so the result
// does not depend on Workers. It is EvalTo with only Pred.
//
// It panics if len(x) != 784*n, pred is non-nil with len(pred) != n, or a
// label is >= 10.
func (m *LeNet5) Eval(x []float32, labels []uint8, pred []uint8) float64 {
	return m.EvalTo(x, labels, EvalOutputs{Pred: pred})
}

// EvalOutputs are the per-image results EvalTo can write besides the loss.
// A nil field is not computed; a non-nil one must have room for exactly the
// n images of the call. The caller owns the slices; EvalTo keeps none of
// them after it returns.
type EvalOutputs struct {
	// Pred receives the predicted class of each image: the first largest
	// logit (n values).
	Pred []uint8
	// Probs receives softmax(logits) of each image (n×NumClasses values,
	// image after image): exp(z_j - max z) / Σ_k exp(z_k - max z), computed
	// in float64 with the same terms as the loss and rounded to float32.
	Probs []float32
	// Features receives the penultimate activations of each image
	// (n×FeatureSize values, image after image): the ReLU outputs of
	// lineNet.3 that lineNet.5 maps to the logits, as computed for the
	// loss (the same bits whatever Workers is).
	Features []float32
}

// EvalTo is Eval with more outputs: it runs the network forward on
// n = len(labels) images, writes what out asks for (see EvalOutputs) and
// returns the sum of the per-image cross-entropy losses, bitwise equal to
// Eval's. It allocates nothing once the model has seen a chunk of images.
//
// It panics if len(x) != 784*n, a label is >= 10, or a non-nil field of out
// does not hold exactly n images' values.
func (m *LeNet5) EvalTo(x []float32, labels []uint8, out EvalOutputs) float64 {
	n := len(labels)
	if len(x) != n*ImageSize {
		panic(errInputLen)
	}
	if out.Pred != nil && len(out.Pred) != n {
		panic(errPredLen)
	}
	if out.Probs != nil && len(out.Probs) != n*NumClasses {
		panic(errProbsLen)
	}
	if out.Features != nil && len(out.Features) != n*FeatureSize {
		panic(errFeatsLen)
	}
	checkLabels(labels)
	if n == 0 {
		return 0
	}
	m.ensure(min(n, evalChunk), false)
	chunks := (n + evalChunk - 1) / evalChunk
	if cap(m.chunkLoss) < chunks {
		m.chunkLoss = make([]float64, chunks)
	}
	m.chunkLoss = m.chunkLoss[:chunks]
	m.x, m.labels, m.out, m.n = x, labels, out, n
	m.team.run(&m.evalJob, chunks, 0)
	var sum float64
	for _, v := range m.chunkLoss {
		sum += v
	}
	m.x, m.labels, m.out = nil, nil, EvalOutputs{}
	return sum
}

// evalTask runs chunk t on a participant buffer set (claim).
func (m *LeNet5) evalTask(p, t int) {
	s := m.claim(p)
	defer m.release(s)
	lo := t * evalChunk
	hi := min(lo+evalChunk, m.n)
	b := hi - lo
	logits := m.forward(s.acts, s.sc, m.x[lo*ImageSize:hi*ImageSize], b)
	out := &m.out
	if out.Features != nil {
		copy(out.Features[lo*FeatureSize:hi*FeatureSize], s.acts[len(m.layers)-1][:b*FeatureSize])
	}
	var total float64
	for i, y := range m.labels[lo:hi] {
		row := logits[i*NumClasses:][:NumClasses]
		mx, arg := row[0], 0
		for j, v := range row[1:] {
			if v > mx {
				mx, arg = v, j+1
			}
		}
		var sum float64
		var e [NumClasses]float64
		for j, v := range row {
			e[j] = kern.Exp(float64(v) - float64(mx))
			sum += e[j]
		}
		total += kern.Log(sum) - (float64(row[y]) - float64(mx))
		if out.Pred != nil {
			out.Pred[lo+i] = uint8(arg)
		}
		if out.Probs != nil {
			pr := out.Probs[(lo+i)*NumClasses:][:NumClasses]
			for j := range pr {
				pr[j] = float32(e[j] / sum)
			}
		}
	}
	m.chunkLoss[t] = total
}
