package kern

import (
	"testing"
	"unsafe"
)

func TestAlignedFloats(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 1000, 61706} {
		for _, at := range []int{0, 1, n / 3, n - 1} {
			if at >= n {
				continue
			}
			for range 4 { // several allocations: different start addresses
				x := AlignedFloats(n, at)
				if len(x) != n || cap(x) != n {
					t.Fatalf("AlignedFloats(%d, %d): len %d cap %d", n, at, len(x), cap(x))
				}
				if a := uintptr(unsafe.Pointer(&x[at])); a%CacheLine != 0 {
					t.Fatalf("AlignedFloats(%d, %d): element %d at %#x, %d bytes into a line", n, at, at, a, a%CacheLine)
				}
				for i, v := range x {
					if v != 0 {
						t.Fatalf("AlignedFloats(%d, %d)[%d] = %v, want 0", n, at, i, v)
					}
				}
			}
		}
	}
	if x := AlignedFloats(0, 0); len(x) != 0 {
		t.Errorf("AlignedFloats(0, 0) has length %d", len(x))
	}
	for _, c := range [][2]int{{10, 10}, {10, -1}, {-1, 0}} {
		func() {
			defer func() {
				if r := recover(); r != errAlignedAt {
					t.Errorf("AlignedFloats(%d, %d) panicked with %v, want %q", c[0], c[1], r, errAlignedAt)
				}
			}()
			AlignedFloats(c[0], c[1])
		}()
	}
}
