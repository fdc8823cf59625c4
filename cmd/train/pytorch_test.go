package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

// TestResumePyTorchFile runs the command on a copy of a real PyTorch run
// (testdata/pytorch-run/run, T_max 5): --resume LenetMnist1.pt trains
// epochs 2-4 in that directory with --batch-size, writes LenetMnist<e>.ckpt
// beside the .pt files on PyTorch's step axis and leaves PyTorch's files
// (the .pt files and its event file) byte for byte, and a hostile file is refused
// naming the file and the global, with nothing written.
func TestResumePyTorchFile(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "pytorch-run", "run")
	dir := filepath.Join(t.TempDir(), "log")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(src)
	inputs := map[string][32]byte{} // PyTorch's .pt files and event file
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		inputs[e.Name()] = sha256.Sum256(b)
	}
	out := runToEnd(t, "--data", synthData(t), "--limit-train", "512", "--limit-test", "100",
		"--batch-size", "16", "--resume", filepath.Join(dir, "LenetMnist1.pt"), "--no-progress")
	if !strings.Contains(out, "continuing the PyTorch run") || !strings.Contains(out, "epoch 2 of 5, batch size 16") {
		t.Errorf("output:\n%s", out)
	}
	for e := 2; e <= 4; e++ {
		c, err := ckpt.Load(filepath.Join(dir, "LenetMnist"+string(rune('0'+e))+".ckpt"))
		if err != nil {
			t.Fatal(err)
		}
		if c.GetStepConvention() != ckptpb.StepConvention_STEP_CONVENTION_EPOCH || c.GetConfig().GetBatchSize() != 16 {
			t.Errorf("epoch %d checkpoint: convention %v, batch %d", e, c.GetStepConvention(), c.GetConfig().GetBatchSize())
		}
	}

	for name, sum := range inputs {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || sha256.Sum256(b) != sum {
			t.Errorf("PyTorch's %s was modified or removed by the resume (%v)", name, err)
		}
	}

	hostile := filepath.Join("..", "..", "testdata", "pytorch-run", "hostile", "os_system.pt")
	empty := t.TempDir()
	before, _ := os.ReadDir(filepath.Dir(hostile))
	c := start(t, "--data", synthData(t), "--logdir", empty, "--resume", hostile)
	if code := c.wait(t); code != 1 || !strings.Contains(c.stderr.String(), hostile) || !strings.Contains(c.stderr.String(), "posix.system") {
		t.Errorf("hostile file: exit %d, stderr %q", code, c.stderr.String())
	}
	after, _ := os.ReadDir(filepath.Dir(hostile))
	if left, _ := os.ReadDir(empty); len(left) != 0 || len(after) != len(before) {
		t.Errorf("the refused resume wrote files (%d in --logdir, %d -> %d beside the file)", len(left), len(before), len(after))
	}
}
