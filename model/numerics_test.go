package model

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/kern"
)

var update = flag.Bool("update", false, "rewrite testdata/numerics.golden")

// trainDigest trains a fresh model for a few SGD-with-momentum steps on
// random batches (even, uneven and tiny), evaluates it, and returns
// SHA-256 digests of every loss, the final weights, gradient and momentum
// buffer, the evaluation loss and the predictions.
func trainDigest(t *testing.T) string {
	t.Helper()
	m := NewLeNet5(seeded(61))
	x, y := randomBatch(seeded(62), 40)
	buf := make([]float32, m.NumParams())
	h := sha256.New()
	for _, n := range []int{16, 40, 3, 16} {
		loss := m.TrainBatch(x[:n*ImageSize], y[:n])
		binary.Write(h, binary.LittleEndian, math.Float32bits(loss))
		kern.SGDMomentum(m.Data(), buf, m.Grad(), 0.9, -0.05)
	}
	sum := func(name string, v []float32) string {
		h := sha256.New()
		binary.Write(h, binary.LittleEndian, v)
		return fmt.Sprintf("%-8s %x\n", name, h.Sum(nil)[:12])
	}
	pred := make([]uint8, len(y))
	eval := m.Eval(x, y, pred)
	hp := sha256.New()
	hp.Write(pred)
	return fmt.Sprintf("losses   %x\n", h.Sum(nil)[:12]) + sum("weights", m.Data()) + sum("grad", m.Grad()) +
		sum("momentum", buf) + fmt.Sprintf("eval     %x %x\n", math.Float64bits(eval), hp.Sum(nil)[:12])
}

// TestNumericsAcrossPaths trains the same model on every kern code path
// that can run here and checks that all of them give the bits recorded in
// testdata/numerics.golden for the model's Numerics. The file was written
// on one machine; the test passing on another processor (or under
// qemu-aarch64: see internal/kern's package doc) shows that it trains the
// same bits. Rewrite the file with -update only when Numerics changes.
func TestNumericsAcrossPaths(t *testing.T) {
	file := filepath.Join("testdata", "numerics.golden")
	header := NewLeNet5(seeded(1)).Numerics() + "\n"
	defer kern.SetPath("")
	if *update {
		if err := kern.SetPath("generic"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(header+trainDigest(t)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, ok := strings.CutPrefix(string(data), header)
	if !ok {
		t.Fatalf("%s is not for numerics %q: rewrite it with go test -run TestNumericsAcrossPaths -update", file, header)
	}
	t.Logf("kern code paths: %v", kern.Paths())
	for _, p := range kern.Paths() {
		t.Run(p, func(t *testing.T) {
			if err := kern.SetPath(p); err != nil {
				t.Fatal(err)
			}
			if got := trainDigest(t); got != want {
				t.Errorf("results differ from %s:\ngot:\n%swant:\n%s", file, got, want)
			}
		})
	}
}
