package trainer

import (
	"math"

	"github.com/tbtrain/tbtrain/internal/kern"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/model"
)

// SGD is stochastic gradient descent with momentum, with the update rule of
// PyTorch's torch.optim.SGD for dampening 0, nesterov false, weight_decay 0 and
// maximize false (_single_tensor_sgd in torch/optim/sgd.py, torch 1.13), in
// float32:
//
//	first step:  buf = grad
//	later steps: buf = momentum·buf + grad
//	             p   = p - lr·buf
//
// momentum and lr are rounded to float32 first, as PyTorch does when it applies
// a Python float to a float32 tensor. The parameter update is a fused
// multiply-add (one rounding), which is what PyTorch's vectorised CPU add kernel
// computes for add_(buf, alpha=-lr) (Vectorized<float>::fmadd); the momentum
// update rounds the product and the sum separately, like buf.mul_(m).add_(g).
// The steps after the first run in kern.SGDMomentum (AVX2 FMA, or an exact
// emulation with identical bits). See TestSGDMatchesPyTorch for the
// reference values.
//
// An SGD is not safe for concurrent use.
//
// Besides Step on per-parameter slices, an SGD can apply a step piece by
// piece to the concatenation of all parameters (BeginStep, UpdateRange,
// EndStep; it is a model.Updater for LeNet5.TrainStep), with the same bits:
// the update works element by element.
type SGD struct {
	// Momentum is the momentum factor (0.9 by default in the trainer).
	Momentum float64
	flat     []float32   // all momentum buffers, concatenated
	buffers  [][]float32 // one per parameter, slices of flat
	started  bool        // false until the first step (PyTorch: no buffer yet)

	// the piecewise step in progress (BeginStep)
	stepMomentum, stepNegLR float32
}

// NewSGD returns an optimizer for parameters of the given lengths.
//
// The momentum buffers are one vector, the concatenation in the order
// given, whose largest parameter starts on a cache line (the first of
// them if several are as large): model.LeNet5 aligns its Data and Grad
// there too (lineNet.1.weight), so the parts UpdateRange is called on
// share the same lines in all three vectors, and a part that begins on a
// line shares none with the part before it.
func NewSGD(momentum float64, sizes []int) *SGD {
	total, at, largest := 0, 0, 0
	for _, n := range sizes {
		if n > largest {
			at, largest = total, n
		}
		total += n
	}
	flat := []float32{}
	if total > 0 {
		flat = kern.AlignedFloats(total, at)
	}
	o := &SGD{Momentum: momentum, flat: flat, buffers: make([][]float32, len(sizes))}
	off := 0
	for i, n := range sizes {
		o.buffers[i] = o.flat[off : off+n : off+n]
		off += n
	}
	return o
}

// HasBuffers reports whether the momentum buffers hold state, that is whether
// at least one step has been taken (PyTorch creates them on the first step).
func (o *SGD) HasBuffers() bool { return o.started }

// Buffers returns the momentum buffers, aliasing the optimizer's storage.
func (o *SGD) Buffers() [][]float32 { return o.buffers }

// SetBuffers copies saved momentum buffers into the optimizer and marks it as
// started. It returns an error if the number or sizes of the buffers differ.
func (o *SGD) SetBuffers(bufs [][]float32) error {
	if len(bufs) != len(o.buffers) {
		return errBufferCount(len(bufs), len(o.buffers))
	}
	for i := range bufs {
		if len(bufs[i]) != len(o.buffers[i]) {
			return errBufferSize(i, len(bufs[i]), len(o.buffers[i]))
		}
	}
	for i := range bufs {
		copy(o.buffers[i], bufs[i])
	}
	o.started = true
	return nil
}

// Step applies one update with learning rate lr to params using grads;
// params[i] and grads[i] must have the length given to NewSGD for parameter i
// (Step panics otherwise).
func (o *SGD) Step(params, grads [][]float32, lr float64) {
	if len(params) != len(o.buffers) || len(grads) != len(o.buffers) {
		panic("trainer: SGD.Step with wrong number of parameters")
	}
	m := float32(o.Momentum)
	negLR := -float32(lr)
	for i, buf := range o.buffers {
		p, g := params[i], grads[i]
		if len(p) != len(buf) || len(g) != len(buf) {
			panic("trainer: SGD.Step with wrong parameter length")
		}
		o.update(p, buf, g, m, negLR)
	}
	o.started = true
}

// update applies the step to one stretch of parameters p, their momentum
// buffer buf and gradient g.
func (o *SGD) update(p, buf, g []float32, m, negLR float32) {
	if o.started {
		kern.SGDMomentum(p, buf, g, m, negLR)
		return
	}
	// First step: the buffer is a copy of the gradient (PyTorch clones it,
	// keeping the sign of zeros, which buf = 0·m + g would not).
	copy(buf, g)
	for j := range p {
		p[j] = fma32(negLR, buf[j], p[j])
	}
}

// BeginStep starts a step with learning rate lr that UpdateRange applies
// piece by piece; EndStep ends it. BeginStep, UpdateRange over ranges that
// cover the parameters, then EndStep give the same bits as Step.
func (o *SGD) BeginStep(lr float64) {
	o.stepMomentum = float32(o.Momentum)
	o.stepNegLR = -float32(lr)
}

// UpdateRange applies the step begun by BeginStep to elements lo..hi-1 of
// the concatenation of all parameters: data and grad are the parameters
// and their gradients concatenated in the order of the sizes given to
// NewSGD (as model.LeNet5's Data and Grad). Calls for disjoint ranges may
// run concurrently. It panics if data or grad does not hold every
// parameter.
func (o *SGD) UpdateRange(data, grad []float32, lo, hi int) {
	if len(data) != len(o.flat) || len(grad) != len(o.flat) {
		panic("trainer: SGD.UpdateRange with wrong vector length")
	}
	o.update(data[lo:hi], o.flat[lo:hi], grad[lo:hi], o.stepMomentum, o.stepNegLR)
}

// EndStep ends the step begun by BeginStep, after UpdateRange has covered
// every parameter (the momentum buffers then hold state).
func (o *SGD) EndStep() { o.started = true }

// fma32 returns a·b + c rounded once to float32.
//
// The product of two float32 values is exact in float64, so s = x + y below
// has a single float64 rounding. Rounding s again to float32 gives the
// correctly rounded result unless s lies exactly halfway between two float32
// values (its 29 bits below float32 precision are 1000…0) or in the float32
// subnormal range, where more bits are dropped; only then can the first
// rounding have decided the second. In those rare cases the sum is redone
// with round-to-odd: TwoSum gives the exact error and a sticky bit is put
// into an even significand when the sum was inexact; a float64 with at least
// two more bits than float32 that was rounded to odd rounds correctly to
// float32 (Boldo and Melquiond, "Emulation of FMA and correctly rounded
// sums: proved algorithms using rounding to odd", IEEE Trans. Computers
// 57(4), 2008).
func fma32(a, b, c float32) float32 {
	x := float64(a) * float64(b)
	y := float64(c)
	s := x + y
	bits := math.Float64bits(s)
	// 52 - 23 = 29 significand bits of a float64 are below float32 precision;
	// 0x380 is the biased float64 exponent of 2^-127, below float32 normals.
	const low = 1<<29 - 1
	if bits&low != 1<<28 && (bits>>52)&0x7ff > 0x380 {
		return float32(s)
	}
	return fma32Slow(x, y, s)
}

// fma32Slow rounds x + y (s = fl64(x + y)) correctly to float32 through
// round-to-odd (see fma32).
func fma32Slow(x, y, s float64) float32 {
	// TwoSum (Knuth, TAOCP vol. 2, §4.2.2): err is the exact value of (x + y) - s.
	bv := s - x
	err := (x - (s - bv)) + (y - bv)
	if err != 0 && !math.IsInf(s, 0) {
		bits := math.Float64bits(s)
		if bits&1 == 0 {
			// Move one ulp towards the exact value: the result is odd.
			if (err > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// SGD is the Updater the trainer gives model.LeNet5.TrainStep.
var _ model.Updater = (*SGD)(nil)

// batchFiller gathers the images of the training batch in progress (idx)
// for model.LeNet5.TrainStepFill, each shard its own.
type batchFiller struct {
	set *mnist.Set
	idx []int
}

func (f *batchFiller) Fill(x []float32, lo, hi int) { f.set.BatchImages(x, f.idx[lo:hi]) }
