package kern

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestSgemmConcurrent runs more concurrent calls than there are packing
// workspaces (so some allocate their own) and checks every result against
// the same call made alone.
func TestSgemmConcurrent(t *testing.T) {
	const calls, m, n, k = 100, 13, 40, 300
	rng := rand.New(rand.NewPCG(15, 15))
	a := randSlice(rng, m*k)
	b := randSlice(rng, k*n)
	want := make([]float32, m*n)
	Sgemm(false, false, m, n, k, a, k, b, n, false, want, n)
	got := make([][]float32, calls)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range got {
		got[i] = make([]float32, m*n)
		wg.Go(func() {
			<-start
			for range 5 {
				Sgemm(false, false, m, n, k, a, k, b, n, false, got[i], n)
			}
		})
	}
	close(start)
	wg.Wait()
	for i, c := range got {
		for j := range c {
			if math.Float32bits(c[j]) != math.Float32bits(want[j]) {
				t.Fatalf("call %d: c[%d] = %v, want %v", i, j, c[j], want[j])
			}
		}
	}
}
