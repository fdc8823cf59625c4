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

func ExampleIm2col() {
	// One 3×3 image, a 2×2 window, no padding: 4 rows (window offsets)
	// × 4 columns (output positions).
	s := kern.ConvShape{C: 1, H: 3, W: 3, K: 2}
	in := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	col := make([]float32, 4*4)
	kern.Im2col(col, in, s, 1)
	for r := range 4 {
		fmt.Println(col[r*4 : r*4+4])
	}
	// The adjoint counts how many windows cover each pixel when col is
	// all ones.
	for i := range col {
		col[i] = 1
	}
	kern.Col2im(in, col, s, 1)
	fmt.Println(in)
	// Output:
	// [1 2 4 5]
	// [2 3 5 6]
	// [4 5 7 8]
	// [5 6 8 9]
	// [1 2 1 2 4 2 1 2 1]
}

func ExampleAddBias() {
	x := []float32{-2, -0.5, 0, 0.5, 2}
	kern.AddBias(x, 1, true)
	fmt.Println(x)
	// Output:
	// [0 0.5 1 1.5 3]
}
