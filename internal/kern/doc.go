// Package kern holds the single-threaded numeric kernels of the trainer:
// single-precision matrix multiplication ([Sgemm]) and the small helpers the
// LeNet-5 layers need around it.
//
// # Layout
//
// All matrices are row-major. A matrix with r rows and c columns stored with
// row stride ld occupies the elements s[i*ld+j] for 0 <= i < r, 0 <= j < c;
// ld must be at least max(1, c) and the slice must hold at least
// (r-1)*ld + c elements (the last row need not be padded).
//
// # Code paths
//
// On amd64 processors with AVX2 and FMA the kernels use hand-written Go
// assembly; everywhere else, or when built with the purego build tag, they
// use portable Go. [Impl] reports which path is in use. The choice is made
// once, at package initialisation, from golang.org/x/sys/cpu.
//
// # Determinism
//
// For a given code path, input values and sizes, the results are bitwise
// identical from run to run: the order of the floating-point operations
// depends only on the sizes, never on memory alignment, timing or
// GOMAXPROCS. The two code paths may differ from each other in the last bits
// (the assembly path uses fused multiply-add and a different summation
// order).
//
// # Concurrency
//
// The kernels start no goroutines and keep no shared mutable state; they may
// be called concurrently as long as the output slices of concurrent calls do
// not overlap. Callers do any parallelism themselves.
package kern
