package model

import (
	"testing"
	"unsafe"

	"github.com/tbtrain/tbtrain/internal/kern"
)

// lineOffset is how many bytes into its cache line x[i] lies.
func lineOffset(x []float32, i int) uintptr {
	return uintptr(unsafe.Pointer(&x[i])) % kern.CacheLine
}

// TestParamsAligned checks the layout the reduce phase relies on to
// share no cache line between its tasks' parts: the fully connected
// layers' parameters (and conv2's) start on a line of Data and Grad, the
// boundaries of the convolutions' parts are line boundaries, and fc1's
// parts, whole rows of 400 floats, are whole lines too.
func TestParamsAligned(t *testing.T) {
	for _, shards := range []int{1, 2, 3, 4, 8} {
		m := NewLeNet5With(seeded(1), Options{Shards: shards, Workers: 1})
		if len(m.Data()) != numParams || len(m.Grad()) != numParams {
			t.Fatalf("Shards %d: Data %d and Grad %d floats, want %d", shards, len(m.Data()), len(m.Grad()), numParams)
		}
		for _, v := range [][]float32{m.Data(), m.Grad()} {
			for _, i := range []int{m.offs[1], m.convEnd} {
				if o := lineOffset(v, i); o != 0 {
					t.Errorf("Shards %d: element %d %d bytes into a line", shards, i, o)
				}
			}
			fc1 := m.layers[m.fcFirst].(*linear)
			for part := 1; part < shards; part++ {
				if c := m.convPart(part); c > 0 && c < m.convEnd && lineOffset(v, c) != 0 {
					t.Errorf("Shards %d: convolutions' part %d starts at %d, %d bytes into a line", shards, part, c, lineOffset(v, c))
				}
				r, _ := shardRange(part, shards, fc1.out)
				if o := lineOffset(v, m.convEnd+r*fc1.in); shards <= 4 && o != 0 {
					t.Errorf("Shards %d: fc1's part %d (row %d) %d bytes into a line", shards, part, r, o)
				}
			}
		}
		prev := 0
		for part := 1; part <= shards; part++ {
			c := m.convPart(part)
			if c < prev || part == shards && c != m.convEnd {
				t.Errorf("Shards %d: convolutions' parts %d..%d: [%d, %d)", shards, part-1, part, prev, c)
			}
			if want := m.convEnd / shards; c-prev > want+16 || c-prev < want-16 {
				t.Errorf("Shards %d: convolutions' part %d holds %d floats, want about %d", shards, part-1, c-prev, want)
			}
			prev = c
		}
	}
}
