package ptfixture

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Expect is expect.json: what PyTorch itself read from each .pt file of the
// run.
type Expect struct {
	Source  string          `json:"source"`   // the PyTorch that read the files
	EpochLR []float64       `json:"epoch_lr"` // the learning rate of each epoch 0-4
	Files   map[string]File `json:"files"`    // by path relative to the fixture directory
}

// File is what PyTorch read from one .pt file. Weights and MomentumBuffers
// map parameter names to the [SHA] of their tensors.
type File struct {
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
}

// Read reads dir/expect.json, dir being the fixture directory as the test
// reaches it (testdata/pytorch-run). It fails t if the file cannot be read
// or lists no files or no epoch's learning rate.
func Read(t testing.TB, dir string) *Expect {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e Expect
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("expect.json: %v", err)
	}
	if len(e.Files) == 0 || len(e.EpochLR) == 0 {
		t.Fatalf("expect.json lists %d files and %d epochs' learning rates, want some of each", len(e.Files), len(e.EpochLR))
	}
	return &e
}

// SHA returns the hex SHA-256 of the float32 values, little-endian: what
// gen.py computes from the tensors PyTorch loaded.
func SHA(data []float32) string {
	b := make([]byte, 0, 4*len(data))
	for _, f := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
