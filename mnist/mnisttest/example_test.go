package mnisttest_test

import (
	"fmt"
	"os"

	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/mnist/mnisttest"
)

// Write a synthetic training and test set and load them as MNIST.
func Example() {
	dir, err := os.MkdirTemp("", "mnisttest-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := mnisttest.WriteIDX(dir, mnist.TrainImages, mnist.TrainLabels, mnisttest.Synth(100, 1)); err != nil {
		panic(err)
	}
	if err := mnisttest.WriteIDX(dir, mnist.TestImages, mnist.TestLabels, mnisttest.Synth(20, 2)); err != nil {
		panic(err)
	}
	train, test, err := mnist.Load(dir)
	if err != nil {
		panic(err)
	}
	fmt.Println(train.Len(), test.Len(), len(train.Images))
	// Output: 100 20 78400
}
