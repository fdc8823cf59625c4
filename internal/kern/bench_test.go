package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is one product as model/ makes it for LeNet-5: an Sgemm, or
// with rows set an SgemmRows (SgemmRowsT with transB) on the rows of a
// zero-padded 32-wide image grid.
type benchShape struct {
	name           string
	transA, transB bool
	rows           bool
	m, n, k        int
}

// lenetShapes returns the products of one LeNet-5 training step as model/
// makes them (model/layers.go and lenet.go: 4 shards per batch, conv1 on
// chunks of 4 images, conv2 on chunks of up to 16): conv1 (5×5, 1→6,
// padding 2) on the 32×32 zero-padded grid through SgemmRows/SgemmRowsT,
// conv2 (5×5, 6→16 on 14×14) through im2col and Sgemm on its 10×10
// outputs, and the fully connected layers (400→120→84→10) on a shard of b
// images: b = 16 for training batch 64 (4 shards), b = 8 for batch 16 (2
// shards of model.MinShardImages; conv2 chunks of 16 and 8 images).
func lenetShapes() []benchShape {
	const n1 = 4 * 32 * 32
	s := []benchShape{
		{name: "conv1_fwd", rows: true, m: 6, n: n1, k: 25},
		{name: "conv1_dW", rows: true, transB: true, m: 6, n: 25, k: n1},
	}
	for _, b := range []int{16, 8} {
		n2 := b * 100
		for _, f := range []benchShape{
			{name: "conv2_fwd", m: 16, n: n2, k: 150},
			{name: "conv2_dW", transB: true, m: 16, n: 150, k: n2},
			{name: "conv2_dCol", transA: true, m: 150, n: n2, k: 16},
			{name: "fc1_fwd", transB: true, m: b, n: 120, k: 400},
			{name: "fc1_dW", transA: true, m: 120, n: 400, k: b},
			{name: "fc1_dX", m: b, n: 400, k: 120},
			{name: "fc2_fwd", transB: true, m: b, n: 84, k: 120},
			{name: "fc2_dW", transA: true, m: 84, n: 120, k: b},
			{name: "fc2_dX", m: b, n: 120, k: 84},
			{name: "fc3_fwd", transB: true, m: b, n: 10, k: 84},
			{name: "fc3_dW", transA: true, m: 10, n: 84, k: b},
			{name: "fc3_dX", m: b, n: 84, k: 10},
		} {
			f.name = fmt.Sprintf("%s_b%d", f.name, b)
			s = append(s, f)
		}
	}
	return append(s, benchShape{name: "square_256", m: 256, n: 256, k: 256})
}

// BenchmarkSgemm runs every LeNet-5 product with each code path of this
// package and, for Sgemm, with gonum's pure-Go Sgemm (impl=gonum), so that
//
//	go test -run '^$' -bench Sgemm -cpu 1 -count 6 ./internal/kern > out.txt
//	benchstat -col /impl out.txt
//
// prints the ratios. Run with -cpu 1: gonum's Sgemm spreads large products
// over GOMAXPROCS goroutines, kern never does. Besides ns/op each run
// reports GFLOP/s and, on Unix, cpu-GFLOP/s (per CPU second of the
// process), the figure to trust when other processes share the machine.
func BenchmarkSgemm(b *testing.B) {
	defer SetPath("")
	for _, s := range lenetShapes() {
		rng := rand.New(rand.NewPCG(1, 2))
		a := randSlice(rng, s.m*s.k)
		c := randSlice(rng, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		var bb []float32
		var offs []int
		if s.rows {
			// The rows of a 5×5 window over 32-wide rows of a padded image
			// batch, as model's conv1 reads them.
			rows, width := s.k, s.n
			if s.transB {
				rows, width = s.n, s.k
			}
			offs = make([]int, rows)
			for l := range offs {
				offs[l] = l/5*32 + l%5
			}
			bb = randSlice(rng, width+4*32+5)
		} else {
			bb = randSlice(rng, s.k*s.n)
		}
		impls := append([]string(nil), Paths()...)
		if !s.rows {
			impls = append(impls, "gonum")
		}
		for _, impl := range impls {
			b.Run(fmt.Sprintf("%s/impl=%s", s.name, impl), func(b *testing.B) {
				if impl != "gonum" {
					if err := SetPath(impl); err != nil {
						b.Fatal(err)
					}
				}
				call := func() {
					switch {
					case impl == "gonum":
						gonumSgemm(s.transA, s.transB, s.m, s.n, s.k, a, lda, bb, ldb, false, c, s.n)
					case s.rows && s.transB:
						SgemmRowsT(s.m, s.n, s.k, a, lda, bb, offs, false, c, s.n)
					case s.rows:
						SgemmRows(s.m, s.n, s.k, a, lda, bb, offs, false, c, s.n)
					default:
						Sgemm(s.transA, s.transB, s.m, s.n, s.k, a, lda, bb, ldb, false, c, s.n)
					}
				}
				call()
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					call()
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
