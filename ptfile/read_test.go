package ptfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/ptfixture"
)

// fixtures is the directory written by testdata/pytorch-run/gen.py (real
// PyTorch 1.13 output).
var fixtures = filepath.Join("..", "testdata", "pytorch-run")

// TestReadCheckpointFixtures reads every .pt file PyTorch wrote and compares
// each tensor, bit for bit (through its SHA-256), and every optimizer and
// scheduler value with what PyTorch read from the same file.
//
// legacy/LenetMnist2.pt is run/LenetMnist2.pt saved in the format before
// torch 1.6 (testdata/pytorch-run/legacy.py checks that torch.load gives
// the same tensors and values), so it must read exactly like it.
func TestReadCheckpointFixtures(t *testing.T) {
	exp := ptfixture.Read(t, fixtures)
	files := map[string]string{}
	for rel := range exp.Files {
		files[rel] = rel
	}
	files["legacy/LenetMnist2.pt"] = "run/LenetMnist2.pt"
	for path, rel := range files {
		want := exp.Files[rel]
		t.Run(path, func(t *testing.T) {
			c, err := ReadCheckpoint(filepath.Join(fixtures, path))
			if err != nil {
				t.Fatal(err)
			}
			if c.StartEpoch != want.StartEpoch || c.OptimizerKey != want.OptimizerKey {
				t.Errorf("start_epoch %d key %q, want %d %q", c.StartEpoch, c.OptimizerKey, want.StartEpoch, want.OptimizerKey)
			}
			if len(c.Model) != len(want.Weights) {
				t.Fatalf("%d tensors, want %d", len(c.Model), len(want.Weights))
			}
			for i, nt := range c.Model {
				if got := ptfixture.SHA(nt.Tensor.Data); got != want.Weights[nt.Name] {
					t.Errorf("%s: sha256 %s, PyTorch %s", nt.Name, got, want.Weights[nt.Name])
				}
				if nt.Tensor.Numel() != len(nt.Tensor.Data) {
					t.Errorf("%s: shape %v with %d values", nt.Name, nt.Tensor.Shape, len(nt.Tensor.Data))
				}
				if buf := c.Optimizer.MomentumBuffers[i]; buf == nil || ptfixture.SHA(buf.Data) != want.MomentumBuffers[nt.Name] {
					t.Errorf("%s: momentum buffer differs from PyTorch's", nt.Name)
				}
				if c.Optimizer.Params[i] != int64(i) {
					t.Errorf("param %d has id %d", i, c.Optimizer.Params[i])
				}
			}
			o, s := c.Optimizer, c.Scheduler
			if o.LR != want.LR || o.Momentum != want.Momentum || o.WeightDecay != 0 || o.Nesterov || o.Dampening != 0 {
				t.Errorf("optimizer %+v, want lr %v momentum %v", o, want.LR, want.Momentum)
			}
			if s.TMax != want.TMax || s.EtaMin != want.EtaMin || s.LastEpoch != want.LastEpoch ||
				!slices.Equal(s.BaseLRs, want.BaseLRs) || !slices.Equal(s.LastLR, want.LastLR) {
				t.Errorf("scheduler %+v, want %+v", s, want)
			}
		})
	}
}

// TestHostile loads the hostile fixtures: each names a global that would run
// code under torch.load. The error must name the file and the global, and
// the command it would have run must not have run.
func TestHostile(t *testing.T) {
	marker := "/tmp/tbtrain-hostile-pickle-ran" // what gen.py's payloads would create
	os.Remove(marker)
	// file -> the global as the pickle spells it (protocol 2 writes Python
	// 2 module names) and its Python 3 name
	cases := map[string][2]string{
		"os_system.pt":             {"posix.system", "posix.system"},
		"../legacy/os_system.pt":   {"posix.system", "posix.system"}, // the pre-1.6 format
		"builtins_eval.pt":         {"__builtin__.eval", "builtins.eval"},
		"subprocess_call.pt":       {"commands.call", "subprocess.call"},
		"main_class.pt":            {"__main__.Plain", "__main__.Plain"},
		"copyreg_reconstructor.pt": {"copy_reg._reconstructor", "copyreg._reconstructor"},
	}
	for name, names := range cases {
		global, py3 := names[0], names[1]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(fixtures, "hostile", name)
			_, err := ReadCheckpoint(path)
			var fe *ForbiddenError
			var pe *Error
			if !errors.As(err, &fe) || !errors.Is(err, ErrForbidden) || !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ForbiddenError inside an *Error", err)
			}
			if fe.Global() != global || fe.Python3() != py3 || pe.Path != path {
				t.Errorf("global %s (%s) in %s, want %s (%s) in %s", fe.Global(), fe.Python3(), pe.Path, global, py3, path)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, global) || !strings.Contains(msg, py3) {
				t.Errorf("message %q does not name the file and the global", msg)
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("%s exists: a payload ran", marker)
	}
}

// TestLegacySmall reads legacy/small.pt, written by torch 1.13 in the
// format before torch 1.6, and then cuts and alters it: every variant is a
// documented error, never a panic or a wrong tensor.
func TestLegacySmall(t *testing.T) {
	path := filepath.Join(fixtures, "legacy", "small.pt")
	v, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := CheckpointOf(v)
	if err != nil || c.StartEpoch != 1 || len(c.Model) != 2 || c.Model[0].Name != "w" || c.Model[1].Name != "b" ||
		!slices.Equal(c.Model[0].Tensor.Data, []float32{0, 1, 2, 3, 4, 5}) || !slices.Equal(c.Model[0].Tensor.Shape, []int{2, 3}) ||
		!slices.Equal(c.Model[1].Tensor.Data, []float32{0.5, -0.5}) {
		t.Fatalf("small.pt: %+v %v", c, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The storages follow the last pickle: an int64 element count, then
	// the elements (6 floats of w, 2 of b).
	first := len(b) - (8 + 6*4) - (8 + 2*4)
	for name, bad := range map[string][]byte{
		"cut in the storages": b[:len(b)-3],
		"cut in the pickles":  b[:first-20],
		"trailing byte":       append(slices.Clip(b), 0),
		"magic only":          b[:len(legacyMagic)+1],
		"element count":       func() []byte { c := slices.Clone(b); c[first]++; return c }(),
		"protocol":            func() []byte { c := slices.Clone(b); c[len(legacyMagic)+4]++; return c }(),
	} {
		_, err := Decode(bytes.NewReader(bad), int64(len(bad)))
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrCorrupt or ErrUnsupported", name, err)
		}
	}
}
