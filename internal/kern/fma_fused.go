//go:build arm64

package kern

// fma32 returns a·b + c rounded once to float32 (round to nearest even):
// the fused multiply-add of the canonical arithmetic. On arm64 the Go
// compiler turns a float32 a*b + c into one FMADDS instruction (the Go
// specification allows an implementation to fuse; arm64's rules fuse every
// float32 add of a product not converted explicitly, and as arm64 has no
// arithmetic on memory operands no earlier rewrite hides the product).
// TestFMA32 and TestCanonical check the results against math/big on cases
// where an unfused evaluation rounds differently, so a compiler that
// stopped fusing would fail them (run them under qemu-aarch64, see the
// package doc). amd64 with GOAMD64=v3 also fuses, but not when it has
// folded a load into the multiplication first, so it emulates as well.
func fma32(a, b, c float32) float32 { return a*b + c }

// fmaFast is fma32 for the kernels' loops, which call fma32Slow when ok is
// false (never here).
func fmaFast(a, b, c float32) (r float32, ok bool) { return a*b + c, true }
