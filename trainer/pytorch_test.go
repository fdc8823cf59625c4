package trainer_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/mnist/mnisttest"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/ptfile"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/trainer"
)

// ptRun is a real PyTorch 1.13 run of the demo recipe: LenetMnist0-2.pt and
// its event file (epochs 0-2 of T_max 5); see testdata/pytorch-run.
var ptRun = filepath.Join("..", "testdata", "pytorch-run", "run")

// copyRun copies the fixture run into a temp directory (the trainer writes
// into the .pt's directory).
func copyRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "2022-08-15_21-22-40")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(ptRun)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(ptRun, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var (
	ptTrain = mnisttest.Synth(512, 1)
	ptTest  = mnisttest.Synth(256, 2)
)

// resumePT continues the PyTorch run from the .pt file (epochs: 0 = T_max).
func resumePT(t *testing.T, path string, epochs int64) {
	t.Helper()
	pc, err := ptfile.ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	req := trainer.DefaultConfig()
	req.BatchSize, req.Epochs = 16, epochs
	cfg, _, err := trainer.PyTorchConfig(pc, path, req, func(f string) bool { return f == "epochs" && epochs > 0 })
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trainer.ResumePyTorch(path, pc, cfg, ptTrain, ptTest, trainer.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// demoTags are the scalars the PyTorch recipe logs at step = epoch.
var demoTags = []string{"train/loss", "learning_rate", "test/acc", "test/loss"}

// oneCurve checks that under both TensorBoard purge rules every epoch tag of
// the run in dir has the steps 0..last, each exactly once, and that no
// per-step tag mixes another axis in; it returns the Python view.
func oneCurve(t *testing.T, dir string, last int64) map[string][]tbwriter.Point {
	t.Helper()
	run := runOf(t, dir)
	var want []int64
	for s := int64(0); s <= last; s++ {
		want = append(want, s)
	}
	var python map[string][]tbwriter.Point
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		series := run.Series(rule)
		for _, tag := range demoTags {
			var got []int64
			for _, p := range series[tag] {
				got = append(got, p.Step)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%v: %s at steps %v, want %v once each", rule, tag, got, want)
			}
		}
		if _, ok := series["train/loss_step"]; ok {
			t.Errorf("%v: train/loss_step logged in a run on PyTorch's epoch axis", rule)
		}
		for tag, pts := range series {
			for _, p := range pts {
				if p.Step > last {
					t.Errorf("%v: %s at step %d beyond epoch %d", rule, tag, p.Step, last)
				}
			}
		}
		if rule == tbwriter.PythonPurge {
			python = series
		}
	}
	return python
}

// pyValue returns the value PyTorch's own event file holds for tag at step.
func pyValue(t *testing.T, tag string, step int64) float32 {
	t.Helper()
	runs, err := tbwriter.ReadLogdir(ptRun)
	if err != nil || len(runs) != 1 {
		t.Fatal(err)
	}
	for _, p := range runs[0].Series(tbwriter.NoPurge)[tag] {
		if p.Step == step {
			return p.Value.GetSimpleValue()
		}
	}
	t.Fatalf("PyTorch logged no %s at %d", tag, step)
	return 0
}

// TestPyTorchRunOneCurve continues the PyTorch run in its own directory:
// from the newest .pt (epochs 3-4), then from an older one (epochs 1-4:
// PyTorch's epochs 1-2 and the first continuation are replaced), then from
// a tbtrain checkpoint of that continuation with more epochs. After each,
// TensorBoard shows each epoch once under both purge rules, the PyTorch
// epochs before the resume point keep PyTorch's values, the first
// tbtrain epoch logs PyTorch's next learning rate, and the checkpoints
// beside the .pt files keep the epoch axis.
func TestPyTorchRunOneCurve(t *testing.T) {
	dir := copyRun(t)
	resumePT(t, filepath.Join(dir, "LenetMnist2.pt"), 0)
	py := oneCurve(t, dir, 4)
	for _, tag := range demoTags {
		for s := int64(0); s <= 2; s++ {
			if got, want := py[tag][s].Value.GetSimpleValue(), pyValue(t, tag, s); got != want {
				t.Errorf("%s@%d = %v, PyTorch logged %v", tag, s, got, want)
			}
		}
	}
	pc, _ := ptfile.ReadCheckpoint(filepath.Join(ptRun, "LenetMnist2.pt"))
	if got := py["learning_rate"][3].Value.GetSimpleValue(); got != float32(pc.Scheduler.LastLR[0]) {
		t.Errorf("learning_rate@3 = %v, want PyTorch's next rate %v", got, pc.Scheduler.LastLR[0])
	}
	for _, name := range []string{"LenetMnist3.ckpt", "LenetMnist4.ckpt"} {
		c, err := ckpt.Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if c.GetStepConvention() != ckptpb.StepConvention_STEP_CONVENTION_EPOCH || c.GetFirstEpoch() != 3 {
			t.Errorf("%s: convention %v, first epoch %d", name, c.GetStepConvention(), c.GetFirstEpoch())
		}
	}

	// Back to an older PyTorch checkpoint: epochs 1-4 again.
	resumePT(t, filepath.Join(dir, "LenetMnist0.pt"), 0)
	py = oneCurve(t, dir, 4)
	if got, want := py["test/acc"][0].Value.GetSimpleValue(), pyValue(t, "test/acc", 0); got != want {
		t.Errorf("test/acc@0 = %v, PyTorch logged %v", got, want)
	}
	if got, notWant := py["train/loss"][1].Value.GetSimpleValue(), pyValue(t, "train/loss", 1); got == notWant {
		t.Errorf("train/loss@1 is still PyTorch's %v", got)
	}
	abandoned, _ := filepath.Glob(filepath.Join(dir, "*.abandoned*"))
	if len(abandoned) != 2 {
		t.Errorf("set aside %v, want the first continuation's 2 checkpoints", abandoned)
	}

	// A tbtrain checkpoint of the continuation, extended to 7 epochs.
	c, path, _, err := trainer.Locate(dir, "")
	if err != nil || !strings.HasSuffix(path, "LenetMnist4.ckpt") {
		t.Fatalf("Locate: %s %v", path, err)
	}
	req := trainer.ConfigOf(c)
	req.Epochs = 7
	cfg, err := trainer.ResumeConfig(c, path, req, func(f string) bool { return f == "epochs" })
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trainer.Resume(path, c, cfg, ptTrain, ptTest, trainer.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	oneCurve(t, dir, 6)
	if h := tr.History(); len(h) != 6 || h[0].Epoch != 1 {
		t.Errorf("history %+v, want epochs 1-6", h)
	}
}
