//go:build !purego

package kern

import "testing"

// BenchmarkMicro measures the 6×16 micro-kernel alone on L1-resident
// operands: the ceiling for the packed path (about 95 cpu-GFLOP/s on the
// 2-core AMD EPYC (Zen 3) development machine).
func BenchmarkMicro(b *testing.B) {
	a := make([]float32, 6*256)
	bb := make([]float32, 256*16)
	c := make([]float32, 6*16)
	cpu0 := processCPU()
	for b.Loop() {
		kern6x16(256, &a[0], &bb[0], 64, &c[0], 64, 0, 1)
	}
	reportGFLOPS(b, 2*6*16*256, processCPU()-cpu0)
}

// BenchmarkMicroDot measures the 2×3 dot-product kernel alone on
// L1-resident rows of 1024 floats.
func BenchmarkMicroDot(b *testing.B) {
	a := make([]float32, 4*1024)
	bb := make([]float32, 3*1024)
	c := make([]float32, 4*3)
	cpu0 := processCPU()
	offs := [3]int{0, 1024, 2048}
	for b.Loop() {
		dot2x3(4096, nil, &a[0], 4096, &bb[0], &offs[0], &c[0], 12, 0, nil, 0)
	}
	reportGFLOPS(b, 2*6*1024, processCPU()-cpu0)
}

// BenchmarkMicro512 measures the 6×64 AVX-512 chain kernel alone on
// L1-resident operands: the ceiling for the AVX-512 packed path.
func BenchmarkMicro512(b *testing.B) {
	if !hasAVX512 {
		b.Skip("no AVX-512")
	}
	a := make([]float32, 6*128)
	bb := make([]float32, 128*64)
	c := make([]float32, 6*64)
	cpu0 := processCPU()
	for b.Loop() {
		c512x6x4(128, &a[0], &bb[0], 256, &c[0], 256, 0, 1, ^uint64(0))
	}
	reportGFLOPS(b, 2*6*64*128, processCPU()-cpu0)
}

// BenchmarkMicroDot512 measures the 4×4 AVX-512 dot kernel alone on
// L1-resident rows of 1024 floats.
func BenchmarkMicroDot512(b *testing.B) {
	if !hasAVX512 {
		b.Skip("no AVX-512")
	}
	a := make([]float32, 4*1024)
	bb := make([]float32, 4*1024)
	c := make([]float32, 4*4)
	offs := [4]int{0, 1024, 2048, 3072}
	cpu0 := processCPU()
	for b.Loop() {
		d512x4x4(4096, 0, &a[0], 4096, &bb[0], &offs[0], &c[0], 16, 0, nil, 0)
	}
	reportGFLOPS(b, 2*16*1024, processCPU()-cpu0)
}
