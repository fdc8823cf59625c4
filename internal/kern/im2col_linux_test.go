//go:build linux

package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// guardedFloats returns n float32s that end where an inaccessible page
// begins (atEnd) or start where one ends, so a kernel that reads or writes
// a float outside them faults. The memory is unmapped at the end of t.
func guardedFloats(t *testing.T, n int, atEnd bool) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (4*n + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	for _, g := range [][]byte{mem[:page], mem[page+size:]} {
		if err := syscall.Mprotect(g, syscall.PROT_NONE); err != nil {
			t.Fatalf("mprotect: %v", err)
		}
	}
	start := page
	if atEnd {
		start = page + size - 4*n
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[start])), n)
}

// TestIm2colGuardPages runs Im2col and Col2im on conv2's shape with the
// images and the matrix right before or right after an inaccessible page:
// the kernels (the AVX-512 grouped Im2col reads windows of the planes
// around the floats it needs, the AVX-512 Col2im whole vectors of a
// patch row around an image's floats) must stay inside both slices.
func TestIm2colGuardPages(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		s := ConvShape{C: 6, H: 14, W: 14, K: 5}
		oh, ow := s.Out()
		rng := rand.New(rand.NewPCG(9, 9))
		for _, b := range []int{1, 3, 4, 8, 9} {
			for _, atEnd := range []bool{true, false} {
				t.Run(fmt.Sprintf("b=%d/atEnd=%v", b, atEnd), func(t *testing.T) {
					nIn, nCol := s.C*b*s.H*s.W, s.C*s.K*s.K*b*oh*ow
					in := guardedFloats(t, nIn, atEnd)
					col := guardedFloats(t, nCol, atEnd)
					copy(in, randSlice(rng, nIn))
					Im2col(col, in, s, b)
					for j, v := range refIm2col(in, s, b) {
						if math.Float32bits(col[j]) != math.Float32bits(v) {
							t.Fatalf("Im2col: col[%d] = %v, want %v", j, col[j], v)
						}
					}
					copy(col, randSlice(rng, nCol))
					Col2im(in, col, s, b)
					for j, v := range refCol2im(col, s, b) {
						if math.Float32bits(in[j]) != math.Float32bits(v) {
							t.Fatalf("Col2im: in[%d] = %v, want %v", j, in[j], v)
						}
					}
				})
			}
		}
	})
}
