package kern

import "unsafe"

const errAlignedAt = "kern: AlignedFloats: at outside [0, n)"

// CacheLine is the size in bytes of a cache line on the processors the
// kernels are tuned for (x86-64 and the usual arm64 cores): the unit in
// which cores exchange memory.
const CacheLine = 64

// AlignedFloats returns a zeroed slice of n float32 (length and capacity
// n) whose element at lies at an address that is a multiple of CacheLine,
// so that a vector whose parts are written by different cores can start a
// part on a line of its own. It over-allocates by less than a line; the
// heap never moves the array, so the alignment holds for the slice's
// lifetime. It panics unless 0 <= at < n (or n = at = 0).
func AlignedFloats(n, at int) []float32 {
	if n < 0 || at < 0 || at >= max(n, 1) {
		panic(errAlignedAt)
	}
	const lf = CacheLine / 4 // floats per line
	buf := make([]float32, n+lf-1)
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(buf))) + uintptr(at)*4
	off := int((CacheLine-addr%CacheLine)%CacheLine) / 4
	return buf[off : off+n : off+n]
}
