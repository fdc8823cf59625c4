package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/mnist/mnisttest"
	"github.com/tbtrain/tbtrain/model"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/ptfile"
	"github.com/tbtrain/tbtrain/trainer"
)

// python is Debian's interpreter, where python3-torch installs torch.
const python = "/usr/bin/python3"

// needTorch skips without torch, except under CI=true, where it fails.
func needTorch(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import torch, numpy").Run(); err != nil {
		msg := python + " cannot import torch and numpy (apt-get install python3-torch python3-numpy): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// trainedCheckpoint trains 2 epochs of a small run on real MNIST (the
// GoMNIST module) and returns its last epoch-end checkpoint and the test set.
func trainedCheckpoint(t *testing.T) (string, *ckptpb.Checkpoint, *mnist.Set) {
	t.Helper()
	train, test, err := mnist.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	cfg := trainer.DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LimitTrain, cfg.LimitTest = 3, 16, 1024, 256
	tr, err := trainer.New(t.TempDir(), cfg, train, test, trainer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tr.Dir(), "LenetMnist1.ckpt")
	c, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, c, test
}

// TestExportRoundTrip exports a tbtrain checkpoint for PyTorch and lets real
// PyTorch resume it as the demo recipe does: the same predictions as Go on
// 1000 test images (accuracy equal, logits within 1e-5), the optimizer and
// scheduler state as exported; PyTorch's own torch.save of what it resumed
// reads back in Go bit for bit; the safetensors file holds the same weights
// as PyTorch reads them.
func TestExportRoundTrip(t *testing.T) {
	needTorch(t)
	path, c, test := trainedCheckpoint(t)
	dir := t.TempDir()
	pt, st := filepath.Join(dir, "LenetMnist1.pt"), filepath.Join(dir, "LenetMnist1.safetensors")
	for _, out := range []string{pt, st} {
		var o, e bytes.Buffer
		if err := run(context.Background(), []string{"--export", out, path}, nil, &o, &e); err != nil {
			t.Fatalf("--export %s: %v %s", out, err, e.String())
		}
	}
	const n = 1000
	res, resaved := filepath.Join(dir, "torch.json"), filepath.Join(dir, "resaved.pt")
	cmd := exec.Command(python, filepath.Join("..", "..", "testdata", "pytorch-run", "roundtrip.py"), pt, st, "1000", res, resaved)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("roundtrip.py: %v\n%s", err, out)
	}
	var got struct {
		Torch            string      `json:"torch"`
		Logits           [][]float64 `json:"logits"`
		Pred             []int       `json:"pred"`
		Acc              float64     `json:"acc"`
		LR               float64     `json:"lr"`
		Momentum         float64     `json:"momentum"`
		Buffers          int         `json:"buffers"`
		SafetensorsEqual bool        `json:"safetensors_equal"`
		Scheduler        struct {
			TMax      int64     `json:"T_max"`
			EtaMin    float64   `json:"eta_min"`
			LastEpoch int64     `json:"last_epoch"`
			LastLR    []float64 `json:"_last_lr"`
		} `json:"scheduler"`
	}
	b, err := os.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &got); err != nil || len(got.Logits) != n {
		t.Fatalf("torch.json: %v (%d logits)", err, len(got.Logits))
	}

	// Go's side: the same network on the same images.
	net := model.NewLeNet5(rand.New(rand.NewPCG(1, 1))) // weights overwritten below
	for i, p := range net.Params() {
		copy(p.Data, c.GetParams()[i].GetData())
	}
	x, labels := make([]float32, n*784), make([]uint8, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	test.Batch(x, labels, idx)
	pred, feats := make([]uint8, n), make([]float32, n*model.FeatureSize)
	net.EvalTo(x, labels, model.EvalOutputs{Pred: pred, Features: feats})
	// EvalTo returns the penultimate activations; the last layer is affine.
	w5, b5 := net.Params()[8].Data, net.Params()[9].Data
	var correctGo, correctPy int
	maxDiff := 0.0
	for i := range n {
		for k := range model.NumClasses {
			z := float64(b5[k])
			for j := range model.FeatureSize {
				z += float64(w5[k*model.FeatureSize+j]) * float64(feats[i*model.FeatureSize+j])
			}
			maxDiff = math.Max(maxDiff, math.Abs(z-got.Logits[i][k]))
		}
		if int(pred[i]) != got.Pred[i] {
			t.Errorf("image %d: Go predicts %d, PyTorch %d", i, pred[i], got.Pred[i])
		}
		if pred[i] == labels[i] {
			correctGo++
		}
		if got.Pred[i] == int(labels[i]) {
			correctPy++
		}
	}
	accGo := float64(correctGo) / n
	t.Logf("PyTorch %s: accuracy Go %.1f%%, PyTorch %.1f%% (%.4f), max |logit difference| %.3g over %d images",
		got.Torch, 100*accGo, 100*float64(correctPy)/n, got.Acc, maxDiff, n)
	if correctGo != correctPy || math.Abs(got.Acc-accGo) > 1e-6 /* PyTorch's float32 mean */ {
		t.Errorf("accuracy Go %v, PyTorch %v", accGo, got.Acc)
	}
	if maxDiff > 1e-5 {
		t.Errorf("logits differ by up to %g, want <= 1e-5", maxDiff)
	}

	// What PyTorch restored is what was exported.
	cfg := trainer.ConfigOf(c)
	lr := trainer.CosineLR(cfg.LR, cfg.EtaMin, cfg.Epochs, c.GetEpoch())
	if got.LR != lr || got.Momentum != cfg.Momentum || got.Buffers != 10 || got.Scheduler.TMax != cfg.Epochs ||
		got.Scheduler.EtaMin != cfg.EtaMin || got.Scheduler.LastEpoch != c.GetEpoch() || !slices.Equal(got.Scheduler.LastLR, []float64{lr}) {
		t.Errorf("PyTorch restored lr %v momentum %v, %d buffers, scheduler %+v; want lr %v, T_max %d, last_epoch %d",
			got.LR, got.Momentum, got.Buffers, got.Scheduler, lr, cfg.Epochs, c.GetEpoch())
	}
	if !got.SafetensorsEqual {
		t.Error("the safetensors file does not hold the .pt's weights (read with json and numpy)")
	}

	// PyTorch's own save of the resumed state, read back in Go.
	back, err := ptfile.ReadCheckpoint(resaved)
	if err != nil {
		t.Fatal(err)
	}
	if back.StartEpoch != c.GetEpoch() || back.Optimizer.LR != lr || back.Scheduler.TMax != cfg.Epochs {
		t.Errorf("re-saved: start_epoch %d lr %v T_max %d", back.StartEpoch, back.Optimizer.LR, back.Scheduler.TMax)
	}
	for i, p := range c.GetParams() {
		if nt := back.Model[i]; nt.Name != p.GetName() || !bitsEqual(nt.Tensor.Data, p.GetData()) {
			t.Errorf("%s: weights differ after PyTorch's round trip", p.GetName())
		}
		if !bitsEqual(back.Optimizer.MomentumBuffers[i].Data, c.GetOptimizer().GetMomentumBuffer()[i].GetData()) {
			t.Errorf("%s: momentum buffer differs after PyTorch's round trip", p.GetName())
		}
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestExportRefuses: an unknown extension, an existing OUT, a mid-epoch
// checkpoint, more than one input.
func TestExportRefuses(t *testing.T) {
	dir := t.TempDir()
	cfg := trainer.DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LimitTrain, cfg.LimitTest = 1, 16, 64, 32
	cfg.SaveEverySteps, cfg.Keep = 1, 0
	train, test := synth()
	tr, err := trainer.New(dir, cfg, train, test, trainer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	mid, end := filepath.Join(tr.Dir(), "LenetMnist0-step1.ckpt"), filepath.Join(tr.Dir(), "LenetMnist0.ckpt")
	exists := filepath.Join(dir, "x.pt")
	os.WriteFile(exists, nil, 0o644)
	for name, c := range map[string]struct {
		args  []string
		usage bool
		msg   string
	}{
		"extension": {[]string{"--export", filepath.Join(dir, "x.bin"), end}, true, ".pt or .safetensors"},
		"two":       {[]string{"--export", filepath.Join(dir, "y.pt"), end, end}, true, "exactly one"},
		"exists":    {[]string{"--export", exists, end}, false, "exists"},
		"mid-epoch": {[]string{"--export", filepath.Join(dir, "z.pt"), mid}, false, "epoch starts"},
	} {
		var o, e bytes.Buffer
		err := run(context.Background(), c.args, nil, &o, &e)
		if err == nil || errors.As(err, new(usageError)) != c.usage || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if b, _ := os.ReadFile(exists); len(b) != 0 {
		t.Error("an existing file was replaced")
	}
}

func synth() (*mnist.Set, *mnist.Set) { return mnisttest.Synth(128, 1), mnisttest.Synth(64, 2) }
