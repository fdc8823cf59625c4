// Command asmgen writes sgemm_amd64.s, the AVX2/FMA matrix-product kernels
// of package kern, and kernels_amd64.go, their Go declarations. Run it
// through go generate in the parent directory:
//
//	go generate ./internal/kern
//
// It also writes the AVX-512 kernels (sgemm512_amd64.s, kernels512_amd64.go;
// see avx512.go) and the arm64 NEON kernels (sgemm_arm64.s,
// kernels_arm64.go; see neon.go): chain kernels neon<r>x<v>(t) of up to 4
// rows and 4 vectors of 4 columns, reading A through its strides, and dot
// kernels neonDot<r>x<c> that carry 16 lanes per element in four
// registers.
//
// The AVX2 file holds three families of kernels:
//
//   - kern<r>x16 (r = 1..6): consecutive packed panels of r rows of A times
//     16 columns of B read in place (row stride ldb), stored into or added
//     to C: the micro-kernels of Sgemm's packed path;
//   - kern<r>x16t: the same with row l of B found through an offset table
//     (SgemmRows, "implicit im2col");
//   - dot<r>x<c>: r rows of A times c rows of B, both read in place along k,
//     with horizontal sums at the end (Sgemm's A·Bᵀ path and SgemmRowsT).
//
// The kernels are plain text templates: the generator only unrolls loops
// and assigns registers, so the output can be read and reviewed like
// hand-written code. kern's TestGeneratedUpToDate fails when the committed
// files differ from what asmgen writes.
//
// Usage:
//
//	asmgen [-out sgemm_amd64.s] [-goout kernels_amd64.go] [-out512 sgemm512_amd64.s]
//	       [-goout512 kernels512_amd64.go] [-outneon sgemm_arm64.s] [-goneon kernels_arm64.go]
package main
