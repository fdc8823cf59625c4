package trainer

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/ptfixture"
	"github.com/tbtrain/tbtrain/mnist/mnisttest"
	"github.com/tbtrain/tbtrain/ptfile"
)

// ptFixtures holds a real PyTorch 1.13 run of the demo recipe (see its
// README.md and gen.py); expect.json is what PyTorch read from each file.
var ptFixtures = filepath.Join("..", "testdata", "pytorch-run")

// TestResumePyTorchBits resumes every .pt file of the fixture run: the
// trainer's weights and momentum buffers equal the file's tensors bit for bit
// (as PyTorch read them), --epochs defaults to T_max, the next epoch's
// learning rate is PyTorch's exactly (the scheduler's _last_lr) and the
// epochs after it follow PyTorch's schedule (the rates the real run used).
func TestResumePyTorchBits(t *testing.T) {
	exp := ptfixture.Read(t, ptFixtures)
	req := DefaultConfig()
	req.BatchSize, req.LimitTrain, req.LimitTest = 16, 512, 256
	train, test := mnisttest.Synth(512, 1), mnisttest.Synth(256, 2)
	for rel, want := range exp.Files {
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(ptFixtures, rel)
			pc, err := ptfile.ReadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, warn, err := PyTorchConfig(pc, path, req, nil)
			if err != nil || len(warn) != 0 {
				t.Fatalf("config: %v, warnings %q", err, warn)
			}
			if cfg.Epochs != want.TMax || cfg.BatchSize != 16 {
				t.Errorf("epochs %d batch %d, want T_max %d and --batch-size 16", cfg.Epochs, cfg.BatchSize, want.TMax)
			}
			tr, err := ResumePyTorch(path, pc, cfg, train, test, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if e, step, b := tr.Position(); e != want.StartEpoch || b != 0 || step != e*32 {
				t.Errorf("position epoch %d batch %d step %d, want epoch %d", e, b, step, want.StartEpoch)
			}
			if !tr.opt.HasBuffers() {
				t.Fatal("no momentum buffers")
			}
			for i, p := range tr.params {
				if got := ptfixture.SHA(p.Data); got != want.Weights[p.Name] {
					t.Errorf("%s: weights differ from the file's", p.Name)
				}
				if got := ptfixture.SHA(tr.opt.Buffers()[i]); got != want.MomentumBuffers[p.Name] {
					t.Errorf("%s: momentum buffer differs from the file's", p.Name)
				}
			}
			e0 := want.StartEpoch
			if e0 >= cfg.Epochs {
				if !tr.Done() {
					t.Error("a run at T_max is not done")
				}
				return
			}
			if got := tr.lr(e0); got != want.LastLR[0] || got != exp.EpochLR[e0] {
				t.Errorf("lr of epoch %d = %v, PyTorch's _last_lr %v (used: %v)", e0, got, want.LastLR[0], exp.EpochLR[e0])
			}
			for e := e0 + 1; e < cfg.Epochs; e++ {
				got, w := tr.lr(e), exp.EpochLR[e]
				if math.Abs(got-w) > 4*ulp(w) {
					t.Errorf("lr of epoch %d = %v, PyTorch used %v", e, got, w)
				} else if got != w {
					t.Logf("lr of epoch %d = %v, PyTorch used %v (%.0f ulp)", e, got, w, math.Abs(got-w)/ulp(w))
				}
			}
		})
	}
}

func ulp(x float64) float64 { return math.Nextafter(x, math.Inf(1)) - x }

// TestPyTorchConfigRefuses: options the SGD does not implement, and flags
// that contradict the file.
func TestPyTorchConfigRefuses(t *testing.T) {
	path := filepath.Join(ptFixtures, "run", "LenetMnist1.pt")
	req := DefaultConfig()
	for name, change := range map[string]func(*ptfile.Checkpoint){
		"weight_decay": func(c *ptfile.Checkpoint) { c.Optimizer.WeightDecay = 1e-4 },
		"nesterov":     func(c *ptfile.Checkpoint) { c.Optimizer.Nesterov = true },
		"dampening":    func(c *ptfile.Checkpoint) { c.Optimizer.Dampening = 0.1 },
	} {
		pc, err := ptfile.ReadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		change(pc)
		if _, _, err := PyTorchConfig(pc, path, req, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	pc, _ := ptfile.ReadCheckpoint(path)
	req.LR = 0.1
	if _, _, err := PyTorchConfig(pc, path, req, func(f string) bool { return f == "lr" }); err == nil {
		t.Error("--lr 0.1 against the file's 0.01 accepted")
	}
	// Missing optimizer and scheduler: warnings and the flags' values.
	pc.Optimizer, pc.Scheduler = nil, nil
	cfg, warn, err := PyTorchConfig(pc, path, DefaultConfig(), nil)
	if err != nil || len(warn) != 2 || cfg.Epochs != DefaultConfig().Epochs || cfg.LR != DefaultConfig().LR {
		t.Errorf("without optimizer and scheduler: %+v %q %v", cfg, warn, err)
	}
	pc.Model = pc.Model[1:]
	pc.Model[0].Tensor.Shape = []int{7}
	cfg.BatchSize, cfg.LimitTrain = 16, 512
	_, err = ResumePyTorch(path, pc, cfg, mnisttest.Synth(512, 1), mnisttest.Synth(64, 2), Options{})
	var me *ptfile.MismatchError
	if !errorsAs(err, &me) || len(me.Missing) != 1 || len(me.Shape) != 1 {
		t.Errorf("a different architecture: %v", err)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestResumePyTorchDTypes resumes the demo checkpoint saved in float64,
// float16 and bfloat16 (testdata/pytorch-run/dtypes.py): the trainer's
// float32 weights and momentum buffers equal, bit for bit, what a float32
// LeNet-5 and its SGD hold after PyTorch's own load_state_dict calls of the
// same file (float64 rounded to nearest, the others exact). A weight saved
// as int64 is refused with the file, the tensor and its dtype named.
func TestResumePyTorchDTypes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(ptFixtures, "dtypes", "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]json.RawMessage
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	req := DefaultConfig()
	req.BatchSize = 16
	train, test := mnisttest.Synth(64, 1), mnisttest.Synth(64, 2)
	for _, name := range []string{"float64.pt", "float16.pt", "bfloat16.pt"} {
		t.Run(name, func(t *testing.T) {
			var want struct {
				Model          map[string]string `json:"model"`
				MomentumBuffer map[string]string `json:"momentum_buffer"`
			}
			if err := json.Unmarshal(exp[name], &want); err != nil || len(want.Model) != 10 {
				t.Fatalf("expect.json %s: %v", name, err)
			}
			path := filepath.Join(ptFixtures, "dtypes", name)
			pc, err := ptfile.ReadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			if dt := pc.Model[0].Tensor.DType; dt+".pt" != name {
				t.Errorf("DType %q, want the file's", dt)
			}
			cfg, _, err := PyTorchConfig(pc, path, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := ResumePyTorch(path, pc, cfg, train, test, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range tr.params {
				if ptfixture.SHA(p.Data) != want.Model[p.Name] {
					t.Errorf("%s: weights differ from PyTorch's float32 load", p.Name)
				}
				if ptfixture.SHA(tr.opt.Buffers()[i]) != want.MomentumBuffer[p.Name] {
					t.Errorf("%s: momentum buffer differs from PyTorch's float32 load", p.Name)
				}
			}
		})
	}
	path := filepath.Join(ptFixtures, "dtypes", "int64.pt")
	pc, err := ptfile.ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := PyTorchConfig(pc, path, req, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	_, err = ResumePyTorch(path, pc, cfg, train, test, Options{})
	var me *ptfile.MismatchError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), path) ||
		!strings.Contains(err.Error(), "lineNet.5.bias: file int64, model float32") {
		t.Errorf("int64 weight: err = %v, want a MismatchError naming the file, the tensor and its dtype", err)
	}
}

// TestPyTorchEpochsFlag: --epochs given on a .pt resume becomes T_max and
// the schedule continues as PyTorch's own CosineAnnealingLR does when its
// T_max is changed after load_state_dict: the next epoch keeps the file's
// rate, later ones follow the recursive update with the new T_max (ending
// at eta_min at epoch T_max). The reference rates come from torch 1.13:
//
//	ck = torch.load("testdata/pytorch-run/run/LenetMnist2.pt")
//	opt = SGD(LeNet5().parameters(), lr=0.01, momentum=0.9)
//	sched = CosineAnnealingLR(opt, T_max=5, eta_min=1e-4)
//	opt.load_state_dict(ck["Optimizer_state_dict"]); sched.load_state_dict(ck["scheduler_state_dict"])
//	sched.T_max = 7
//	for e in 3..6: record opt.param_groups[0]["lr"]; sched.step()
func TestPyTorchEpochsFlag(t *testing.T) {
	path := filepath.Join(ptFixtures, "run", "LenetMnist2.pt")
	pc, err := ptfile.ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	req := DefaultConfig()
	req.BatchSize, req.Epochs = 16, 7
	cfg, _, err := PyTorchConfig(pc, path, req, func(f string) bool { return f == "epochs" })
	if err != nil || cfg.Epochs != 7 {
		t.Fatalf("config epochs %d: %v", cfg.Epochs, err)
	}
	tr, err := ResumePyTorch(path, pc, cfg, mnisttest.Synth(64, 1), mnisttest.Synth(64, 2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0.0035203658778440107, 0.0022752289015027034, 0.001153399249545034, 0.00037706904287900943} {
		e := int64(3 + i)
		if got := tr.lr(e); math.Abs(got-want) > 4*ulp(want) || (i == 0 && got != want) {
			t.Errorf("lr of epoch %d = %v, PyTorch with T_max 7: %v", e, got, want)
		}
	}
	if got := tr.lr(7); got != cfg.EtaMin && math.Abs(got-cfg.EtaMin) > 4*ulp(cfg.EtaMin) {
		t.Errorf("lr at T_max = %v, want eta_min %v", got, cfg.EtaMin)
	}
}
