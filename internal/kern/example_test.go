package kern_test

import (
	"fmt"

	"github.com/tbtrain/tbtrain/internal/kern"
)

func ExampleSgemm() {
	// C (2×2) = A (2×3) · Bᵀ, where B is stored as 2×3 (transB).
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		1, 0, 1,
		0, 1, 0,
	}
	c := make([]float32, 4)
	kern.Sgemm(false, true, 2, 2, 3, a, 3, b, 3, false, c, 2)
	fmt.Println(c)
	// Accumulate the same product once more.
	kern.Sgemm(false, true, 2, 2, 3, a, 3, b, 3, true, c, 2)
	fmt.Println(c)
	// Output:
	// [4 2 10 5]
	// [8 4 20 10]
}
