package ptfile

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixtures is the directory written by testdata/pytorch-run/gen.py (real
// PyTorch 1.13 output).
var fixtures = filepath.Join("..", "testdata", "pytorch-run")

// expect is testdata/pytorch-run/expect.json: what PyTorch itself read from
// each .pt file.
type expect struct {
	Source  string    `json:"source"`
	EpochLR []float64 `json:"epoch_lr"`
	Files   map[string]struct {
		StartEpoch      int64             `json:"start_epoch"`
		OptimizerKey    string            `json:"optimizer_key"`
		Weights         map[string]string `json:"weights"`
		MomentumBuffers map[string]string `json:"momentum_buffers"`
		LR              float64           `json:"lr"`
		Momentum        float64           `json:"momentum"`
		TMax            int64             `json:"t_max"`
		EtaMin          float64           `json:"eta_min"`
		BaseLRs         []float64         `json:"base_lrs"`
		LastEpoch       int64             `json:"last_epoch"`
		LastLR          []float64         `json:"last_lr"`
	} `json:"files"`
}

func readExpect(t *testing.T) *expect {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expect
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Files) == 0 {
		t.Fatal("expect.json lists no files")
	}
	return &e
}

// sha returns the SHA-256 of the float32 values, little-endian: what
// gen.py computes from the tensors PyTorch loaded.
func sha(data []float32) string {
	b := make([]byte, 0, 4*len(data))
	for _, f := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestReadCheckpointFixtures reads every .pt file PyTorch wrote and compares
// each tensor, bit for bit (through its SHA-256), and every optimizer and
// scheduler value with what PyTorch read from the same file.
func TestReadCheckpointFixtures(t *testing.T) {
	exp := readExpect(t)
	for rel, want := range exp.Files {
		t.Run(rel, func(t *testing.T) {
			c, err := ReadCheckpoint(filepath.Join(fixtures, rel))
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
				if got := sha(nt.Tensor.Data); got != want.Weights[nt.Name] {
					t.Errorf("%s: sha256 %s, PyTorch %s", nt.Name, got, want.Weights[nt.Name])
				}
				if nt.Tensor.Numel() != len(nt.Tensor.Data) {
					t.Errorf("%s: shape %v with %d values", nt.Name, nt.Tensor.Shape, len(nt.Tensor.Data))
				}
				if buf := c.Optimizer.MomentumBuffers[i]; buf == nil || sha(buf.Data) != want.MomentumBuffers[nt.Name] {
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
