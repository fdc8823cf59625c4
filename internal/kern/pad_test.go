package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestCopyPadded compares CopyPadded with PadImages on every path: the
// interiors hold the images, and every float outside them (the padding
// and a guard past the last image) keeps the value it had.
func TestCopyPadded(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(18, 18))
		for _, s := range []struct{ n, h, w, pad int }{{4, 28, 28, 2}, {3, 14, 14, 0}, {2, 5, 3, 1}, {5, 1, 9, 3}, {1, 7, 17, 4}, {0, 4, 4, 1}, {2, 0, 3, 1}} {
			ph, pw := s.h+2*s.pad, s.w+2*s.pad
			src := randSlice(rng, s.n*s.h*s.w)
			size := s.n * ph * pw
			got := spreadValues(rng, size+5)
			want := append([]float32(nil), got...)
			padded := make([]float32, size)
			PadImages(padded, src, s.n, s.h, s.w, s.pad)
			for i := range s.n {
				for y := range s.h {
					o := i*ph*pw + (y+s.pad)*pw + s.pad
					copy(want[o:o+s.w], padded[o:o+s.w])
				}
			}
			CopyPadded(got[:size], src, s.n, s.h, s.w, s.pad)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v: dst[%d] = %v, want %v", s, i, got[i], want[i])
				}
			}
		}
	})
}

func TestCopyPaddedPanics(t *testing.T) {
	s := make([]float32, 100)
	for name, f := range map[string]func(){
		"negative pad": func() { CopyPadded(s, s, 1, 2, 2, -1) },
		"short src":    func() { CopyPadded(s, s[:7], 2, 2, 2, 1) },
		"short dst":    func() { CopyPadded(s[:31], s, 2, 2, 2, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

// BenchmarkCopyPadded copies LeNet-5's conv1 chunk of 4 images into its
// padded grid, against the copy per row it replaces in the model.
func BenchmarkCopyPadded(b *testing.B) {
	const n, h, w, pad = 4, 28, 28, 2
	ph, pw := h+2*pad, w+2*pad
	src := randSlice(rand.New(rand.NewPCG(1, 1)), n*h*w)
	dst := make([]float32, n*ph*pw)
	for _, p := range Paths() {
		b.Run(fmt.Sprintf("kern/impl=%s", p), func(b *testing.B) {
			SetPath(p)
			defer SetPath("")
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				CopyPadded(dst, src, n, h, w, pad)
			}
			reportCPU(b, processCPU()-cpu0)
		})
	}
	b.Run("rowcopy", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU()
		for b.Loop() {
			for i := range n {
				for y := range h {
					copy(dst[i*ph*pw+(y+pad)*pw+pad:][:w], src[i*h*w+y*w:][:w])
				}
			}
		}
		reportCPU(b, processCPU()-cpu0)
	})
}
