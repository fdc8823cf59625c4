package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is one Sgemm call as model/ makes it for LeNet-5.
type benchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

// lenetShapes returns the products of one LeNet-5 training step as model/
// makes them (model/layers.go at 695179b): the convolutions work on chunks
// of 8 images (model's convChunk), conv1 (5×5, 1→6, padding 2, on 28×28) on
// a "wide" grid of 28×32 outputs per image, conv2 (5×5, 6→16 on 14×14) on
// its 10×10 outputs; the fully connected layers (400→120→84→10) work on a
// shard of b images. The model splits a batch into 4 shards (model.DefaultShards),
// so b = 4, 16, 64 are the calls of training batches of 16, 64 and 256.
func lenetShapes() []benchShape {
	const chunk = 8
	n1, n2 := chunk*28*32, chunk*10*10
	s := []benchShape{
		{"conv1_fwd_c8", false, false, 6, n1, 25},
		{"conv1_dW_c8", false, true, 6, 25, n1},
		{"conv2_fwd_c8", false, false, 16, n2, 150},
		{"conv2_dW_c8", false, true, 16, 150, n2},
		{"conv2_dCol_c8", true, false, 150, n2, 16},
	}
	for _, b := range []int{4, 16, 64} {
		for _, f := range []benchShape{
			{"fc1_fwd", false, true, b, 120, 400},
			{"fc1_dW", true, false, 120, 400, b},
			{"fc1_dX", false, false, b, 400, 120},
			{"fc2_fwd", false, true, b, 84, 120},
			{"fc2_dW", true, false, 84, 120, b},
			{"fc3_fwd", false, true, b, 10, 84},
		} {
			f.name = fmt.Sprintf("%s_b%d", f.name, b)
			s = append(s, f)
		}
	}
	// A whole 16-image shard without chunking, and a square product.
	return append(s,
		benchShape{"conv2_fwd_b16", false, false, 16, 16 * 100, 150},
		benchShape{"conv1_fwd_b16", false, false, 6, 16 * 784, 25},
		benchShape{"square_256", false, false, 256, 256, 256},
	)
}

// BenchmarkSgemm runs every LeNet-5 shape with each code path of this
// package and with gonum's pure-Go Sgemm (impl=gonum), so that
//
//	go test -run '^$' -bench Sgemm -cpu 1 -count 6 ./internal/kern > out.txt
//	benchstat -col /impl out.txt
//
// prints the ratios. Run with -cpu 1: gonum's Sgemm spreads large products
// over GOMAXPROCS goroutines, kern never does. Besides ns/op each run
// reports GFLOP/s and, on Unix, cpu-GFLOP/s (per CPU second of the
// process), the figure to trust when other processes share the machine.
func BenchmarkSgemm(b *testing.B) {
	impls := append([]implCase(nil), testImpls...)
	impls = append(impls, implCase{"gonum", gonumSgemm})
	for _, s := range lenetShapes() {
		rng := rand.New(rand.NewPCG(1, 2))
		a := randSlice(rng, s.m*s.k)
		bb := randSlice(rng, s.k*s.n)
		c := randSlice(rng, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		for _, ic := range impls {
			b.Run(fmt.Sprintf("%s/impl=%s", s.name, ic.name), func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					checkedSgemm(ic.fn, s.transA, s.transB, s.m, s.n, s.k, a, lda, bb, ldb, false, c, s.n)
				}
				reportGFLOPS(b, 2*float64(s.m)*float64(s.n)*float64(s.k), processCPU()-cpu0)
			})
		}
	}
}

// gonumSgemm adapts gonum's Sgemm (alpha 1, beta 0 or 1) to gemmFunc.
func gonumSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	var beta float32
	if accumulate {
		beta = 1
	}
	gonum.Implementation{}.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// reportGFLOPS reports flops per operation as GFLOP/s of wall-clock time
// and, where the process CPU time is known, as cpu-GFLOP/s: per second of
// CPU time, which stays meaningful when other processes share the cores
// (run with -cpu 1 so that only the benchmark goroutine is busy).
func reportGFLOPS(b *testing.B, flops float64, cpu time.Duration) {
	total := flops * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(total/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}

// reportCPU reports the process CPU time per operation (cpu-ns/op), which
// unlike ns/op does not count time the benchmark waited for a core.
func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
