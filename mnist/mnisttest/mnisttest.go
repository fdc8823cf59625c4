package mnisttest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/tbtrain/tbtrain/mnist"
)

// Synth returns n synthetic 28×28 digits that a LeNet-5 learns in a few
// steps: class k is a bright bar, 3 pixels wide (rows for k < 5, columns
// otherwise) at a position set by k, over faint noise. The same n and seed
// give the same set.
func Synth(n int, seed uint64) *mnist.Set {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	s := &mnist.Set{Images: make([]uint8, n*mnist.Pixels), Labels: make([]uint8, n)}
	for i := range n {
		k := r.IntN(mnist.Classes)
		s.Labels[i] = uint8(k)
		img := s.Images[i*mnist.Pixels : (i+1)*mnist.Pixels]
		for p := range img {
			img[p] = uint8(r.IntN(60))
		}
		pos := 3 + 5*(k%5) + r.IntN(2)
		for a := range mnist.Rows {
			for w := range 3 {
				if k < 5 {
					img[(pos+w)*mnist.Cols+a] = 200 + uint8(r.IntN(56))
				} else {
					img[a*mnist.Cols+pos+w] = 200 + uint8(r.IntN(56))
				}
			}
		}
	}
	return s
}

// WriteIDX writes s into dir as the gzip-compressed IDX files images+".gz"
// and labels+".gz" (e.g. [mnist.TrainImages] and [mnist.TrainLabels]), which
// [mnist.Load] reads back. The headers follow LeCun's MNIST page: magic
// 0x00000803 and sizes n, 28, 28 for images, magic 0x00000801 and size n for
// labels, all big-endian.
func WriteIDX(dir, images, labels string, s *mnist.Set) error {
	n := uint32(s.Len())
	if err := writeGz(filepath.Join(dir, images+".gz"), []uint32{0x803, n, mnist.Rows, mnist.Cols}, s.Images); err != nil {
		return err
	}
	return writeGz(filepath.Join(dir, labels+".gz"), []uint32{0x801, n}, s.Labels)
}

func writeGz(path string, header []uint32, body []byte) error {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, h := range header {
		zw.Write(binary.BigEndian.AppendUint32(nil, h)) // a bytes.Buffer write cannot fail
	}
	zw.Write(body)
	if err := zw.Close(); err != nil {
		return fmt.Errorf("mnisttest: %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("mnisttest: %w", err)
	}
	return nil
}
