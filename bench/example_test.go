package bench_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/model"
	"github.com/tbtrain/tbtrain/trainer"
)

// Example shows the training step that BenchmarkStep and BenchmarkEpoch
// time: gather a batch, forward and backward, one SGD step. The buffers are
// allocated once; the step itself allocates nothing.
func Example() {
	train, _, err := mnist.LoadDefault()
	if err != nil {
		fmt.Println(err)
		return
	}
	const batch = 64
	net := model.NewLeNet5(rand.New(rand.NewPCG(1, 2)))
	var params, grads [][]float32
	var sizes []int
	for _, p := range net.Params() {
		params, grads, sizes = append(params, p.Data), append(grads, p.Grad), append(sizes, len(p.Data))
	}
	opt := trainer.NewSGD(0.9, sizes)
	x := make([]float32, batch*model.ImageSize)
	labels := make([]uint8, batch)
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i // the first 64 training images
	}

	train.Batch(x, labels, idx)
	loss := net.TrainBatch(x, labels)
	opt.Step(params, grads, 0.01)
	fmt.Printf("%d steps per epoch at batch %d\n", train.Len()/batch, batch)
	fmt.Printf("first loss %.1f (about ln 10: the untrained network is nearly uniform)\n", loss)
	// Output:
	// 937 steps per epoch at batch 64
	// first loss 2.3 (about ln 10: the untrained network is nearly uniform)
}
