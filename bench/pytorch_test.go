package bench

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"

	"github.com/tbtrain/tbtrain/model"
)

// python is the interpreter compare.sh uses: Debian's, where python3-torch
// installs torch (not a pyenv python3 that may come first on PATH).
const python = "/usr/bin/python3"

// needTorch skips the test when python cannot import torch, except under
// CI=true, where a missing python3-torch is a failure.
func needTorch(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		msg := python + " cannot import torch (apt-get install -y python3-torch): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// TestPyTorchLeNet runs bench/pytorch_lenet.py, the PyTorch side of
// compare.sh, on a few hundred images: it must build the same network as
// package model (state_dict names and shapes, in order), train the number of
// steps the trainer would (the last partial batch dropped), evaluate every
// test image, and report positive rates with 2 threads.
func TestPyTorchLeNet(t *testing.T) {
	needTorch(t)
	out := t.TempDir() + "/torch.json"
	cmd := exec.Command(python, "pytorch_lenet.py", "--limit-train", "650", "--limit-test", "300",
		"--batch-sizes", "64,32", "--eval-batch-sizes", "16,100", "--eval-passes", "2", "--out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pytorch_lenet.py: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	type rates struct {
		Steps, Images, Correct int
		Runs                   []struct {
			Seconds float64
			CPU     float64 `json:"cpu_s"`
		}
		Median    float64 `json:"img_per_s_median"`
		Best      float64 `json:"img_per_s_best"`
		CPUPerImg float64 `json:"cpu_us_per_img_median"`
	}
	var r struct {
		Machine struct {
			TorchThreads int `json:"torch_threads"`
		}
		Config struct {
			TrainImages int     `json:"train_images"`
			TestImages  int     `json:"test_images"`
			Params      [][]any `json:"params"`
		}
		Train, Eval map[string]rates
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", out, err)
	}

	var got, want []string
	for _, p := range r.Config.Params {
		got = append(got, mustJSON(t, p))
	}
	for _, p := range model.NewLeNet5(rand.New(rand.NewPCG(1, 1))).Params() {
		want = append(want, mustJSON(t, []any{p.Name, p.Shape}))
	}
	if !slices.Equal(got, want) {
		t.Errorf("PyTorch state_dict %v, want package model's %v", got, want)
	}
	if r.Machine.TorchThreads != 2 || r.Config.TrainImages != 650 || r.Config.TestImages != 300 {
		t.Errorf("threads %d, train images %d, test images %d; want 2, 650, 300",
			r.Machine.TorchThreads, r.Config.TrainImages, r.Config.TestImages)
	}
	for _, batch := range []int{64, 32} {
		steps := 650 / batch // the last partial batch is dropped
		tr, ok := r.Train[strconv.Itoa(batch)]
		switch {
		case !ok:
			t.Errorf("no training result at batch %d", batch)
		case tr.Steps != steps || tr.Images != steps*batch || len(tr.Runs) != 1 || tr.Runs[0].CPU <= 0 || tr.Median <= 0:
			t.Errorf("training at batch %d: %+v; want %d steps over %d images, 1 run, positive times and rates", batch, tr, steps, steps*batch)
		}
	}
	for _, batch := range []string{"16", "100"} {
		ev, ok := r.Eval[batch]
		switch {
		case !ok:
			t.Errorf("no evaluation result at batch %s", batch)
		case ev.Images != 300 || ev.Correct < 0 || ev.Correct > 300 || len(ev.Runs) != 2 || ev.Best < ev.Median || ev.Median <= 0:
			t.Errorf("evaluation at batch %s: %+v; want 300 images, 2 passes, best >= median > 0", batch, ev)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
