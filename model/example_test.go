package model_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/tbtrain/tbtrain/model"
)

func Example() {
	m := model.NewLeNet5(rand.New(rand.NewPCG(1, 1)))
	fmt.Println("parameters:", m.NumParams())
	for _, p := range m.Params() {
		fmt.Println(p.Name, p.Shape)
	}

	// One SGD step on a batch of two blank images.
	x := make([]float32, 2*model.ImageSize)
	labels := []uint8{3, 7}
	loss := m.TrainBatch(x, labels)
	for _, p := range m.Params() {
		for i, g := range p.Grad {
			p.Data[i] -= 0.01 * g
		}
	}
	fmt.Printf("loss near ln(10) = 2.30 at initialisation: %v\n", loss > 2.0 && loss < 2.6)
	// Output:
	// parameters: 61706
	// convModel.0.weight [6 1 5 5]
	// convModel.0.bias [6]
	// convModel.3.weight [16 6 5 5]
	// convModel.3.bias [16]
	// lineNet.1.weight [120 400]
	// lineNet.1.bias [120]
	// lineNet.3.weight [84 120]
	// lineNet.3.bias [84]
	// lineNet.5.weight [10 84]
	// lineNet.5.bias [10]
	// loss near ln(10) = 2.30 at initialisation: true
}

// EvalTo returns more than the loss from one forward pass: the softmax
// probabilities and the 84 penultimate activations of each image.
func ExampleLeNet5_EvalTo() {
	m := model.NewLeNet5(rand.New(rand.NewPCG(1, 1)))
	x := make([]float32, 3*model.ImageSize)
	labels := []uint8{0, 1, 2}
	out := model.EvalOutputs{
		Pred:     make([]uint8, len(labels)),
		Probs:    make([]float32, len(labels)*model.NumClasses),
		Features: make([]float32, len(labels)*model.FeatureSize),
	}
	loss := m.EvalTo(x, labels, out)
	var sum float32
	for _, p := range out.Probs[:model.NumClasses] {
		sum += p
	}
	fmt.Println("loss equals Eval's:", loss == m.Eval(x, labels, nil))
	fmt.Printf("probabilities of image 0 add up to %.3f\n", sum)
	fmt.Println("features per image:", len(out.Features)/len(labels))
	// Output:
	// loss equals Eval's: true
	// probabilities of image 0 add up to 1.000
	// features per image: 84
}
