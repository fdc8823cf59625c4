package kern

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/arithmetic.golden")

// goldenDigest runs every kernel of the package and the elementary
// functions on fixed pseudo-random inputs with the active code path and
// returns a SHA-256 of all the result bits, one line per kernel.
func goldenDigest() string {
	rng := rand.New(rand.NewPCG(41, 41))
	var out strings.Builder
	sum := func(name string, xs ...[]float32) {
		h := sha256.New()
		for _, x := range xs {
			for _, v := range x {
				if v != v {
					v = float32(math.NaN()) // NaN payloads are not part of the arithmetic
				}
				binary.Write(h, binary.LittleEndian, math.Float32bits(v))
			}
		}
		fmt.Fprintf(&out, "%-20s %x\n", name, h.Sum(nil)[:12])
	}
	for flags := range 8 {
		tA, tB, acc := flags&1 != 0, flags&2 != 0, flags&4 != 0
		for _, s := range [][3]int{{6, 4096, 25}, {16, 150, 1600}, {37, 61, 300}, {5, 3, 17}} {
			g := gemmCase{transA: tA, transB: tB, acc: acc, m: s[0], n: s[1], k: s[2], pad: 1}
			a, lda, b, ldb, c, ldc := gemmOperands(g, rng, canonValues)
			if !acc {
				clear(c)
			}
			Sgemm(tA, tB, g.m, g.n, g.k, a, lda, b, ldb, acc, c, ldc)
			sum(fmt.Sprintf("Sgemm%d:%dx%dx%d", flags, g.m, g.n, g.k), c)
		}
	}
	padded := canonValues(rng, 4*32*32+4*32+5)
	offs := make([]int, 25)
	for i := range offs {
		offs[i] = i/5*32 + i%5
	}
	w := canonValues(rng, 6*25)
	pre := make([]float32, 6*4*32*32)
	SgemmRows(6, 4*32*32, 25, w, 25, padded, offs, false, pre, 4*32*32)
	sum("SgemmRows", pre)
	dw := canonValues(rng, 6*25)
	SgemmRowsT(6, 25, 4*32*32, pre, 4*32*32, padded, offs, true, dw, 25)
	sum("SgemmRowsT", dw)
	x := canonValues(rng, 1003)
	y := canonValues(rng, 1003)
	AddBias(x, 0.375, true)
	AddBiasVec(y[:1000], x[3:], false)
	ReLUMask(x, y)
	Add(y, x)
	sum("elementwise", x, y)
	p, buf, g := canonValues(rng, 1001), canonValues(rng, 1001), canonValues(rng, 1001)
	SGDMomentum(p, buf, g, 0.9, -0.01)
	sum("SGDMomentum", p, buf)
	dst, arg := make([]float32, 14*14), make([]int32, 14*14)
	MaxPool2(dst, arg, canonValues(rng, 28*32), 28, 28, 32, -0.25, true, 5)
	args := make([]float32, len(arg))
	for i, v := range arg {
		args[i] = float32(v)
	}
	sum("MaxPool2", dst, args)
	s := ConvShape{C: 3, H: 11, W: 9, K: 3, Pad: 1}
	col := canonValues(rng, 3*9*2*11*9)
	in := make([]float32, 3*2*11*9)
	Col2im(in, col, s, 2)
	sum("Col2im", in)
	var ef []float32
	for range 2000 {
		v := (2*rng.Float64() - 1) * 50
		for _, f := range []float64{Exp(v), Log(math.Abs(v)), Cos(v)} {
			b := math.Float64bits(f)
			ef = append(ef, math.Float32frombits(uint32(b)), math.Float32frombits(uint32(b>>32)))
		}
	}
	sum("Exp,Log,Cos", ef)
	return out.String()
}

// TestGoldenBits checks that every code path computes exactly the bits
// recorded in testdata/arithmetic.golden for the canonical arithmetic
// named there. The file was written on one machine; the test passing on
// another processor (or under qemu-aarch64, see the package doc) shows
// that that processor computes the same bits. Rewrite the file with
// -update only together with a new Arithmetic.
func TestGoldenBits(t *testing.T) {
	file := filepath.Join("testdata", "arithmetic.golden")
	header := "arithmetic " + Arithmetic + "\n"
	if *update {
		defer SetPath("")
		if err := SetPath("generic"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(header+goldenDigest()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, ok := strings.CutPrefix(string(data), header)
	if !ok {
		t.Fatalf("%s is not for arithmetic %s: rewrite it with go test -run TestGoldenBits -update", file, Arithmetic)
	}
	forPaths(t, func(t *testing.T) {
		if got := goldenDigest(); got != want {
			t.Errorf("results differ from %s:\ngot:\n%swant:\n%s", file, got, want)
		}
	})
}
