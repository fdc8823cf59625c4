package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refMaxPool2 is MaxPool2's definition, written out per window.
func refMaxPool2(src []float32, h, w, ld int, bias float32, relu bool, base int32) ([]float32, []int32) {
	ph, pw := h/2, w/2
	dst := make([]float32, ph*pw)
	arg := make([]int32, ph*pw)
	for py := range ph {
		for px := range pw {
			var m float32
			at := 0
			for q := range 4 {
				idx := (2*py+q/2)*ld + 2*px + q%2
				x := src[idx]
				if q == 0 || x > m {
					if q == 0 || !math.IsNaN(float64(m)) {
						at = idx
					}
				}
				if q == 0 {
					m = x
				} else {
					m = max(m, x)
				}
			}
			v := m + bias
			if relu {
				v = max(v, 0)
			}
			dst[py*pw+px] = v
			arg[py*pw+px] = base + int32(at)
		}
	}
	return dst, arg
}

// poolValues draws from a small set (many ties, both zeros) or uniformly.
func poolValues(rng *rand.Rand, n int) []float32 {
	set := []float32{-1, float32(math.Copysign(0, -1)), 0, 0.5, 1, 2}
	s := make([]float32, n)
	for i := range s {
		if rng.IntN(2) == 0 {
			s[i] = set[rng.IntN(len(set))]
		} else {
			s[i] = 4*rng.Float32() - 2
		}
	}
	return s
}

func TestMaxPool2(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(10, 10))
		for _, h := range []int{0, 2, 4, 10, 28} {
			for _, w := range []int{0, 2, 6, 8, 10, 14, 16, 28, 30, 32, 34, 62} {
				for _, extra := range []int{0, 1, 4} {
					for _, relu := range []bool{false, true} {
						ld := w + extra
						name := fmt.Sprintf("h=%d,w=%d,ld=%d,relu=%v", h, w, ld, relu)
						src := poolValues(rng, max(0, (h-1)*ld+w))
						bias := []float32{0, 0.5, -0.5, float32(math.Copysign(0, -1))}[rng.IntN(4)]
						base := int32(rng.IntN(1000))
						n := (h / 2) * (w / 2)
						dst := poolValues(rng, n+2)
						arg := make([]int32, n+2)
						guardD, guardA := dst[n:], []int32{-5, -6}
						copy(arg[n:], guardA)
						gd := append([]float32(nil), guardD...)
						MaxPool2(dst[:n], arg[:n], src, h, w, ld, bias, relu, base)
						wd, wa := refMaxPool2(src, h, w, ld, bias, relu, base)
						for i := range n {
							if math.Float32bits(dst[i]) != math.Float32bits(wd[i]) || arg[i] != wa[i] {
								t.Fatalf("%s: output %d = (%v, %d), want (%v, %d)", name, i, dst[i], arg[i], wd[i], wa[i])
							}
						}
						if dst[n] != gd[0] || dst[n+1] != gd[1] || arg[n] != guardA[0] || arg[n+1] != guardA[1] {
							t.Fatalf("%s: wrote past the outputs", name)
						}
					}
				}
			}
		}
	})
}

// TestMaxPool2NaN checks the documented NaN rule: a window holding a NaN
// gives a NaN, and its arg names an element of that window.
func TestMaxPool2NaN(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 11))
		const h, w, ld = 4, 16, 16
		for q := range 4 {
			for _, relu := range []bool{false, true} {
				src := poolValues(rng, h*ld)
				// NaN at element q of window (py=1, px=5).
				idx := (2+q/2)*ld + 10 + q%2
				src[idx] = float32(math.NaN())
				dst := make([]float32, 2*8)
				arg := make([]int32, 2*8)
				MaxPool2(dst, arg, src, h, w, ld, 0.25, relu, 0)
				o := 1*8 + 5
				if !math.IsNaN(float64(dst[o])) {
					t.Errorf("q=%d relu=%v: value %v, want NaN", q, relu, dst[o])
				}
				in := false
				for _, e := range []int{2*ld + 10, 2*ld + 11, 3*ld + 10, 3*ld + 11} {
					in = in || int(arg[o]) == e
				}
				if !in {
					t.Errorf("q=%d relu=%v: arg %d outside the window", q, relu, arg[o])
				}
				wd, wa := refMaxPool2(src, h, w, ld, 0.25, relu, 0)
				for i := range dst {
					if i != o && (math.Float32bits(dst[i]) != math.Float32bits(wd[i]) || arg[i] != wa[i]) {
						t.Errorf("q=%d relu=%v: output %d = (%v, %d), want (%v, %d)", q, relu, i, dst[i], arg[i], wd[i], wa[i])
					}
				}
			}
		}
	})
}

func TestMaxPool2Panics(t *testing.T) {
	s := make([]float32, 100)
	a := make([]int32, 100)
	for name, f := range map[string]func(){
		"odd h":     func() { MaxPool2(s, a, s, 3, 4, 4, 0, false, 0) },
		"ld < w":    func() { MaxPool2(s, a, s, 2, 4, 3, 0, false, 0) },
		"short src": func() { MaxPool2(s, a, s[:7], 2, 4, 4, 0, false, 0) },
		"short arg": func() { MaxPool2(s, a[:3], s, 2, 8, 8, 0, false, 0) },
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

// FuzzMaxPool2 compares MaxPool2 with its definition on fuzzer-chosen
// shapes and values (no NaN: the NaN rule is checked separately).
func FuzzMaxPool2(f *testing.F) {
	f.Add(uint8(28), uint8(28), uint8(4), uint64(1), true)
	f.Add(uint8(10), uint8(10), uint8(0), uint64(2), false)
	f.Fuzz(func(t *testing.T, h, w, extra uint8, seed uint64, relu bool) {
		onEveryPath(t, func() {
			hh, ww := 2*int(h%20), 2*int(w%20)
			ld := ww + int(extra%5)
			rng := rand.New(rand.NewPCG(seed, 3))
			src := poolValues(rng, max(0, (hh-1)*ld+ww))
			n := (hh / 2) * (ww / 2)
			dst := make([]float32, n)
			arg := make([]int32, n)
			MaxPool2(dst, arg, src, hh, ww, ld, 0.5, relu, 7)
			wd, wa := refMaxPool2(src, hh, ww, ld, 0.5, relu, 7)
			for i := range n {
				if math.Float32bits(dst[i]) != math.Float32bits(wd[i]) || arg[i] != wa[i] {
					t.Fatalf("h=%d w=%d ld=%d: output %d = (%v, %d), want (%v, %d)", hh, ww, ld, i, dst[i], arg[i], wd[i], wa[i])
				}
			}
		})
	})
}

// BenchmarkMaxPool2 pools LeNet-5's conv1 output plane (28×28 on a 32-wide
// grid) and conv2's (10×10); cpu-ns/op is per CPU second of the process.
func BenchmarkMaxPool2(b *testing.B) {
	for _, tc := range []struct{ h, w, ld int }{{28, 28, 32}, {10, 10, 10}} {
		src := poolValues(rand.New(rand.NewPCG(1, 1)), tc.h*tc.ld)
		n := tc.h / 2 * tc.w / 2
		dst := make([]float32, n)
		arg := make([]int32, n)
		b.Run(fmt.Sprintf("%dx%d", tc.h, tc.w), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				MaxPool2(dst, arg, src, tc.h, tc.w, tc.ld, 0.1, true, 0)
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestMaxPool2Zeros enumerates every window over {−0, +0, −1}: Go's max
// gives +0 for max(−0, +0) in either order, and the bias −0 keeps the sign
// of the maximum visible in the output.
func TestMaxPool2Zeros(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		negZero := float32(math.Copysign(0, -1))
		vals := []float32{negZero, 0, -1}
		const windows = 81
		src := make([]float32, 2*2*windows)
		for wi := range windows {
			q := wi
			for e := range 4 {
				src[(e/2)*2*windows+2*wi+e%2] = vals[q%3]
				q /= 3
			}
		}
		for _, relu := range []bool{false, true} {
			dst := make([]float32, windows)
			arg := make([]int32, windows)
			MaxPool2(dst, arg, src, 2, 2*windows, 2*windows, negZero, relu, 0)
			wd, wa := refMaxPool2(src, 2, 2*windows, 2*windows, negZero, relu, 0)
			for i := range windows {
				if math.Float32bits(dst[i]) != math.Float32bits(wd[i]) || arg[i] != wa[i] {
					t.Errorf("relu=%v window %d: (%v, %d), want (%v, %d)", relu, i, dst[i], arg[i], wd[i], wa[i])
				}
			}
		}
	})
}

// TestMaxPool2Bits compares MaxPool2 with its definition on windows of
// arbitrary float32 bit patterns besides NaNs (infinities, subnormals,
// both zeros, values of every magnitude and sign): the AVX-512 kernel takes
// the maximum with VRANGEPS, which must agree with Go's max on every such
// pair, and then adds the bias, including -0, and applies ReLU.
func TestMaxPool2Bits(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(14, 14))
		special := []uint32{0, 0x80000000, 1, 0x80000001, 0x7f800000, 0xff800000, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x807fffff}
		const h, w = 8, 64
		src := make([]float32, h*w)
		dst := make([]float32, h/2*w/2)
		arg := make([]int32, h/2*w/2)
		for it := range 400 {
			for i := range src {
				var u uint32
				switch rng.IntN(4) {
				case 0:
					u = special[rng.IntN(len(special))]
				case 1:
					u = rng.Uint32() & 0x807fffff // subnormals and zeros
				default:
					u = rng.Uint32()
				}
				if f := math.Float32frombits(u); math.IsNaN(float64(f)) {
					u &= 0xff7fffff // the largest finite magnitude below it
				}
				src[i] = math.Float32frombits(u)
			}
			bias := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -3}[it%4]
			relu := it%8 < 4
			MaxPool2(dst, arg, src, h, w, w, bias, relu, 3)
			wd, wa := refMaxPool2(src, h, w, w, bias, relu, 3)
			for i := range dst {
				if math.Float32bits(dst[i]) != math.Float32bits(wd[i]) || arg[i] != wa[i] {
					t.Fatalf("round %d output %d = (%x, %d), want (%x, %d)", it, i, math.Float32bits(dst[i]), arg[i], math.Float32bits(wd[i]), wa[i])
				}
			}
		}
	})
}

// refMaxUnpool2 is MaxUnpool2's definition written out: the old routing of
// the model (ReLUMask, cleared rows, a scatter through arg, and a float64
// sum with four interleaved partial sums and the tail in s_0).
func refMaxUnpool2(dst, d, y []float32, arg []int32, ph, pw, ld int, relu bool, base int32) float64 {
	n := ph * pw
	v := append([]float32(nil), d[:n]...)
	for j := range v {
		if relu && !(y[j] > 0) {
			v[j] = 0
		}
	}
	clear(dst[:2*ph*ld])
	for j, a := range arg[:n] {
		dst[a-base] = v[j]
	}
	var s [4]float64
	n4 := n &^ 3
	for j, x := range v {
		if j < n4 {
			s[j%4] += float64(x)
		} else {
			s[0] += float64(x)
		}
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

func TestMaxUnpool2(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, pw := range []int{1, 2, 3, 5, 8, 14, 15, 16, 17, 31, 33} {
			for _, ph := range []int{1, 2, 5, 14} {
				for _, extra := range []int{0, 3, 17, 40} {
					for _, relu := range []bool{false, true} {
						ld := 2*pw + extra
						base := int32(rng.IntN(100))
						src := poolValues(rng, 2*ph*ld)
						n := ph * pw
						y, arg := make([]float32, n), make([]int32, n)
						MaxPool2(y, arg, src, 2*ph, 2*pw, ld, 0.25, relu, base)
						d := specialValues(rng, n)
						y[rng.IntN(n)] = float32(math.NaN())
						got := specialValues(rng, 2*ph*ld+5)
						want := append([]float32(nil), got...)
						gs := MaxUnpool2(got, d, y, arg, ph, pw, ld, relu, base)
						ws := refMaxUnpool2(want, d, y, arg, ph, pw, ld, relu, base)
						name := fmt.Sprintf("ph=%d pw=%d ld=%d relu=%v", ph, pw, ld, relu)
						if math.Float64bits(gs) != math.Float64bits(ws) && !(gs != gs && ws != ws) {
							t.Fatalf("%s: sum %v, want %v", name, gs, ws)
						}
						for i := range want {
							if !sameBits(got[i], want[i]) {
								t.Fatalf("%s: dst[%d] = %v, want %v", name, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// BenchmarkMaxUnpool2 routes LeNet-5's conv1 gradient plane (14×14
// outputs on a 32-wide grid) and conv2's (5×5).
func BenchmarkMaxUnpool2(b *testing.B) {
	for _, tc := range []struct{ ph, pw, ld int }{{14, 14, 32}, {5, 5, 10}} {
		rng := rand.New(rand.NewPCG(1, 1))
		src := poolValues(rng, 2*tc.ph*tc.ld)
		n := tc.ph * tc.pw
		y, arg := make([]float32, n), make([]int32, n)
		MaxPool2(y, arg, src, 2*tc.ph, 2*tc.pw, tc.ld, 0, true, 0)
		d := poolValues(rng, n)
		dst := make([]float32, 2*tc.ph*tc.ld)
		for _, p := range Paths() {
			b.Run(fmt.Sprintf("%dx%d/impl=%s", tc.ph, tc.pw, p), func(b *testing.B) {
				SetPath(p)
				defer SetPath("")
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					sinkF64 = MaxUnpool2(dst, d, y, arg, tc.ph, tc.pw, tc.ld, true, 0)
				}
				b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

var sinkF64 float64

// TestMaxPool2Planes compares MaxPool2Planes with MaxPool2's definition
// applied plane by plane, on every path: planes packed (conv2: sstride =
// h·ld) or apart (conv1's 32×32 grid planes), outputs packed or apart, and
// the memory between the planes' outputs untouched.
func TestMaxPool2Planes(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 15))
		for _, s := range []struct{ h, w, ld int }{{10, 10, 10}, {28, 28, 32}, {4, 6, 7}, {2, 2, 2}, {6, 34, 34}, {0, 4, 4}} {
			for _, n := range []int{0, 1, 2, 5, 16} {
				for _, sgap := range []int{0, 3, 100} {
					for _, dgap := range []int{0, 1, 9} {
						relu := rng.IntN(2) == 0
						ph, pw := s.h/2, s.w/2
						sstride := max(0, (s.h-1)*s.ld+s.w) + sgap
						dstride := ph*pw + dgap
						src := poolValues(rng, n*sstride)
						size := n*dstride + 2
						dst, arg := poolValues(rng, size), make([]int32, size)
						for i := range arg {
							arg[i] = int32(-1 - i)
						}
						wantD, wantA := append([]float32(nil), dst...), append([]int32(nil), arg...)
						bias := []float32{0.5, float32(math.Copysign(0, -1))}[rng.IntN(2)]
						base := int32(rng.IntN(100))
						for q := range n {
							wd, wa := refMaxPool2(src[q*sstride:], s.h, s.w, s.ld, bias, relu, base+int32(q*sstride))
							copy(wantD[q*dstride:], wd)
							copy(wantA[q*dstride:], wa)
						}
						MaxPool2Planes(dst[:max(0, size-2)], arg[:max(0, size-2)], src, n, s.h, s.w, s.ld, sstride, dstride, bias, relu, base)
						for i := range size {
							if !sameBits(dst[i], wantD[i]) || arg[i] != wantA[i] {
								t.Fatalf("%v n=%d sstride=%d dstride=%d: element %d = (%v, %d), want (%v, %d)", s, n, sstride, dstride, i, dst[i], arg[i], wantD[i], wantA[i])
							}
						}
					}
				}
			}
		}
	})
}

// TestMaxUnpool2Planes compares MaxUnpool2Planes with refMaxUnpool2
// applied plane by plane (the rest of each plane cleared, the sums added
// in plane order from +0), on every path.
func TestMaxUnpool2Planes(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(16, 16))
		for _, s := range []struct{ ph, pw, ld int }{{5, 5, 10}, {14, 14, 32}, {2, 3, 7}, {1, 1, 2}, {3, 17, 40}, {0, 3, 6}} {
			for _, n := range []int{0, 1, 2, 5, 16} {
				for _, sgap := range []int{0, 2} {
					for _, dgap := range []int{0, 1, 4 * s.ld, 37} {
						relu := rng.IntN(2) == 0
						m := s.ph * s.pw
						sstride := m + sgap
						dstride := 2*s.ph*s.ld + dgap
						base := int32(rng.IntN(100))
						d := specialValues(rng, n*sstride)
						y, arg := make([]float32, n*sstride), make([]int32, n*sstride)
						for q := range n {
							if m == 0 {
								break
							}
							src := poolValues(rng, 2*s.ph*s.ld)
							o := q * sstride
							MaxPool2(y[o:o+m], arg[o:o+m], src, 2*s.ph, 2*s.pw, s.ld, 0.25, relu, base+int32(q*dstride))
							y[o+rng.IntN(m)] = float32(math.NaN())
						}
						got := specialValues(rng, n*dstride+3)
						want := append([]float32(nil), got...)
						var ws float64
						for q := range n {
							p := want[q*dstride:][:dstride]
							if m > 0 {
								o := q * sstride
								dq := append([]float32(nil), d[o:o+m]...)
								ws += refMaxUnpool2(p, dq, y[o:], arg[o:], s.ph, s.pw, s.ld, relu, base+int32(q*dstride))
							}
							clear(p[2*s.ph*s.ld:])
						}
						gs := MaxUnpool2Planes(got[:n*dstride], d, y, arg, n, s.ph, s.pw, s.ld, sstride, dstride, relu, base)
						name := fmt.Sprintf("%v n=%d sstride=%d dstride=%d relu=%v", s, n, sstride, dstride, relu)
						if math.Float64bits(gs) != math.Float64bits(ws) && !(gs != gs && ws != ws) {
							t.Fatalf("%s: sum %v, want %v", name, gs, ws)
						}
						for i := range want {
							if !sameBits(got[i], want[i]) {
								t.Fatalf("%s: dst[%d] = %v, want %v", name, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

func TestPoolPlanesPanics(t *testing.T) {
	s := make([]float32, 400)
	a := make([]int32, 400)
	for name, f := range map[string]func(){
		"pool negative n":    func() { MaxPool2Planes(s, a, s, -1, 2, 2, 2, 4, 1, 0, false, 0) },
		"pool ld < w":        func() { MaxPool2Planes(s, a, s, 1, 2, 4, 3, 8, 2, 0, false, 0) },
		"pool short sstride": func() { MaxPool2Planes(s, a, s, 2, 4, 4, 4, 15, 4, 0, false, 0) },
		"pool short dstride": func() { MaxPool2Planes(s, a, s, 2, 4, 4, 4, 16, 3, 0, false, 0) },
		"pool short src":     func() { MaxPool2Planes(s, a, s[:31], 2, 4, 4, 4, 16, 4, 0, false, 0) },
		"pool short arg":     func() { MaxPool2Planes(s, a[:7], s, 2, 4, 4, 4, 16, 4, 0, false, 0) },
		"unpool negative n":  func() { MaxUnpool2Planes(s, s, s, a, -1, 1, 1, 2, 1, 4, false, 0) },
		"unpool ld < 2pw":    func() { MaxUnpool2Planes(s, s, s, a, 1, 1, 2, 3, 2, 4, false, 0) },
		"unpool short strd":  func() { MaxUnpool2Planes(s, s, s, a, 2, 2, 2, 4, 4, 15, false, 0) },
		"unpool short d":     func() { MaxUnpool2Planes(s, s[:7], s, a, 2, 2, 2, 4, 4, 16, false, 0) },
		"unpool short dst":   func() { MaxUnpool2Planes(s[:31], s, s, a, 2, 2, 2, 4, 4, 16, false, 0) },
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

// FuzzPoolPlanes checks MaxPool2Planes and MaxUnpool2Planes against their
// plane-by-plane definitions on fuzzer-chosen counts, shapes and strides,
// on every path.
func FuzzPoolPlanes(f *testing.F) {
	f.Add(uint8(8), uint8(5), uint8(5), uint8(0), uint8(0), uint8(0), uint64(1), true)
	f.Add(uint8(4), uint8(14), uint8(14), uint8(4), uint8(4*32), uint8(3), uint64(2), false)
	f.Add(uint8(9), uint8(14), uint8(14), uint8(4), uint8(0), uint8(0), uint64(3), true)
	f.Add(uint8(5), uint8(5), uint8(5), uint8(0), uint8(0), uint8(3), uint64(5), true)
	f.Add(uint8(3), uint8(3), uint8(4), uint8(3), uint8(2), uint8(1), uint64(6), false)
	f.Add(uint8(7), uint8(3), uint8(17), uint8(39), uint8(1), uint8(2), uint64(4), false)
	f.Fuzz(func(t *testing.T, n, ph, pw, extra, sgap, dgap uint8, seed uint64, relu bool) {
		onEveryPath(t, func() {
			nn, h, w := int(n%17), int(ph%16), int(pw%20)
			ld := 2*w + int(extra%40)
			rng := rand.New(rand.NewPCG(seed, 6))
			m := h * w
			ss := max(0, (2*h-1)*ld+2*w) + int(sgap)
			ds := m + int(dgap%8)
			src := poolValues(rng, nn*ss)
			y, arg := make([]float32, nn*ds), make([]int32, nn*ds)
			MaxPool2Planes(y, arg, src, nn, 2*h, 2*w, ld, ss, ds, 0.5, relu, 3)
			ua := make([]int32, len(arg))
			for q := range nn {
				wd, wa := refMaxPool2(src[q*ss:], 2*h, 2*w, ld, 0.5, relu, 3+int32(q*ss))
				for j := range m {
					if !sameBits(y[q*ds+j], wd[j]) || arg[q*ds+j] != wa[j] {
						t.Fatalf("pool n=%d h=%d w=%d ld=%d: plane %d output %d = (%v, %d), want (%v, %d)", nn, 2*h, 2*w, ld, q, j, y[q*ds+j], arg[q*ds+j], wd[j], wa[j])
					}
					// the same windows as positions in an unpooled plane of
					// 2h rows (stride us below)
					ua[q*ds+j] = wa[j] - 3 - int32(q*ss) + int32(q*(2*h*ld+int(dgap)))
				}
			}
			us := 2*h*ld + int(dgap)
			d := specialValues(rng, nn*ds)
			got := specialValues(rng, nn*us)
			want := append([]float32(nil), got...)
			var ws float64
			for q := range nn {
				p := want[q*us:][:us]
				if m > 0 {
					dq := append([]float32(nil), d[q*ds:q*ds+m]...)
					ws += refMaxUnpool2(p, dq, y[q*ds:], ua[q*ds:], h, w, ld, relu, int32(q*us))
				}
				clear(p[2*h*ld:])
			}
			gs := MaxUnpool2Planes(got, d, y, ua, nn, h, w, ld, ds, us, relu, 0)
			if math.Float64bits(gs) != math.Float64bits(ws) && !(gs != gs && ws != ws) {
				t.Fatalf("unpool n=%d ph=%d pw=%d ld=%d: sum %v, want %v", nn, h, w, ld, gs, ws)
			}
			for i := range want {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("unpool n=%d ph=%d pw=%d ld=%d: dst[%d] = %v, want %v", nn, h, w, ld, i, got[i], want[i])
				}
			}
		})
	})
}

// BenchmarkPoolPlanes runs the per-channel calls LeNet-5's convolutions
// make: conv1's chunk of 4 planes (28×28 outputs on a 32×32 grid, pooled
// outputs 196 apart) and conv2's 8 or 16 planes of a shard (10×10, pooled
// outputs 400 apart in the flattened features), pooling and unpooling,
// on every path; cpu-ns/op is per call.
func BenchmarkPoolPlanes(b *testing.B) {
	for _, tc := range []struct {
		name                   string
		n, h, w, ld, g, stride int
	}{
		{"conv1_n4", 4, 28, 28, 32, 1024, 196},
		{"conv2_n8", 8, 10, 10, 10, 100, 400},
		{"conv2_n16", 16, 10, 10, 10, 100, 400},
	} {
		rng := rand.New(rand.NewPCG(1, 1))
		ph, pw := tc.h/2, tc.w/2
		pre := poolValues(rng, tc.n*tc.g)
		size := (tc.n-1)*tc.stride + ph*pw
		y, arg := make([]float32, size), make([]int32, size)
		d := poolValues(rng, size)
		for _, p := range Paths() {
			b.Run(fmt.Sprintf("%s/pool/impl=%s", tc.name, p), func(b *testing.B) {
				SetPath(p)
				defer SetPath("")
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					MaxPool2Planes(y, arg, pre, tc.n, tc.h, tc.w, tc.ld, tc.g, tc.stride, 0.1, true, 0)
				}
				reportCPU(b, processCPU()-cpu0)
			})
			b.Run(fmt.Sprintf("%s/unpool/impl=%s", tc.name, p), func(b *testing.B) {
				SetPath(p)
				defer SetPath("")
				MaxPool2Planes(y, arg, pre, tc.n, tc.h, tc.w, tc.ld, tc.g, tc.stride, 0.1, true, 0)
				dst := make([]float32, tc.n*tc.g)
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					sinkF64 = MaxUnpool2Planes(dst, d, y, arg, tc.n, ph, pw, tc.ld, tc.stride, tc.g, true, 0)
				}
				reportCPU(b, processCPU()-cpu0)
			})
			// unpool_l2: as unpool, the calls' dst rotating over 128 KiB
			// (more than L1) like the model's channels of a chunk, whose
			// gradient planes are written into lines last held by L2
			b.Run(fmt.Sprintf("%s/unpool_l2/impl=%s", tc.name, p), func(b *testing.B) {
				SetPath(p)
				defer SetPath("")
				MaxPool2Planes(y, arg, pre, tc.n, tc.h, tc.w, tc.ld, tc.g, tc.stride, 0.1, true, 0)
				k := max(1, (128<<10)/(4*tc.n*tc.g))
				dst := make([]float32, k*tc.n*tc.g)
				b.ReportAllocs()
				cpu0 := processCPU()
				i := 0
				for b.Loop() {
					sinkF64 = MaxUnpool2Planes(dst[i*tc.n*tc.g:], d, y, arg, tc.n, ph, pw, tc.ld, tc.stride, tc.g, true, 0)
					i = (i + 1) % k
				}
				reportCPU(b, processCPU()-cpu0)
			})
		}
	}
}

// spreadValues draws finite float32 values of both signs whose magnitudes
// span 2^-40..2^40 (and some ±0), so that a float64 sum of a few hundred
// of them depends on the order of its additions.
func spreadValues(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		if rng.IntN(16) == 0 {
			s[i] = float32(math.Copysign(0, float64(rng.IntN(2)*2-1)))
			continue
		}
		v := math.Ldexp(1+rng.Float64(), rng.IntN(81)-40)
		if rng.IntN(2) == 0 {
			v = -v
		}
		s[i] = float32(v)
	}
	return s
}

// TestMaxUnpool2Sums checks MaxUnpool2Planes's sum, the fixed-order
// float64 sum of every plane added in plane order, and its gradient planes
// against refMaxUnpool2 plane by plane, on every path, for every plane
// count from 1 to 11 (the AVX-512 kernel sums four planes side by side,
// then the rest one at a time), on LeNet-5's shapes and on rows of more
// than 16 outputs, with and without ReLU. The values spread over 80
// binary orders of magnitude, so a sum taken in another order differs.
func TestMaxUnpool2Sums(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 17))
		for _, s := range []struct{ ph, pw, ld int }{{14, 14, 32}, {5, 5, 10}, {3, 19, 40}, {2, 7, 49}, {1, 3, 6}, {3, 4, 9}, {4, 2, 14}, {2, 5, 11}} {
			for n := 1; n <= 11; n++ {
				for _, relu := range []bool{false, true} {
					m := s.ph * s.pw
					sstride := m + rng.IntN(3)
					dstride := 2*s.ph*s.ld + rng.IntN(40)
					base := int32(rng.IntN(100))
					d := spreadValues(rng, n*sstride)
					y, arg := make([]float32, n*sstride), make([]int32, n*sstride)
					for q := range n {
						o := q * sstride
						MaxPool2(y[o:o+m], arg[o:o+m], poolValues(rng, 2*s.ph*s.ld), 2*s.ph, 2*s.pw, s.ld, 0.25, relu, base+int32(q*dstride))
					}
					got := spreadValues(rng, n*dstride+3)
					want := append([]float32(nil), got...)
					var ws float64
					for q := range n {
						p := want[q*dstride:][:dstride]
						o := q * sstride
						dq := append([]float32(nil), d[o:o+m]...)
						ws += refMaxUnpool2(p, dq, y[o:], arg[o:], s.ph, s.pw, s.ld, relu, base+int32(q*dstride))
						clear(p[2*s.ph*s.ld:])
					}
					gs := MaxUnpool2Planes(got[:n*dstride], d, y, arg, n, s.ph, s.pw, s.ld, sstride, dstride, relu, base)
					name := fmt.Sprintf("%v n=%d relu=%v", s, n, relu)
					if math.Float64bits(gs) != math.Float64bits(ws) {
						t.Fatalf("%s: sum %v, want %v", name, gs, ws)
					}
					for i := range want {
						if !sameBits(got[i], want[i]) {
							t.Fatalf("%s: dst[%d] = %v, want %v", name, i, got[i], want[i])
						}
					}
				}
			}
		}
	})
}

// TestMaxPool2Narrow checks MaxPool2Planes on every narrow shape the
// AVX-512 kernel pools two rows of outputs at a time (ld + w/2 <= 16:
// LeNet-5's conv2, 10×10 with ld 10, among them), odd and even heights,
// on every path: against the definition on arbitrary float32 bit patterns
// besides NaNs (infinities, subnormals, both zeros), then with a NaN in a
// window, which must give a NaN with an arg inside that window.
func TestMaxPool2Narrow(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 19))
		for pw := 1; pw <= 5; pw++ {
			for ld := 2 * pw; ld+pw <= 16; ld++ {
				for _, h := range []int{2, 4, 6, 10, 12} {
					checkPoolBits(t, rng, h, pw, ld)
				}
			}
		}
	})
}

// TestMaxPool2OneGroup is TestMaxPool2Narrow on the rows the AVX-512
// kernel pools as one group of 16 lanes each with the masks set once per
// call (w/2 <= 16 outputs, too wide for two rows per group: conv1's 14
// outputs on a 32-wide grid among them).
func TestMaxPool2OneGroup(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(20, 20))
		for pw := 4; pw <= 16; pw++ {
			for _, extra := range []int{0, 1, 4, 9} {
				ld := 2*pw + extra
				if ld+pw <= 16 {
					continue
				}
				for _, h := range []int{2, 6, 28} {
					checkPoolBits(t, rng, h, pw, ld)
				}
			}
		}
	})
}

// checkPoolBits pools 1-3 planes of h×2pw inputs (row stride ld) of
// arbitrary float32 bit patterns besides NaNs, at random strides, bias
// and ReLU, half the time with a NaN in one window, and compares with the
// definition: bit for bit, and a NaN with an arg inside the window for
// the window with the NaN.
func checkPoolBits(t *testing.T, rng *rand.Rand, h, pw, ld int) {
	t.Helper()
	special := []uint32{0, 0x80000000, 1, 0x80000001, 0x7f800000, 0xff800000, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x807fffff}
	bits := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			u := rng.Uint32()
			switch rng.IntN(4) {
			case 0:
				u = special[rng.IntN(len(special))]
			case 1:
				u &= 0x807fffff
			}
			if f := math.Float32frombits(u); f != f {
				u &= 0xff7fffff
			}
			s[i] = math.Float32frombits(u)
		}
		return s
	}
	n := 1 + rng.IntN(3)
	relu := rng.IntN(2) == 0
	bias := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -3, 0.5}[rng.IntN(5)]
	ph := h / 2
	sstride := (h-1)*ld + 2*pw + rng.IntN(3)
	dstride := ph*pw + rng.IntN(3)
	src := bits((n-1)*sstride + (h-1)*ld + 2*pw)
	nan := rng.IntN(2) == 0
	var nq, npy, npx int
	if nan {
		nq, npy, npx = rng.IntN(n), rng.IntN(ph), rng.IntN(pw)
		e := rng.IntN(4)
		src[nq*sstride+(2*npy+e/2)*ld+2*npx+e%2] = float32(math.NaN())
	}
	size := (n-1)*dstride + ph*pw
	dst, arg := make([]float32, size+1), make([]int32, size+1)
	dst[size], arg[size] = 7, -7
	MaxPool2Planes(dst[:size], arg[:size], src, n, h, 2*pw, ld, sstride, dstride, bias, relu, 5)
	name := fmt.Sprintf("h=%d pw=%d ld=%d n=%d relu=%v nan=%v", h, pw, ld, n, relu, nan)
	if dst[size] != 7 || arg[size] != -7 {
		t.Fatalf("%s: wrote past the outputs", name)
	}
	for q := range n {
		b := 5 + int32(q*sstride)
		wd, wa := refMaxPool2(src[q*sstride:], h, 2*pw, ld, bias, relu, b)
		for j := range ph * pw {
			got, ga := dst[q*dstride+j], arg[q*dstride+j]
			if nan && q == nq && j == npy*pw+npx {
				first := b + int32(2*npy*ld+2*npx)
				if got == got || (ga != first && ga != first+1 && ga != first+int32(ld) && ga != first+int32(ld)+1) {
					t.Fatalf("%s: NaN window (%d, %d) gave (%v, %d)", name, npy, npx, got, ga)
				}
				continue
			}
			if math.Float32bits(got) != math.Float32bits(wd[j]) || ga != wa[j] {
				t.Fatalf("%s: plane %d output %d = (%x, %d), want (%x, %d)", name, q, j, math.Float32bits(got), ga, math.Float32bits(wd[j]), wa[j])
			}
		}
	}
}
