package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refIm2col is the definition of Im2col, one element at a time.
func refIm2col(in []float32, s ConvShape, b int) []float32 {
	oh, ow := s.Out()
	n := b * oh * ow
	col := make([]float32, s.C*s.K*s.K*n)
	for c := range s.C {
		for ky := range s.K {
			for kx := range s.K {
				r := (c*s.K+ky)*s.K + kx
				for i := range b {
					for oy := range oh {
						for ox := range ow {
							y, x := oy+ky-s.Pad, ox+kx-s.Pad
							if y >= 0 && y < s.H && x >= 0 && x < s.W {
								col[r*n+i*oh*ow+oy*ow+ox] = in[((c*b+i)*s.H+y)*s.W+x]
							}
						}
					}
				}
			}
		}
	}
	return col
}

// refCol2im is the definition of Col2im: per pixel, a float32 sum from +0
// over the rows (c, ky, kx) in increasing order.
func refCol2im(col []float32, s ConvShape, b int) []float32 {
	oh, ow := s.Out()
	n := b * oh * ow
	in := make([]float32, s.C*b*s.H*s.W)
	for c := range s.C {
		for i := range b {
			for y := range s.H {
				for x := range s.W {
					var sum float32
					for ky := range s.K {
						for kx := range s.K {
							oy, ox := y-ky+s.Pad, x-kx+s.Pad
							if oy >= 0 && oy < oh && ox >= 0 && ox < ow {
								sum += col[((c*s.K+ky)*s.K+kx)*n+i*oh*ow+oy*ow+ox]
							}
						}
					}
					in[((c*b+i)*s.H+y)*s.W+x] = sum
				}
			}
		}
	}
	return in
}

// convShapes covers LeNet-5's two convolutions, widths around the vector
// width, 1×1 windows and windows as large as the padded image.
func convShapes() []ConvShape {
	shapes := []ConvShape{
		{C: 1, H: 28, W: 28, K: 5, Pad: 2}, // LeNet-5 conv1
		{C: 6, H: 14, W: 14, K: 5, Pad: 0}, // LeNet-5 conv2 (an AVX-512 kernel of its own)
		{C: 2, H: 14, W: 14, K: 5, Pad: 1}, // the same with padding: no such kernel
		{C: 2, H: 1, W: 1, K: 1, Pad: 0},
		{C: 1, H: 3, W: 2, K: 3, Pad: 2},
	}
	for _, w := range []int{1, 5, 7, 8, 9, 16, 17, 23} {
		for _, k := range []int{1, 3, 4} {
			for pad := 0; pad < k; pad++ {
				s := ConvShape{C: 1 + w%3, H: 2 + w%5, W: w, K: k, Pad: pad}
				if oh, ow := s.Out(); oh >= 1 && ow >= 1 {
					shapes = append(shapes, s)
				}
			}
		}
	}
	return shapes
}

func TestIm2colCol2im(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(6, 6))
		const guard = 5
		for _, s := range convShapes() {
			for _, b := range []int{0, 1, 3, 4, 7, 16} {
				t.Run(fmt.Sprintf("%+v/b=%d", s, b), func(t *testing.T) {
					oh, ow := s.Out()
					nIn, nCol := s.C*b*s.H*s.W, s.C*s.K*s.K*b*oh*ow
					in := randSlice(rng, nIn)
					col := randSlice(rng, nCol+guard)
					colGuard := append([]float32(nil), col[nCol:]...)
					Im2col(col, in, s, b)
					want := refIm2col(in, s, b)
					for j := range nCol {
						if math.Float32bits(col[j]) != math.Float32bits(want[j]) {
							t.Fatalf("Im2col: col[%d] = %v, want %v", j, col[j], want[j])
						}
					}
					for j, v := range colGuard {
						if col[nCol+j] != v {
							t.Fatalf("Im2col wrote past the matrix: col[%d] changed", nCol+j)
						}
					}
					g := randSlice(rng, nCol)
					got := randSlice(rng, nIn+guard)
					guardVals := append([]float32(nil), got[nIn:]...)
					Col2im(got, g, s, b)
					wantIn := refCol2im(g, s, b)
					for j := range nIn {
						if math.Float32bits(got[j]) != math.Float32bits(wantIn[j]) {
							t.Fatalf("Col2im: in[%d] = %v, want %v", j, got[j], wantIn[j])
						}
					}
					for j, v := range guardVals {
						if got[nIn+j] != v {
							t.Fatalf("Col2im wrote past the images: in[%d] changed", nIn+j)
						}
					}
				})
			}
		}
	})
}

// TestCol2imOrder checks Col2im's summation order and the placement of
// every term on conv2's shape (the AVX-512 kernel moves each output row's
// segment into place with a shuffle), with terms of mixed magnitudes
// (±m·2^e, e in [-12, 12]) so that a different order of the additions
// changes the rounding: the test first asserts that summing the rows in
// decreasing order differs from the definition at many pixels, then that
// Col2im equals the definition bit for bit. The terms are distinct, so a
// term added to the wrong pixel, or twice, changes a sum too.
func TestCol2imOrder(t *testing.T) {
	s := ConvShape{C: 2, H: 14, W: 14, K: 5}
	oh, ow := s.Out()
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 17))
		for _, b := range []int{1, 4, 5, 8} {
			n := b * oh * ow
			col := make([]float32, s.C*s.K*s.K*n)
			for j := range col {
				col[j] = float32(math.Ldexp(2*rng.Float64()-1, rng.IntN(25)-12))
			}
			want := refCol2im(col, s, b)
			// The same sums over the rows in decreasing order.
			differ := 0
			for c := range s.C {
				for i := range b {
					for y := range s.H {
						for x := range s.W {
							var sum float32
							for r := s.K*s.K - 1; r >= 0; r-- {
								oy, ox := y-r/s.K, x-r%s.K
								if oy >= 0 && oy < oh && ox >= 0 && ox < ow {
									sum += col[(c*s.K*s.K+r)*n+i*oh*ow+oy*ow+ox]
								}
							}
							if sum != want[((c*b+i)*s.H+y)*s.W+x] {
								differ++
							}
						}
					}
				}
			}
			if pixels := s.C * b * s.H * s.W; differ < pixels/4 {
				t.Fatalf("b=%d: the reversed order differs at only %d of %d pixels: the data cannot see the order", b, differ, pixels)
			}
			got := randSlice(rng, len(want))
			Col2im(got, col, s, b)
			for j, v := range want {
				if math.Float32bits(got[j]) != math.Float32bits(v) {
					t.Fatalf("b=%d: in[%d] = %v, want %v", b, j, got[j], v)
				}
			}
		}
	})
}

// TestIm2colGuard checks that Im2col writes nothing after the matrix.
func TestIm2colGuard(t *testing.T) {
	s := ConvShape{C: 2, H: 9, W: 9, K: 3, Pad: 1}
	oh, ow := s.Out()
	n := s.C * s.K * s.K * 2 * oh * ow
	col := make([]float32, n+9)
	for j := range col {
		col[j] = -7
	}
	Im2col(col, randSlice(rand.New(rand.NewPCG(7, 7)), s.C*2*s.H*s.W), s, 2)
	for j := n; j < len(col); j++ {
		if col[j] != -7 {
			t.Fatalf("col[%d] = %v, want the guard value -7", j, col[j])
		}
	}
}

func TestIm2colPanics(t *testing.T) {
	ok := ConvShape{C: 1, H: 4, W: 4, K: 3, Pad: 1}
	big := make([]float32, 1000)
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"pad >= k", func() { Im2col(big, big, ConvShape{C: 1, H: 4, W: 4, K: 2, Pad: 2}, 1) }, errConvShape},
		{"window too large", func() { Im2col(big, big, ConvShape{C: 1, H: 2, W: 2, K: 3}, 1) }, errConvShape},
		{"zero channels", func() { Col2im(big, big, ConvShape{H: 4, W: 4, K: 3}, 1) }, errConvShape},
		{"short in", func() { Im2col(big, big[:31], ok, 2) }, errShortIn},
		{"short col", func() { Col2im(big, big[:287], ok, 2) }, errShortCol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.want {
					t.Errorf("panic = %v, want %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
}

// FuzzIm2col checks Im2col and Col2im against their definitions on shapes
// chosen by the fuzzer.
func FuzzIm2col(f *testing.F) {
	f.Add(uint8(1), uint8(28), uint8(28), uint8(5), uint8(2), uint8(2))
	f.Add(uint8(6), uint8(14), uint8(14), uint8(5), uint8(0), uint8(1))
	f.Add(uint8(5), uint8(13), uint8(13), uint8(4), uint8(0), uint8(9)) // conv2's 14×14, 5×5: two groups of 4 and one image
	f.Fuzz(func(t *testing.T, c, h, w, k, pad, b uint8) {
		onEveryPath(t, func() {
			s := ConvShape{C: 1 + int(c%4), H: 1 + int(h%32), W: 1 + int(w%32), K: 1 + int(k%6), Pad: int(pad % 6)}
			oh, ow := s.Out()
			if s.Pad >= s.K || oh < 1 || ow < 1 {
				return
			}
			nb := int(b % 10) // up to two groups of 4 and a remainder (the AVX-512 grouped Im2col)
			rng := rand.New(rand.NewPCG(uint64(c), uint64(w)))
			in := randSlice(rng, s.C*nb*s.H*s.W)
			col := make([]float32, s.C*s.K*s.K*nb*oh*ow)
			Im2col(col, in, s, nb)
			for j, v := range refIm2col(in, s, nb) {
				if math.Float32bits(col[j]) != math.Float32bits(v) {
					t.Fatalf("%+v b=%d: Im2col col[%d] = %v, want %v", s, nb, j, col[j], v)
				}
			}
			got := make([]float32, len(in))
			Col2im(got, col, s, nb)
			for j, v := range refCol2im(col, s, nb) {
				if math.Float32bits(got[j]) != math.Float32bits(v) {
					t.Fatalf("%+v b=%d: Col2im in[%d] = %v, want %v", s, nb, j, got[j], v)
				}
			}
		})
	})
}

// BenchmarkIm2col measures both kernels on LeNet-5's convolutions for a
// shard of 16 images (and conv2 for a shard of 8, batch 16's); the bytes
// are those of the im2col matrix.
func BenchmarkIm2col(b *testing.B) {
	for _, tc := range []struct {
		name string
		s    ConvShape
		imgs int
	}{
		{"conv1_b16", ConvShape{C: 1, H: 28, W: 28, K: 5, Pad: 2}, 16},
		{"conv2_b16", ConvShape{C: 6, H: 14, W: 14, K: 5}, 16},
		{"conv2_b8", ConvShape{C: 6, H: 14, W: 14, K: 5}, 8},
	} {
		imgs := tc.imgs
		oh, ow := tc.s.Out()
		in := randSlice(rand.New(rand.NewPCG(1, 1)), tc.s.C*imgs*tc.s.H*tc.s.W)
		col := make([]float32, tc.s.C*tc.s.K*tc.s.K*imgs*oh*ow)
		b.Run("Im2col/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(4 * int64(len(col)))
			cpu0 := processCPU()
			for b.Loop() {
				Im2col(col, in, tc.s, imgs)
			}
			reportCPU(b, processCPU()-cpu0)
		})
		b.Run("Col2im/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(4 * int64(len(col)))
			cpu0 := processCPU()
			for b.Loop() {
				Col2im(in, col, tc.s, imgs)
			}
			reportCPU(b, processCPU()-cpu0)
		})
	}
}

func TestPadImages(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(16, 16))
		for _, n := range []int{0, 1, 3} {
			for _, hw := range [][2]int{{1, 1}, {3, 5}, {28, 28}, {4, 9}, {2, 17}} {
				for _, pad := range []int{0, 1, 2, 4} {
					h, w := hw[0], hw[1]
					ph, pw := h+2*pad, w+2*pad
					src := randSlice(rng, n*h*w)
					dst := randSlice(rng, n*ph*pw+3)
					guard := append([]float32(nil), dst[n*ph*pw:]...)
					PadImages(dst, src, n, h, w, pad)
					for i := range n {
						for y := range ph {
							for x := range pw {
								var want float32
								if y >= pad && y < pad+h && x >= pad && x < pad+w {
									want = src[i*h*w+(y-pad)*w+x-pad]
								}
								if got := dst[i*ph*pw+y*pw+x]; math.Float32bits(got) != math.Float32bits(want) {
									t.Fatalf("n=%d h=%d w=%d pad=%d: image %d (%d,%d) = %v, want %v", n, h, w, pad, i, y, x, got, want)
								}
							}
						}
					}
					for j, v := range guard {
						if dst[n*ph*pw+j] != v {
							t.Fatalf("n=%d h=%d w=%d pad=%d: wrote past the images", n, h, w, pad)
						}
					}
				}
			}
		}
	})
}

// BenchmarkPadImages pads 4 MNIST-sized images by 2 (LeNet-5's conv1
// chunk), against the same done with one copy per row.
func BenchmarkPadImages(b *testing.B) {
	const n, h, w, pad = 4, 28, 28, 2
	src := randSlice(rand.New(rand.NewPCG(1, 1)), n*h*w)
	dst := make([]float32, n*(h+2*pad)*(w+2*pad))
	b.Run("kern", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU()
		for b.Loop() {
			PadImages(dst, src, n, h, w, pad)
		}
		reportCPU(b, processCPU()-cpu0)
	})
	b.Run("rowcopy", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU()
		pw := w + 2*pad
		for b.Loop() {
			clear(dst)
			for i := range n {
				for y := range h {
					copy(dst[i*(h+2*pad)*pw+(y+pad)*pw+pad:][:w], src[i*h*w+y*w:][:w])
				}
			}
		}
		reportCPU(b, processCPU()-cpu0)
	})
}
