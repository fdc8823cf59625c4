// Package bench holds the end-to-end speed benchmarks of the trainer's hot
// path and the side-by-side comparison with PyTorch (compare.sh). It has no
// API: everything is in its test files, so `go test ./...` only compiles the
// benchmarks and runs a few quick checks (zero allocations per step, a sane
// first loss).
//
// # What is measured
//
// All benchmarks use the real MNIST data (mnist.LoadDefault, loaded once per
// test binary and not timed), a LeNet-5 built like the trainer builds it
// (model.NewLeNet5, default shards and workers) and the trainer's optimizer
// (trainer.SGD, momentum 0.9, lr 0.01). One training step is what the
// trainer's loop does per batch, without the event logging:
//
//	LeNet5.TrainStepFill gather the batch's images and scale them to float32
//	                     (each shard its own, mnist.Set.BatchImages), forward,
//	                     loss, backward, and the momentum update of all 61,706
//	                     parameters (trainer.SGD's UpdateRange, applied to each
//	                     part of the gradient as the shards' parts are summed)
//
//	BenchmarkStep/batch=B   one step at batch 16, 64, 256 (batches cycle through a fixed shuffle)
//	BenchmarkEpoch/batch=B  one epoch at batch 16 (3,750 steps) and 64 (937 steps, the
//	                        last partial batch dropped): shuffle the 60,000 indices,
//	                        then the steps, summing the losses
//	BenchmarkEval/batch=B   the 10,000 test images: gather, LeNet5.Eval, count hits;
//	                        batch 500 is the trainer's; compare.sh --eval compares 16 and 1000
//	BenchmarkRunEpoch       a whole one-epoch run through trainer.New and Run: the
//	                        937 steps with their per-step scalar, the test pass, every
//	                        epoch-end TensorBoard tag (confusion matrix, PR curves, ...),
//	                        the checkpoints, and the projector files of the run's last
//	                        epoch (a 20-epoch run writes those once; here every op does)
//
// BenchmarkEpoch does the work of pytorch_lenet.py (in this directory, the
// PyTorch side of compare.sh) at the same batch size: shuffle, gather, forward+backward,
// SGD step; data already in memory, one warm-up epoch before timing. The differences: PyTorch keeps the
// images as scaled float32 tensors and gathers those, we keep bytes and scale
// while gathering (more work on our side); our shuffle is math/rand/v2's
// Fisher–Yates (rand.Shuffle on a PCG) rather than the trainer's own
// permutation function, which is unexported but does the same number of
// draws and swaps.
//
// Every benchmark reports img/s (wall clock) and cpu-µs/img (user+system CPU
// time of the whole process per image, which other jobs on a shared machine
// disturb much less than wall time) and calls ReportAllocs.
//
// # Running
//
//	go test -run '^$' -bench . -count 6 ./bench > new.txt && benchstat new.txt
//	go test -run '^$' -bench Epoch ./bench -args -kern=avx2   # on one kern code path
//	bench/compare.sh                  # side by side with PyTorch, every kern path; see its --help
//	bench/compare.sh --kernels        # and every matrix product's CPU-GFLOP/s per path, in the same rounds
//
// The flag -kern (avx512, avx2 or generic) makes the benchmarks run on that
// kern code path (kern.SetPath) instead of the fastest one.
//
// # Concurrency
//
// The benchmarks run one model at a time; the model itself uses GOMAXPROCS
// goroutines per batch (see package model).
package bench
