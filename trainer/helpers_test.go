package trainer_test

import (
	"math/rand/v2"

	"github.com/tbtrain/tbtrain/mnist"
)

// synth returns n synthetic 28×28 "digits" that a LeNet-5 learns in a few
// steps: class k is a bright bar (rows for k < 5, columns otherwise) at a
// position set by k, over faint noise. Fixed seeds make it reproducible.
func synth(n int, seed uint64) *mnist.Set {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	s := &mnist.Set{Images: make([]uint8, n*784), Labels: make([]uint8, n)}
	for i := range n {
		k := r.IntN(10)
		s.Labels[i] = uint8(k)
		img := s.Images[i*784 : (i+1)*784]
		for p := range img {
			img[p] = uint8(r.IntN(60))
		}
		pos := 3 + 5*(k%5) + r.IntN(2)
		for a := range 28 {
			for w := range 3 {
				if k < 5 {
					img[(pos+w)*28+a] = 200 + uint8(r.IntN(56))
				} else {
					img[a*28+pos+w] = 200 + uint8(r.IntN(56))
				}
			}
		}
	}
	return s
}
