package trainer

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/tbtrain/tbtrain/internal/kern"
	"github.com/tbtrain/tbtrain/model"
)

// TestSGDAlignedLikeModel checks that the momentum vector shares its
// cache-line layout with the model's Data and Grad: UpdateRange's parts
// then cover the same lines of all three vectors.
func TestSGDAlignedLikeModel(t *testing.T) {
	m := model.NewLeNet5(rand.New(rand.NewPCG(1, 1)))
	var sizes []int
	for _, p := range m.Params() {
		sizes = append(sizes, len(p.Data))
	}
	o := NewSGD(0.9, sizes)
	off := func(x []float32, i int) uintptr { return uintptr(unsafe.Pointer(&x[i])) % kern.CacheLine }
	for i := range len(m.Data()) {
		if a, b, c := off(o.flat, i), off(m.Data(), i), off(m.Grad(), i); a != b || b != c {
			t.Fatalf("element %d: %d, %d and %d bytes into a line in the momentum, Data and Grad", i, a, b, c)
		}
	}
	if got := len(o.flat); got != len(m.Data()) {
		t.Fatalf("momentum vector of %d floats, want %d", got, len(m.Data()))
	}
}
