package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is one Sgemm call as model/ makes it for LeNet-5 (see
// model/layers.go), with b images per call. The model splits a batch into 4
// shards (model.DefaultShards), so b = 4, 16, 64 are the calls of a training
// batch of 16, 64 and 256 images.
type benchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

// lenetShapes returns the products of one LeNet-5 training step on b
// images: conv1 5×5 1→6 on 28×28 (padded, 784 outputs per image), conv2
// 5×5 6→16 on 14×14 (100 outputs per image), fc 400→120→84→10.
func lenetShapes(b int) []benchShape {
	s := []benchShape{
		{"conv1_fwd", false, false, 6, 784 * b, 25},
		{"conv1_dW", false, true, 6, 25, 784 * b},
		{"conv2_fwd", false, false, 16, 100 * b, 150},
		{"conv2_dW", false, true, 16, 150, 100 * b},
		{"conv2_dCol", true, false, 150, 100 * b, 16},
		{"fc1_fwd", false, true, b, 120, 400},
		{"fc1_dW", true, false, 120, 400, b},
		{"fc1_dX", false, false, b, 400, 120},
		{"fc2_fwd", false, true, b, 84, 120},
		{"fc3_fwd", false, true, b, 10, 84},
	}
	for i := range s {
		s[i].name = fmt.Sprintf("%s_b%d", s[i].name, b)
	}
	return s
}

// BenchmarkSgemm runs every LeNet-5 shape with each code path of this
// package and with gonum's pure-Go Sgemm (impl=gonum), so that
//
//	go test -run '^$' -bench Sgemm -cpu 1 -count 6 ./internal/kern > out.txt
//	benchstat -col /impl out.txt
//
// prints the ratios. Run with -cpu 1: gonum's Sgemm spreads large products
// over GOMAXPROCS goroutines, kern never does.
func BenchmarkSgemm(b *testing.B) {
	impls := append([]implCase(nil), testImpls...)
	impls = append(impls, implCase{"gonum", gonumSgemm})
	var shapes []benchShape
	for _, imgs := range []int{4, 16, 64} {
		shapes = append(shapes, lenetShapes(imgs)...)
	}
	shapes = append(shapes, benchShape{"square_256", false, false, 256, 256, 256})
	for _, s := range shapes {
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
				for b.Loop() {
					checkedSgemm(ic.fn, s.transA, s.transB, s.m, s.n, s.k, a, lda, bb, ldb, false, c, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
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
