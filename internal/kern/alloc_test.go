package kern

import (
	"math/rand/v2"
	"testing"
)

// TestNoAllocs checks that the kernels allocate nothing in steady state
// (the packing workspaces are reused across calls).
func TestNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	a := randSlice(rng, 300*300)
	b := randSlice(rng, 300*300)
	c := randSlice(rng, 300*300)
	offs := []int{0, 1, 2, 30, 31, 32}
	s := ConvShape{C: 2, H: 9, W: 9, K: 3, Pad: 1}
	idx := make([]int32, 300)
	for name, f := range map[string]func(){
		"Sgemm":       func() { Sgemm(false, false, 70, 90, 300, a, 300, b, 90, false, c, 90) },
		"Sgemm tA tB": func() { Sgemm(true, true, 70, 90, 300, a, 70, b, 300, true, c, 90) },
		"Sgemm dot":   func() { Sgemm(false, true, 16, 150, 400, a, 400, b, 400, true, c, 150) },
		"SgemmRows":   func() { SgemmRows(6, 200, 6, a, 6, b, offs, false, c, 200) },
		"SgemmRowsT":  func() { SgemmRowsT(6, 6, 200, a, 200, b, offs, false, c, 6) },
		"Im2col":      func() { Im2col(c, a, s, 3) },
		"Col2im":      func() { Col2im(c, a, s, 3) },
		"MaxPool2":    func() { MaxPool2(c, idx, a, 10, 20, 20, 0.5, true, 0) },
		"AddBias":     func() { AddBias(c[:100], 1, true) },
	} {
		if n := testing.AllocsPerRun(20, f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}
