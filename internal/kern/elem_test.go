package kern

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// specialValues mixes ordinary numbers with the cases ReLU must get right.
func specialValues(rng *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45, 0.25, -0.25}
	s := make([]float32, n)
	for i := range s {
		if rng.IntN(4) == 0 {
			s[i] = special[rng.IntN(len(special))]
		} else {
			s[i] = 4*rng.Float32() - 2
		}
	}
	return s
}

// relu32 is the reference activation: +0 unless v > 0.
func relu32(v float32, on bool) float32 {
	if on && !(v > 0) {
		return 0
	}
	return v
}

// sameBits reports whether got and want hold identical bit patterns
// (NaNs compare by being NaN, since payloads of x+bias may differ).
func sameBits(got, want float32) bool {
	if want != want {
		return got != got
	}
	return math.Float32bits(got) == math.Float32bits(want)
}

// elemCases runs f over lengths 0..70 at offsets 0..3 inside a larger buffer
// whose guard elements must stay untouched.
func elemCases(t *testing.T, f func(t *testing.T, rng *rand.Rand, n, off int)) {
	rng := rand.New(rand.NewPCG(5, 5))
	for n := range 71 {
		for off := range 4 {
			f(t, rng, n, off)
		}
	}
}

func TestAddBias(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		elemCases(t, func(t *testing.T, rng *rand.Rand, n, off int) {
			for _, relu := range []bool{false, true} {
				buf := specialValues(rng, n+off+3)
				orig := append([]float32(nil), buf...)
				bias := specialValues(rng, 1)[0]
				if bias != bias {
					bias = 0.5
				}
				AddBias(buf[off:off+n], bias, relu)
				for i, got := range buf {
					want := orig[i]
					if i >= off && i < off+n {
						want = relu32(orig[i]+bias, relu)
					}
					if !sameBits(got, want) {
						t.Fatalf("n=%d off=%d relu=%v bias=%v: buf[%d] = %v, want %v (input %v)", n, off, relu, bias, i, got, want, orig[i])
					}
				}
			}
		})
	})
}

func TestAddBiasVec(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		elemCases(t, func(t *testing.T, rng *rand.Rand, n, off int) {
			for _, relu := range []bool{false, true} {
				buf := specialValues(rng, n+off+3)
				orig := append([]float32(nil), buf...)
				bias := specialValues(rng, n+1)[1:]
				AddBiasVec(buf[off:off+n], bias, relu)
				for i, got := range buf {
					want := orig[i]
					if i >= off && i < off+n {
						want = relu32(orig[i]+bias[i-off], relu)
					}
					if !sameBits(got, want) {
						t.Fatalf("n=%d off=%d relu=%v: buf[%d] = %v, want %v (input %v + %v)", n, off, relu, i, got, want, orig[i], bias[i-off])
					}
				}
			}
		})
	})
}

func TestReLUMask(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		elemCases(t, func(t *testing.T, rng *rand.Rand, n, off int) {
			buf := specialValues(rng, n+off+3)
			orig := append([]float32(nil), buf...)
			y := specialValues(rng, n)
			ReLUMask(buf[off:off+n], y)
			for i, got := range buf {
				want := orig[i]
				if i >= off && i < off+n && !(y[i-off] > 0) {
					want = 0
				}
				if !sameBits(got, want) {
					t.Fatalf("n=%d off=%d: buf[%d] = %v, want %v (y = %v)", n, off, i, got, want, y[i-off])
				}
			}
		})
	})
}

func TestAdd(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		elemCases(t, func(t *testing.T, rng *rand.Rand, n, off int) {
			buf := specialValues(rng, n+off+3)
			orig := append([]float32(nil), buf...)
			s := specialValues(rng, n)
			Add(buf[off:off+n], s)
			for i, got := range buf {
				want := orig[i]
				if i >= off && i < off+n {
					want = orig[i] + s[i-off]
				}
				if !sameBits(got, want) {
					t.Fatalf("n=%d off=%d: buf[%d] = %v, want %v (%v + %v)", n, off, i, got, want, orig[i], s[i-off])
				}
			}
		})
	})
}

// TestSum and TestAdd2 compare the one-pass sums with their two-pass
// definitions on every path, for all lengths 0..70 (the 16- and 8-float
// vector bodies and the scalar tails) and offsets.
func TestSum(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		elemCases(t, func(t *testing.T, rng *rand.Rand, n, off int) {
			buf := specialValues(rng, n+off+3)
			orig := append([]float32(nil), buf...)
			a, b := specialValues(rng, n), specialValues(rng, n)
			Sum(buf[off:off+n], a, b)
			for i, got := range buf {
				want := orig[i]
				if i >= off && i < off+n {
					want = a[i-off] + b[i-off]
				}
				if !sameBits(got, want) {
					t.Fatalf("n=%d off=%d: buf[%d] = %v, want %v", n, off, i, got, want)
				}
			}
		})
	})
}

func TestAdd2(t *testing.T) {
	forPaths(t, func(t *testing.T) {
		elemCases(t, func(t *testing.T, rng *rand.Rand, n, off int) {
			buf := specialValues(rng, n+off+3)
			orig := append([]float32(nil), buf...)
			a, b := specialValues(rng, n), specialValues(rng, n)
			Add2(buf[off:off+n], a, b)
			twice := append([]float32(nil), orig[off:off+n]...)
			Add(twice, a)
			Add(twice, b)
			for i, got := range buf {
				want := orig[i]
				if i >= off && i < off+n {
					want = twice[i-off]
				}
				if !sameBits(got, want) {
					t.Fatalf("n=%d off=%d: buf[%d] = %v, want %v", n, off, i, got, want)
				}
			}
		})
	})
}

// TestElemPathsRandom runs Sum, Add2 and SGDMomentum on random lengths up
// to 5000 on every path and requires the generic path's bits.
func TestElemPathsRandom(t *testing.T) {
	defer SetPath("")
	rng := rand.New(rand.NewPCG(21, 21))
	for range 50 {
		n := rng.IntN(5000)
		a, b, c := specialValues(rng, n), specialValues(rng, n), specialValues(rng, n)
		m, negLR := 4*rng.Float32()-2, 4*rng.Float32()-2
		var want [4][]float32
		for _, name := range append([]string{"generic"}, Paths()...) {
			if err := SetPath(name); err != nil {
				t.Fatal(err)
			}
			s := make([]float32, n)
			Sum(s, a, b)
			s2 := append([]float32(nil), c...)
			Add2(s2, a, b)
			p, buf := append([]float32(nil), a...), append([]float32(nil), b...)
			SGDMomentum(p, buf, c, m, negLR)
			got := [4][]float32{s, s2, p, buf}
			if want[0] == nil {
				want = got
				continue
			}
			for k := range got {
				for i := range got[k] {
					if !sameBits(got[k][i], want[k][i]) {
						t.Fatalf("%s, n=%d, result %d: element %d = %v, generic %v", name, n, k, i, got[k][i], want[k][i])
					}
				}
			}
		}
	}
}

// TestLookup checks Lookup against the table on every path, for all
// lengths 0..70 at offsets 0..3 and on a 784-byte image, with guard
// elements that must stay untouched.
func TestLookup(t *testing.T) {
	var table [256]float32
	rng := rand.New(rand.NewPCG(22, 22))
	copy(table[:], specialValues(rng, 256))
	forPaths(t, func(t *testing.T) {
		check := func(n, off int) {
			src := make([]uint8, n)
			for i := range src {
				src[i] = uint8(rng.IntN(256))
			}
			buf := specialValues(rng, n+off+3)
			orig := append([]float32(nil), buf...)
			Lookup(buf[off:off+n], src, &table)
			for i, got := range buf {
				want := orig[i]
				if i >= off && i < off+n {
					want = table[src[i-off]]
				}
				if math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("n=%d off=%d: buf[%d] = %v, want %v", n, off, i, got, want)
				}
			}
		}
		for n := range 71 {
			for off := range 4 {
				check(n, off)
			}
		}
		check(784, 1)
	})
}

// TestPrefetch checks that Prefetch changes no memory for every length up to
// 200 at offsets 0..63 of a buffer (ranges starting and ending inside cache
// lines, and the empty one), including a range that ends at the end of the
// allocation.
func TestPrefetch(t *testing.T) {
	buf := make([]uint8, 300)
	for i := range buf {
		buf[i] = uint8(i * 13)
	}
	orig := append([]uint8(nil), buf...)
	for off := range 64 {
		for n := range 201 {
			Prefetch(buf[off : off+n])
		}
	}
	Prefetch(buf[299:])
	Prefetch(nil)
	for i := range buf {
		if buf[i] != orig[i] {
			t.Fatalf("buf[%d] = %d after Prefetch, want %d", i, buf[i], orig[i])
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	// One MNIST image.
	var table [256]float32
	for i := range table {
		table[i] = float32(i)
	}
	src := make([]uint8, 784)
	for i := range src {
		src[i] = uint8(i * 7)
	}
	dst := make([]float32, 784)
	defer SetPath("")
	for _, impl := range Paths() {
		b.Run("impl="+impl, func(b *testing.B) {
			if err := SetPath(impl); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(784)
			for b.Loop() {
				Lookup(dst, src, &table)
			}
		})
	}
}

func TestElemPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"AddBiasVec": func() { AddBiasVec(make([]float32, 3), make([]float32, 4), true) },
		"ReLUMask":   func() { ReLUMask(make([]float32, 3), make([]float32, 2)) },
		"Add":        func() { Add(make([]float32, 3), make([]float32, 4)) },
		"Sum":        func() { Sum(make([]float32, 3), make([]float32, 3), make([]float32, 4)) },
		"Add2":       func() { Add2(make([]float32, 3), make([]float32, 2), make([]float32, 3)) },
		"Lookup":     func() { Lookup(make([]float32, 3), make([]uint8, 2), new([256]float32)) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != errLength {
					t.Errorf("panic = %v, want %q", r, errLength)
				}
			}()
			f()
		})
	}
}

func BenchmarkElem(b *testing.B) {
	// Sizes of one conv1 output channel of a 16-image shard and one fc1 row.
	x := make([]float32, 784*16)
	y := randSlice(rand.New(rand.NewPCG(1, 1)), len(x))
	bias := make([]float32, len(x))
	b.Run("AddBiasReLU_12544", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(4 * int64(len(x)))
		for b.Loop() {
			copy(x, y)
			AddBias(x, -0.1, true)
		}
	})
	b.Run("AddBiasVecReLU_120", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(4 * 120)
		for b.Loop() {
			AddBiasVec(x[:120], bias[:120], true)
		}
	})
	b.Run("Add_140", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(4 * 140)
		for b.Loop() {
			Add(x[:140], y[:140])
		}
	})
	b.Run("ReLUMask_12544", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(4 * int64(len(x)))
		for b.Loop() {
			ReLUMask(x, y)
		}
	})
}

// FuzzElem checks the element-wise kernels against their scalar
// definitions on fuzzer-chosen lengths and bit patterns (so NaNs, zeros,
// infinities and subnormals all occur).
func FuzzElem(f *testing.F) {
	f.Add([]byte("\x00\x00\x80\x3f\x00\x00\x80\xbf\x00\x00\xc0\x7f\x00\x00\x00\x80"), float32(0.5), true)
	f.Add(make([]byte, 4*37), float32(-1), false)
	f.Fuzz(func(t *testing.T, data []byte, bias float32, relu bool) {
		onEveryPath(t, func() {
			n := len(data) / 8
			x := make([]float32, n)
			y := make([]float32, n)
			for i := range n {
				x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[8*i:]))
				y[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[8*i+4:]))
			}
			check := func(name string, got []float32, want func(i int) float32) {
				t.Helper()
				for i := range got {
					if !sameBits(got[i], want(i)) {
						t.Fatalf("%s: element %d of %d = %v, want %v", name, i, n, got[i], want(i))
					}
				}
			}
			got := append([]float32(nil), x...)
			AddBias(got, bias, relu)
			check("AddBias", got, func(i int) float32 { return relu32(x[i]+bias, relu) })
			got = append(got[:0], x...)
			AddBiasVec(got, y, relu)
			check("AddBiasVec", got, func(i int) float32 { return relu32(x[i]+y[i], relu) })
			got = append(got[:0], x...)
			ReLUMask(got, y)
			check("ReLUMask", got, func(i int) float32 {
				if !(y[i] > 0) {
					return 0
				}
				return x[i]
			})
			got = append(got[:0], x...)
			Add(got, y)
			check("Add", got, func(i int) float32 { return x[i] + y[i] })
			got = append(got[:0], x...)
			Sum(got, y, x)
			check("Sum", got, func(i int) float32 { return y[i] + x[i] })
			got = append(got[:0], x...)
			Add2(got, y, x)
			check("Add2", got, func(i int) float32 { return float32(x[i]+y[i]) + x[i] })
			var table [256]float32
			for i := range table {
				table[i] = float32(i)
				if n > 0 {
					table[i] += x[i%n]
				}
			}
			got = append(got[:0], x...)
			Lookup(got, data[:n], &table)
			check("Lookup", got, func(i int) float32 { return table[data[i]] })
			// SGD with p = x, buf = y, g = x reversed, momentum = bias.
			g := make([]float32, n)
			for i := range g {
				g[i] = x[n-1-i]
			}
			p, buf := append([]float32(nil), x...), append([]float32(nil), y...)
			const negLR = -0.01
			SGDMomentum(p, buf, g, bias, negLR)
			wantBuf := func(i int) float32 { return float32(y[i]*bias) + g[i] }
			check("SGDMomentum buf", buf, wantBuf)
			check("SGDMomentum p", p, func(i int) float32 { return exactFMA32(negLR, wantBuf(i), x[i]) })
		})
	})
}
