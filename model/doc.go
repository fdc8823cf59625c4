// Package model is the LeNet-5 network of the trainer: forward pass,
// backward pass and mean cross-entropy loss, in float32, on batches of
// 28×28 MNIST images.
//
// # Network
//
//	input 1×28×28
//	convModel.0  Conv2d(1→6, 5×5, padding 2) + ReLU   → 6×28×28
//	convModel.2  MaxPool2d(2)                         → 6×14×14
//	convModel.3  Conv2d(6→16, 5×5) + ReLU             → 16×10×10
//	convModel.5  MaxPool2d(2)                         → 16×5×5
//	lineNet.0    Flatten                              → 400, in (c, y, x) order
//	lineNet.1    Linear(400→120) + ReLU
//	lineNet.3    Linear(120→84) + ReLU
//	lineNet.5    Linear(84→10)                        → logits
//	loss         mean over the batch of -log softmax(logits)[label]
//
// [LeNet5.EvalTo] also returns, per image, the softmax probabilities and
// the penultimate activations (the 84 inputs of lineNet.5, [FeatureSize]),
// from the same forward pass as the loss.
//
// The names are those of the PyTorch demo's state_dict (nn.Sequential
// indices, where the ReLU and pooling modules take the missing numbers).
//
// # Parameters
//
// [LeNet5.Params] lists the 10 tensors (61,706 values) in state_dict order
// with PyTorch's shapes and row-major layout: a conv weight is
// [out][in][ky][kx], a linear weight [out][in]. All of them live in one
// contiguous vector ([LeNet5.Data], gradients in [LeNet5.Grad]) in that
// order, so an optimiser can work on the flat vectors. Initialisation
// follows PyTorch's reset_parameters, drawing from an injected
// math/rand/v2 generator (see [NewLeNet5With]).
//
// # Computation
//
// A convolution is im2col followed by one matrix product (internal/kern:
// Sgemm, Im2col, Col2im), done on chunks of images (4 for conv1, 16 for
// conv2, tuned by BenchmarkConvTuning). Bias, ReLU and the 2×2 max pool
// are fused into one pass over the product (kern.MaxPool2, which keeps each
// maximum's position for the backward pass). The first convolution
// computes its products on the whole 32×32 zero-padded image, so its patch
// matrix is the padded image read at 25 offsets (kern.SgemmRows, no im2col
// copy), and it skips its input gradient. Fully connected layers are
// matrix products with kern's bias/ReLU helpers. All buffers are allocated
// the first time a batch size is seen and reused: TrainBatch and Eval
// allocate nothing in steady state.
//
// # Determinism and concurrency
//
// A batch of n images is split into S = min(Options.Shards, max(1,
// n/MinShardImages)) contiguous shards (image ranges [i·n/S, (i+1)·n/S)).
// Every shard's gradient is computed on its own, and the shard gradients
// are then added in shard order (one float32 addition per element and
// shard: ((g0 + g1) + g2) + g3; the convolutions' two shards per pass
// with kern.Sum and kern.Add2, the fully connected layers' by
// kern.SumTProducts with the products themselves). Where a shard's gradient is computed does not change its
// bits: the convolutions' gradient is written by the shard's backward pass
// into the shard's own vector (through the activations and scratch buffers
// of the goroutine computing it, which need not be the shard's own), while
// a fully connected layer's backward pass only keeps its input X_i and its
// output gradient dY_i (masked by the ReLU) in the shard's buffers, and
// the weight gradient dY_iᵀ·X_i and bias gradient (the rows of dY_i added
// in image order) are computed later, block of rows by block of rows, by
// whichever goroutine sums those rows: every element is the same chain of
// fused multiply-adds over the shard's images whatever rows a product is
// asked for (kern's canonical arithmetic). Goroutines
// (Options.Workers, by default GOMAXPROCS) only decide who computes which
// shard, so losses and gradients are bitwise identical for any worker
// count or GOMAXPROCS, given the same Shards and batch size. Eval works in fixed chunks of
// 32 images for the same reason.
//
// A training step ([LeNet5.TrainStepFill], as the trainer runs it) is one
// parallel job in two phases. First every shard gathers its own images
// ([Filler]) and runs its forward and backward passes; the goroutine that
// finishes the last shard (counted with an atomic counter of finished
// shards, so a goroutine that has not started is never waited for) adds
// the shards' losses in shard order and decides whether to update. Then
// every goroutine owns a part of the parameters (part t of S: a range of
// the convolutions' parameters ending on a cache line, and rows
// [t·r/S, (t+1)·r/S) of each fully connected layer of r rows, with their
// biases), sums the shards' gradients of that part (computing the fully
// connected layers' from the kept X_i and dY_i, a block of rows at a
// time) and applies the optimizer's element-wise step ([Updater]) to each
// block while it is in the core's L1 cache. So the cores exchange the
// shards' small X_i and dY_i (52 KB per shard of 16 images) instead of
// half of every shard's 61,706-float gradient vector. The parameter and
// gradient vectors start the fully connected layers' parameters on a
// 64-byte cache line (index 2,572; the vectors are the same concatenation
// as ever), so the parts of different goroutines share few lines. The
// workers are a fixed team of goroutines that poll for the next job (or
// the second phase) for up to 200 µs before they sleep, so consecutive
// steps start without waking a parked thread. Each participant runs the
// tasks of its own residue class first (task t on participant t mod P)
// and then takes over any left, so a shard and a part of the vectors stay
// in one core's cache from step to step.
//
// A goroutine that has finished its shards while another is still
// training does not only wait: for the parts it will sum, it adds up the
// fully connected layers' gradients of the shards finished so far, as
// far as shard order allows (shards 0..q-1, or shard 1 alone while shard
// 0 trains, since one addition commutes), with kern.SumTProducts and
// kern.AddTProducts, and records per part how many shards' terms are in
// (an atomic state per part that the part's task, whoever runs it, takes
// over with a CompareAndSwap, waiting if that sum is being written); the
// part's task then adds only the other shards' terms, with the same bits
// (a NaN aside: when both of the first two shards' terms of an element are
// NaNs with different payloads, the payload left in Grad may depend on
// which shard finished first; the loss is then NaN and no update is
// applied).
// It takes 3-4 µs per step at batch 16 and 10-15 at batch 64 off the
// reduce phase; the epoch at batch 16 runs 1-2 % faster, at batch 64 the
// same (docs/speed.md, "Where two cores lose time against one").
//
// They are also identical on every processor and every kern code path
// (kern.Impl, kern.SetPath): every product is a kern kernel computing the
// package's canonical arithmetic (kern.Arithmetic), and the few sums the
// model does itself have a fixed order too:
//
//   - a fully connected layer's bias gradient: float32 additions over the
//     images of the shard in order, starting from +0 (computed as the
//     product 1ᵀ·dY_i in kern's chain form: fma(1, y, s) is the rounded
//     sum y + s);
//   - a pooled convolution's bias gradient: per chunk of images (in reverse
//     order, as the backward pass visits them) and output channel, float64
//     sums over each image's outputs with four interleaved partial sums
//     (elements j ≡ 0, 1, 2, 3 mod 4, combined as (s0+s1)+(s2+s3)) added
//     in image order, accumulated in float64 and rounded to float32 once;
//   - the loss: per image, log-sum-exp in float64 with kern.Exp and
//     kern.Log after subtracting the largest logit, summed over the
//     shard's images in order and over shards in order; the softmax
//     gradient is float32(p)·(1/n) with p = exp/sum in float64.
//
// Model.Numerics names what the bits depend on (shards, chunk sizes, the
// arithmetic); checkpoints record it.
//
// A LeNet5 is not safe for concurrent use; its methods must be called from
// one goroutine at a time. Its helper goroutines end when the model becomes
// unreachable.
//
// # Panics
//
// Shape mismatches (len(x) != 784·len(labels)), labels outside 0..9 and
// invalid Options are programmer errors: the methods panic with a message
// starting with "model: ".
package model
