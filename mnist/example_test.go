package mnist_test

import (
	"fmt"
	"log"

	"github.com/tbtrain/tbtrain/mnist"
)

func Example() {
	train, test, err := mnist.LoadDefault()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("train:", train.Len(), "test:", test.Len())

	idx := []int{0, 1, 2}
	x := make([]float32, len(idx)*mnist.Pixels)
	labels := make([]uint8, len(idx))
	train.Batch(x, labels, idx)
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	fmt.Println("labels:", labels, "pixel range:", lo, hi)
	// Output:
	// train: 60000 test: 10000
	// labels: [5 0 4] pixel range: -1 1
}
