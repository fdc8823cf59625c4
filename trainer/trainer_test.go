package trainer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/mnist/mnisttest"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/tbwriter/tbtest"
	"github.com/tbtrain/tbtrain/trainer"
)

// smallConfig trains 2 epochs of 12 batches of 16 synthetic images.
func smallConfig() trainer.Config {
	c := trainer.DefaultConfig()
	c.Epochs = 2
	c.BatchSize = 16
	c.LR = 0.05
	c.LimitTrain = 200 // 12 full batches; the last 8 images are dropped
	c.LimitTest = 100
	c.Keep = 0
	return c
}

var (
	trainSet = mnisttest.Synth(256, 1)
	testSet  = mnisttest.Synth(128, 2)
)

// fixedClock returns a clock that starts at a fixed time and advances by a
// second per call, so run directory names are predictable.
func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 29, 12, 0, 0, 0, time.Local)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// stopAfter returns Options whose Step hook cancels the run's context after
// global step k (k <= 0: never).
func stopAfter(k int64, cancel context.CancelFunc) trainer.Options {
	return trainer.Options{
		Now: fixedClock(),
		Step: func(s trainer.StepInfo) {
			if s.Step == k {
				cancel()
			}
		},
	}
}

// runFresh trains a new run under logdir, stopping after step stop (0: run
// to the end), and returns the run directory and Run's error.
func runFresh(t *testing.T, logdir string, cfg trainer.Config, stop int64) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr, err := trainer.New(logdir, cfg, trainSet, testSet, stopAfter(stop, cancel))
	if err != nil {
		t.Fatal(err)
	}
	return tr.Dir(), tr.Run(ctx)
}

// stoppedAt trains a new run under logdir, stops it after step stop (which
// must come before the run's end) and returns the run directory; it fails t
// unless Run stopped with ErrInterrupted.
func stoppedAt(t *testing.T, logdir string, cfg trainer.Config, stop int64) string {
	t.Helper()
	dir, err := runFresh(t, logdir, cfg, stop)
	if !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatal(err)
	}
	return dir
}

// resume continues from target (a file, directory or "latest"), stopping
// after step stop (0: to the end).
func resume(t *testing.T, target, logdir string, req trainer.Config, set func(string) bool, stop int64) error {
	t.Helper()
	c, path, _, err := trainer.Locate(target, logdir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := trainer.ResumeConfig(c, path, req, set)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr, err := trainer.Resume(path, c, cfg, trainSet, testSet, stopAfter(stop, cancel))
	if err != nil {
		t.Fatal(err)
	}
	return tr.Run(ctx)
}

// logged returns every logged point of the run in dir under rule, keyed by
// tag, as (step, value) pairs with the wall time dropped.
type point struct {
	Step  int64
	Value proto.Message
}

// The tags of the run's hparams session directories (the only other runs
// allowed under dir) are included as "<session dir>/<tag>".
func logged(t *testing.T, dir string, rule tbwriter.PurgeRule) map[string][]point {
	t.Helper()
	runs, err := tbwriter.ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]point{}
	main := false
	for _, r := range runs {
		if r.Err != nil {
			t.Fatalf("event files of %s/%s: %v", dir, r.Name, r.Err)
		}
		prefix := ""
		switch {
		case r.Name == ".":
			main = true
		case strings.HasPrefix(r.Name, trainer.HParamsRunPrefix) && !strings.Contains(r.Name, "/"):
			prefix = r.Name + "/"
		default:
			t.Fatalf("ReadLogdir(%s): unexpected run %s", dir, r.Name)
		}
		for tag, pts := range r.Series(rule) {
			for _, p := range pts {
				out[prefix+tag] = append(out[prefix+tag], point{p.Step, tbtest.Comparable(p.Value)})
			}
		}
	}
	if !main {
		t.Fatalf("ReadLogdir(%s): no events in the run directory itself", dir)
	}
	return out
}

// runOf returns the run of ReadLogdir(dir) for dir itself (not its hparams
// session directories).
func runOf(t *testing.T, dir string) *tbwriter.Run {
	t.Helper()
	runs, err := tbwriter.ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range runs {
		if runs[i].Name == "." {
			if runs[i].Err != nil {
				t.Fatalf("event files of %s: %v", dir, runs[i].Err)
			}
			return runs[i]
		}
	}
	t.Fatalf("ReadLogdir(%s): no events in the run directory itself", dir)
	return nil
}

// compareLogs fails unless got and want hold the same tags, steps and values.
func compareLogs(t *testing.T, got, want map[string][]point) {
	t.Helper()
	if diff := cmp.Diff(slices.Sorted(mapKeys(want)), slices.Sorted(mapKeys(got))); diff != "" {
		t.Errorf("tags differ (-straight +resumed):\n%s", diff)
	}
	for tag, w := range want {
		g := got[tag]
		if len(g) != len(w) {
			t.Errorf("tag %s: %d points, straight run %d (steps %v vs %v)", tag, len(g), len(w), steps(g), steps(w))
			continue
		}
		for i := range w {
			if g[i].Step != w[i].Step || !proto.Equal(g[i].Value, w[i].Value) {
				t.Errorf("tag %s point %d: step %d value %v, straight run step %d value %v",
					tag, i, g[i].Step, g[i].Value, w[i].Step, w[i].Value)
				break
			}
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func steps(p []point) []int64 {
	s := make([]int64, len(p))
	for i := range p {
		s[i] = p[i].Step
	}
	return s
}

// TestResumeBitExact is the project's determinism promise, in one
// process: for stops at several steps (inside an epoch, at its last step, at
// a step that is a periodic checkpoint) training k steps, stopping and
// resuming gives the same weights and the same logged values, bit for bit,
// as training straight through.
func TestResumeBitExact(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	straight, err := runFresh(t, t.TempDir(), cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantParams := ckpttest.FinalParams(t, straight)
	wantLogs := map[tbwriter.PurgeRule]map[string][]point{}
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		wantLogs[rule] = logged(t, straight, rule)
	}
	wantProjector := projectorFiles(t, straight)
	if len(wantProjector) != 4 {
		t.Fatalf("straight run wrote projector files %v, want the config, tensors, metadata and sprite", slices.Sorted(maps.Keys(wantProjector)))
	}
	wantGraph := graphsOf(t, straight)
	// The straight run logged every step once.
	if got := steps(wantLogs[tbwriter.PythonPurge]["train/loss_step"]); len(got) != 24 || got[0] != 1 || got[23] != 24 {
		t.Fatalf("straight run logged train/loss_step at steps %v, want 1..24", got)
	}

	// The thread count changes no result: a straight run on one thread.
	t.Run("GOMAXPROCS=1", func(t *testing.T) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		dir, err := runFresh(t, t.TempDir(), cfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		ckpttest.Same(t, "params", ckpttest.FinalParams(t, dir), wantParams)
	})

	for _, stops := range [][]int64{{1}, {7}, {11}, {12}, {13}, {10, 20}, {3, 4, 23}} {
		t.Run(fmt.Sprint(stops), func(t *testing.T) {
			logdir := t.TempDir()
			dir, err := runFresh(t, logdir, cfg, stops[0])
			var ie *trainer.InterruptedError
			if !errors.As(err, &ie) || !errors.Is(err, trainer.ErrInterrupted) {
				t.Fatalf("Run cancelled after step %d: %v, want an *InterruptedError", stops[0], err)
			}
			if ie.Step != stops[0] || filepath.Dir(ie.Checkpoint) != dir {
				t.Fatalf("interrupted at step %d in %s, want step %d in %s", ie.Step, ie.Checkpoint, stops[0], dir)
			}
			for i := 1; i <= len(stops); i++ {
				var next int64
				if i < len(stops) {
					next = stops[i]
				}
				// Alternate the ways of naming the checkpoint.
				target := []string{ie.Checkpoint, dir, trainer.Latest}[i%3]
				err = resume(t, target, logdir, trainer.Config{}, nil, next)
				if next == 0 && err != nil {
					t.Fatalf("resume %d: %v", i, err)
				}
				if next != 0 && !errors.As(err, &ie) {
					t.Fatalf("resume %d stopped after step %d: %v", i, next, err)
				}
			}
			ckpttest.Same(t, "params", ckpttest.FinalParams(t, dir), wantParams)
			for rule, want := range wantLogs {
				compareLogs(t, logged(t, dir, rule), want)
			}
			sameProjector(t, projectorFiles(t, dir), wantProjector)
			sameGraphs(t, graphsOf(t, dir), wantGraph)
		})
	}
}

// sameProjector fails unless two runs' projector files are byte for byte
// the same.
func sameProjector(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Errorf("projector files %v, straight run %v", g, w)
		return
	}
	for name, w := range want {
		if !bytes.Equal(got[name], w) {
			t.Errorf("projector file %s differs from the straight run's", name)
		}
	}
}

// sameGraphs fails unless every graph event of a run is at step 0 and holds
// the straight run's only graph: whichever one a TensorBoard loader keeps
// (the Python one the last read, the Rust one the last at step 0), it is
// that graph.
func sameGraphs(t *testing.T, got, want []*tbpb.Event) {
	t.Helper()
	if len(want) != 1 {
		t.Fatalf("straight run has %d graph events, want 1", len(want))
	}
	if len(got) == 0 {
		t.Error("no graph event")
	}
	// Compare the decoded graphs: the serialized bytes of a map field
	// (node attributes) need not be in the same order twice.
	w, _ := tbwriter.GraphOf(want[0])
	for _, ev := range got {
		if g, ok := tbwriter.GraphOf(ev); !ok || ev.GetStep() != 0 || !proto.Equal(g, w) {
			t.Errorf("graph event at step %d differs from the straight run's", ev.GetStep())
		}
	}
}

// TestEveryStepOnce checks the one-curve contract: after stops and resumes,
// every tag has each of its steps exactly once, in order, under both purge
// rules, and the per-step loss covers 1..N with no gap.
func TestEveryStepOnce(t *testing.T) {
	cfg := smallConfig()
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 5)
	if err := resume(t, dir, logdir, trainer.Config{}, nil, 12); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatal(err)
	}
	if err := resume(t, trainer.Latest, logdir, trainer.Config{}, nil, 0); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if len(files) != 3 {
		t.Errorf("%d event files in %s, want 3 (one per session)", len(files), dir)
	}
	if gs := graphsOf(t, dir); len(gs) != 1 || gs[0].GetStep() != 0 {
		t.Errorf("%d graph events, want 1 at step 0 (by the session that started at 0)", len(gs))
	}
	epochEnds := []int64{12, 24}
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		logs := logged(t, dir, rule)
		for _, tag := range []string{"train/loss", "learning_rate", "test/acc", "test/loss", "epoch",
			"weights/convModel.0.weight", "weights/lineNet.5.bias", "test/misclassified", "test/misclassified_labels",
			"test/confusion", "test/confusion_table"} {
			if got := steps(logs[tag]); !slices.Equal(got, epochEnds) {
				t.Errorf("rule %v: tag %s at steps %v, want %v", rule, tag, got, epochEnds)
			}
		}
		var want []int64
		for s := int64(1); s <= 24; s++ {
			want = append(want, s)
		}
		if got := steps(logs["train/loss_step"]); !slices.Equal(got, want) {
			t.Errorf("rule %v: train/loss_step at steps %v, want 1..24", rule, got)
		}
		for d := range 10 {
			tag := fmt.Sprintf("pr/%d", d)
			if got := steps(logs[tag]); !slices.Equal(got, epochEnds) {
				t.Errorf("rule %v: tag %s at steps %v, want %v", rule, tag, got, epochEnds)
			}
		}
		hp := trainer.HParamsRunPrefix + "2/"
		for tag, want := range map[string][]int64{
			tbwriter.CustomScalarsTag:           {0},
			"config":                            {0},
			hp + "_hparams_/experiment":         {0},
			hp + "_hparams_/session_start_info": {0},
			hp + "_hparams_/session_end_info":   {24}, // written once, after the run's last commit
			hp + "test/acc":                     {24},
			hp + "test/loss":                    {24},
			hp + "train/loss":                   {24},
		} {
			if got := steps(logs[tag]); !slices.Equal(got, want) {
				t.Errorf("rule %v: %s at steps %v, want %v", rule, tag, got, want)
			}
		}
	}
}

// TestTrainingLearns checks that the loop trains: the synthetic classes are
// separable, so two epochs must beat chance by far.
func TestTrainingLearns(t *testing.T) {
	cfg := smallConfig()
	cfg.Epochs = 4
	cfg.LR = 0.1
	ctx := context.Background()
	tr, err := trainer.New(t.TempDir(), cfg, trainSet, testSet, trainer.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	h := tr.History()
	if len(h) != 4 {
		t.Fatalf("history of %d epochs, want 4", len(h))
	}
	for i, e := range h {
		t.Logf("epoch %d: train loss %.4f, test loss %.4f, test acc %.3f", i, e.TrainLoss, e.TestLoss, e.TestAcc)
		if want := trainer.CosineLR(cfg.LR, cfg.EtaMin, 4, int64(i)); e.LR != want || e.Step != int64(12*(i+1)) {
			t.Errorf("epoch %d: lr %v at step %d, want %v at step %d", i, e.LR, e.Step, want, 12*(i+1))
		}
	}
	if last := h[3]; last.TestAcc < 0.9 || last.TrainLoss >= h[0].TrainLoss/2 {
		t.Errorf("after 4 epochs: test acc %.3f (want >= 0.9), train loss %.4f after %.4f (want halved)",
			last.TestAcc, last.TrainLoss, h[0].TrainLoss)
	}
	if !tr.Done() {
		t.Error("Done() false after the last epoch")
	}
}

// TestRunDirectories checks that a new run never reuses a directory.
func TestRunDirectories(t *testing.T) {
	logdir := t.TempDir()
	now := time.Date(2026, 11, 29, 12, 34, 56, 0, time.Local)
	opts := trainer.Options{Now: func() time.Time { return now }}
	var dirs []string
	for range 3 {
		tr, err := trainer.New(logdir, smallConfig(), trainSet, testSet, opts)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, filepath.Base(tr.Dir()))
	}
	want := []string{"2026-11-29_12-34-56", "2026-11-29_12-34-56-2", "2026-11-29_12-34-56-3"}
	if diff := cmp.Diff(want, dirs); diff != "" {
		t.Errorf("run directories (-want +got):\n%s", diff)
	}
}

func TestResumeConfig(t *testing.T) {
	cfg := smallConfig()
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 3)
	c, path, _, err := trainer.Locate(dir, logdir)
	if err != nil {
		t.Fatal(err)
	}
	only := func(flags ...string) func(string) bool {
		return func(f string) bool { return slices.Contains(flags, f) }
	}
	req := cfg
	req.BatchSize, req.LR, req.Seed, req.Momentum, req.EtaMin, req.LimitTrain = 32, 0.1, 9, 0.5, 0.001, 100
	for _, flag := range []string{"batch-size", "lr", "seed", "momentum", "eta-min", "limit-train"} {
		_, err := trainer.ResumeConfig(c, path, req, only(flag))
		var ce *trainer.ConflictError
		if !errors.As(err, &ce) || ce.Flag != flag || ce.Checkpoint == ce.Requested {
			t.Errorf("--%s changed on resume: %v, want a ConflictError naming it", flag, err)
			continue
		}
		if !strings.Contains(err.Error(), "--"+flag) || !strings.Contains(err.Error(), path) {
			t.Errorf("--%s: message %q does not name the flag and the checkpoint", flag, err)
		}
	}
	// The same values as the checkpoint's are no conflict.
	if _, err := trainer.ResumeConfig(c, path, cfg, only("batch-size", "lr", "seed")); err != nil {
		t.Errorf("unchanged fixed flags: %v", err)
	}
	// Flags not given keep the checkpoint's values, whatever req holds.
	got, err := trainer.ResumeConfig(c, path, req, nil)
	if err != nil || got != cfg {
		t.Errorf("ResumeConfig with no flags = %+v, %v; want the checkpoint's %+v", got, err, cfg)
	}
	// Harmless flags change.
	req2 := cfg
	req2.Epochs, req2.Keep, req2.SaveEverySteps, req2.LimitTest, req2.Data, req2.Embed = 5, 2, 7, 50, "/elsewhere", 3
	got, err = trainer.ResumeConfig(c, path, req2, only("epochs", "keep", "save-every-steps", "limit-test", "data", "embed"))
	if err != nil || got != req2 {
		t.Errorf("ResumeConfig changing harmless flags = %+v, %v; want %+v", got, err, req2)
	}
}

// TestEpochsNotBeforeStartedEpoch checks that --epochs on resume may not end
// the run before the epoch a mid-epoch checkpoint is in: that would drop
// the steps trained in it and call the run finished.
func TestEpochsNotBeforeStartedEpoch(t *testing.T) {
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, smallConfig(), 15) // 12 batches per epoch: epoch 1, batch 3
	c, path, _, err := trainer.Locate(dir, logdir)
	if err != nil {
		t.Fatal(err)
	}
	if c.GetEpoch() != 1 || c.GetBatchInEpoch() != 3 {
		t.Fatalf("checkpoint at epoch %d, batch %d; want epoch 1, batch 3", c.GetEpoch(), c.GetBatchInEpoch())
	}
	epochs := func(f string) bool { return f == "epochs" }
	_, err = trainer.ResumeConfig(c, path, trainer.Config{Epochs: 1}, epochs)
	if err == nil || !strings.Contains(err.Error(), "--epochs 2 or more") || !strings.Contains(err.Error(), path) {
		t.Errorf("--epochs 1 in the middle of epoch 1: %v, want an error naming %s and asking for --epochs 2 or more", err, path)
	}
	if got, err := trainer.ResumeConfig(c, path, trainer.Config{Epochs: 2}, epochs); err != nil || got.Epochs != 2 {
		t.Errorf("--epochs 2 in the middle of epoch 1: epochs %d, %v; want 2, nil", got.Epochs, err)
	}
}

// TestExtendEpochs resumes a finished run with a larger --epochs.
func TestExtendEpochs(t *testing.T) {
	cfg := smallConfig()
	logdir := t.TempDir()
	dir, err := runFresh(t, logdir, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, path, _, err := trainer.Locate(trainer.Latest, logdir)
	if err != nil {
		t.Fatal(err)
	}
	if c.GetEpoch() != 2 || filepath.Base(path) != "LenetMnist1.ckpt" {
		t.Fatalf("newest checkpoint %s at epoch %d, want LenetMnist1.ckpt at epoch 2", path, c.GetEpoch())
	}
	// Without --epochs there is nothing left to do.
	same, err := trainer.ResumeConfig(c, path, trainer.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trainer.Resume(path, c, same, trainSet, testSet, trainer.Options{})
	if err != nil || !tr.Done() {
		t.Fatalf("resume of a finished run: done=%v, %v", tr != nil && tr.Done(), err)
	}
	// --epochs below the completed count is an error.
	req := cfg
	req.Epochs = 1
	if _, err := trainer.ResumeConfig(c, path, req, func(f string) bool { return f == "epochs" }); err == nil {
		t.Error("--epochs 1 after 2 completed epochs: no error")
	}
	req.Epochs = 3
	ext, err := trainer.ResumeConfig(c, path, req, func(f string) bool { return f == "epochs" })
	if err != nil {
		t.Fatal(err)
	}
	tr, err = trainer.Resume(path, c, ext, trainSet, testSet, trainer.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := tr.History()
	if len(h) != 3 || h[2].Step != 36 {
		t.Fatalf("extended run history %+v, want 3 epochs ending at step 36", h)
	}
	// Epoch 2 of 3 uses T_max 3.
	if want := trainer.CosineLR(cfg.LR, cfg.EtaMin, 3, 2); h[2].LR != want {
		t.Errorf("lr of the added epoch = %v, want CosineLR(T_max 3, epoch 2) = %v", h[2].LR, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "LenetMnist2.ckpt")); err != nil {
		t.Error(err)
	}
	// The projector keeps the entry of the run's first end (step 24) and
	// adds one for the new end (step 36).
	pc, err := tbwriter.ReadProjectorConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range pc.GetEmbeddings() {
		names = append(names, e.GetTensorName())
	}
	if want := []string{tbwriter.EmbeddingTensorName("penultimate", 24), tbwriter.EmbeddingTensorName("penultimate", 36)}; !slices.Equal(names, want) {
		t.Errorf("projector entries %v after extending the run, want %v", names, want)
	}
}

// TestCorruptCheckpoints covers the checkpoint failures --resume must
// handle: a named file that is truncated, has a flipped byte, holds another model's shapes,
// is not a checkpoint, or is missing is a clear error; when the choice is
// automatic (a directory or "latest") a bad newest checkpoint is skipped
// with a warning and the previous one is used.
func TestCorruptCheckpoints(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 4
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 10)
	list, err := ckpt.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, filepath.Base(e.Path))
	}
	want := []string{"LenetMnist0-step0.ckpt", "LenetMnist0-step4.ckpt", "LenetMnist0-step8.ckpt", "LenetMnist0-step10.ckpt"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("checkpoints (-want +got):\n%s", diff)
	}
	newest := filepath.Join(dir, "LenetMnist0-step10.ckpt")
	good, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	damage := []struct {
		name  string
		write func(path string)
		want  error
	}{
		{"truncated", func(p string) { os.WriteFile(p, good[:len(good)/2], 0o644) }, ckpt.ErrTruncated},
		{"flipped byte", func(p string) {
			b := slices.Clone(good)
			b[len(b)/2] ^= 0x10
			os.WriteFile(p, b, 0o644)
		}, ckpt.ErrCorrupt},
		{"not a checkpoint", func(p string) { os.WriteFile(p, []byte("PK\x03\x04 a zip file, say"), 0o644) }, ckpt.ErrNotCheckpoint},
		{"missing", func(p string) { os.Remove(p) }, os.ErrNotExist},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			defer os.WriteFile(newest, good, 0o644)
			d.write(newest)
			_, _, _, err := trainer.Locate(newest, logdir)
			if !errors.Is(err, d.want) || !strings.Contains(err.Error(), newest) {
				t.Errorf("Locate(explicit %s file) = %v, want an error wrapping %v naming the file", d.name, err, d.want)
			}
			for _, target := range []string{dir, trainer.Latest} {
				c, path, skipped, err := trainer.Locate(target, logdir)
				if err != nil {
					t.Fatalf("Locate(%s) with a %s newest checkpoint: %v", target, d.name, err)
				}
				if filepath.Base(path) != "LenetMnist0-step8.ckpt" || c.GetGlobalStep() != 8 {
					t.Errorf("Locate(%s) fell back to %s (step %d), want LenetMnist0-step8.ckpt", target, path, c.GetGlobalStep())
				}
				if d.name != "missing" && len(skipped) != 1 {
					t.Errorf("Locate(%s): skipped %v, want the %s checkpoint reported", target, skipped, d.name)
				}
			}
		})
	}

	t.Run("wrong model shapes", func(t *testing.T) {
		bad := filepath.Join(dir, "LenetMnist0-step11.ckpt")
		editCheckpoint(t, newest, bad, func(c *ckptpb.Checkpoint) {
			c.Params[4].Shape = []int64{100, 400}
			c.Params[4].Data = c.Params[4].Data[:40000]
			c.Optimizer.MomentumBuffer[4].Shape = []int64{100, 400}
			c.Optimizer.MomentumBuffer[4].Data = c.Optimizer.MomentumBuffer[4].Data[:40000]
		})
		defer os.Remove(bad)
		c2, path, _, err := trainer.Locate(bad, logdir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = trainer.Resume(path, c2, trainer.ConfigOf(c2), trainSet, testSet, trainer.Options{})
		if !errors.Is(err, ckpt.ErrModel) || !strings.Contains(err.Error(), "lineNet.1.weight") || !strings.Contains(err.Error(), bad) {
			t.Errorf("Resume with a [100 400] lineNet.1.weight: %v, want an error naming the tensor and the file", err)
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		empty := filepath.Join(logdir, "empty")
		os.Mkdir(empty, 0o755)
		if _, _, _, err := trainer.Locate(empty, logdir); !errors.Is(err, ckpt.ErrNoCheckpoint) {
			t.Errorf("Locate(empty dir) = %v, want ErrNoCheckpoint", err)
		}
		if _, _, _, err := trainer.Locate(trainer.Latest, filepath.Join(logdir, "nothing")); err == nil {
			t.Error("Locate(latest) under a missing logdir: no error")
		}
	})
}

// TestKeep checks retention: with --keep 2 only the two newest checkpoints
// remain (checkpoints at steps 5, 10, 12 (epoch 0), 15, 20, 24 (epoch 1)).
func TestKeep(t *testing.T) {
	cfg := smallConfig()
	cfg.Keep = 2
	cfg.SaveEverySteps = 5
	dir, err := runFresh(t, t.TempDir(), cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ckpt.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, filepath.Base(e.Path))
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"LenetMnist1-step20.ckpt", "LenetMnist1.ckpt"}, names); diff != "" {
		t.Errorf("kept checkpoints (-want +got):\n%s", diff)
	}
}

// TestLatestAcrossRuns checks that "latest" picks the run whose newest valid
// checkpoint was committed last, and skips a run with none.
func TestLatestAcrossRuns(t *testing.T) {
	logdir := t.TempDir()
	var dirs []string
	for i, stop := range []int64{7, 3} { // the later run has fewer steps
		base := time.Date(2026, 11, 29, 10+i, 0, 0, 0, time.Local)
		ctx, cancel := context.WithCancel(context.Background())
		opts := trainer.Options{
			Now: func() time.Time { base = base.Add(time.Second); return base },
			Step: func(s trainer.StepInfo) {
				if s.Step == stop {
					cancel()
				}
			},
		}
		tr, err := trainer.New(logdir, smallConfig(), trainSet, testSet, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Run(ctx); !errors.Is(err, trainer.ErrInterrupted) {
			t.Fatal(err)
		}
		cancel()
		dirs = append(dirs, tr.Dir())
	}
	_, path, _, err := trainer.Locate(trainer.Latest, logdir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dirs[1], "LenetMnist0-step3.ckpt"); path != want {
		t.Errorf("latest = %s, want %s (the run committed last)", path, want)
	}
	// Damage every checkpoint of the later run: latest falls back to the other run.
	list, _ := filepath.Glob(filepath.Join(dirs[1], "*.ckpt"))
	for _, p := range list {
		if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, path, skipped, err := trainer.Locate(trainer.Latest, logdir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dirs[0], "LenetMnist0-step7.ckpt"); path != want || len(skipped) != len(list) {
		t.Errorf("latest with the newer run damaged = %s (skipped %d), want %s (skipped %d)", path, len(skipped), want, len(list))
	}
}

// TestLatestFollowsLinkedRun checks that "latest" sees a run directory that
// is a symbolic link under the log directory, as TensorBoard does.
func TestLatestFollowsLinkedRun(t *testing.T) {
	elsewhere := t.TempDir()
	dir := stoppedAt(t, elsewhere, smallConfig(), 3)
	logdir := t.TempDir()
	link := filepath.Join(logdir, "linked-run")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	// A dangling link and a link to a file are not runs.
	if err := os.Symlink(filepath.Join(elsewhere, "gone"), filepath.Join(logdir, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "LenetMnist0-step3.ckpt"), filepath.Join(logdir, "file-link")); err != nil {
		t.Fatal(err)
	}
	_, path, _, err := trainer.Locate(trainer.Latest, logdir)
	if want := filepath.Join(link, "LenetMnist0-step3.ckpt"); err != nil || path != want {
		t.Errorf("Locate(latest) with a linked run: %s, %v; want %s", path, err, want)
	}
}

// TestResumeOlderCheckpoint resumes a run from a checkpoint older than its
// newest: the newer ones belong to the abandoned timeline and are set aside,
// so a later --resume DIR continues the new timeline, not the old one.
func TestResumeOlderCheckpoint(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 20) // checkpoints at 0, 5, 10, 12 (epoch 0), 15, 20
	older := filepath.Join(dir, "LenetMnist0-step10.ckpt")
	c, path, _, err := trainer.Locate(older, logdir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var aside []string
	opts := stopAfter(11, cancel)
	opts.SetAside = func(from, to string) {
		if to != from+trainer.AbandonedSuffix {
			t.Errorf("set aside %s as %s", from, to)
		}
		aside = append(aside, filepath.Base(from))
	}
	tr, err := trainer.Resume(path, c, trainer.ConfigOf(c), trainSet, testSet, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(ctx); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatal(err)
	}
	slices.Sort(aside)
	if want := []string{"LenetMnist0.ckpt", "LenetMnist1-step15.ckpt", "LenetMnist1-step20.ckpt"}; !slices.Equal(aside, want) {
		t.Errorf("set aside %v, want %v", aside, want)
	}
	_, path, _, err = trainer.Locate(dir, logdir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "LenetMnist0-step11.ckpt" {
		t.Errorf("--resume DIR after the branch picks %s, want LenetMnist0-step11.ckpt", path)
	}
	// The resumed timeline still trains to the same result as a straight run.
	if err := resume(t, dir, logdir, trainer.Config{}, nil, 0); err != nil {
		t.Fatal(err)
	}
	straight, err := runFresh(t, t.TempDir(), cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	ckpttest.Same(t, "params", ckpttest.FinalParams(t, dir), ckpttest.FinalParams(t, straight))
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		compareLogs(t, logged(t, dir, rule), logged(t, straight, rule))
	}
}

// TestResumeOlderTwice goes back to the same older checkpoint twice: the
// second set-aside must not replace the checkpoint the first one kept.
func TestResumeOlderTwice(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 15) // checkpoints at 0, 5, 10, 12 (epoch 0), 15
	older := filepath.Join(dir, "LenetMnist0-step10.ckpt")
	newest := filepath.Join(dir, "LenetMnist1-step15.ckpt")
	first, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	// Each branch trains from step 10 to step 15 again, with a different
	// --keep so that the two step-15 checkpoints differ in content.
	for i, keep := range []int64{7, 9} {
		req := trainer.Config{Keep: keep}
		set := func(f string) bool { return f == "keep" }
		if err := resume(t, older, logdir, req, set, 15); !errors.Is(err, trainer.ErrInterrupted) {
			t.Fatalf("branch %d: %v", i, err)
		}
	}
	got, err := os.ReadFile(newest + trainer.AbandonedSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, first) {
		t.Errorf("%s%s no longer holds the first timeline's checkpoint", newest, trainer.AbandonedSuffix)
	}
	c, err := ckpt.Load(newest + trainer.AbandonedSuffix + "-2")
	if err != nil {
		t.Fatalf("the second timeline's step-15 checkpoint: %v", err)
	}
	if k := c.GetConfig().GetKeep(); k != 7 {
		t.Errorf("%s-2 has --keep %d, want 7 (the first branch)", newest+trainer.AbandonedSuffix, k)
	}
}

// TestResumeCleansTemp checks that a resumed session removes the temp file
// of a commit its predecessor did not finish, and that Locate ignores it.
func TestResumeCleansTemp(t *testing.T) {
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, smallConfig(), 4)
	temp := filepath.Join(dir, ".LenetMnist0-step5.ckpt.tmp-123456")
	if !ckpt.IsTemp(filepath.Base(temp)) {
		t.Fatalf("%s is not a ckpt temp file name", temp)
	}
	if err := os.WriteFile(temp, []byte("half a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	// And those of a projector entry whose writing a kill cut short.
	projTemps := []string{filepath.Join(dir, ".projector_config.pbtxt.tmp-42"), filepath.Join(dir, "00024", "penultimate", ".sprite.png.tmp-7")}
	for _, p := range projTemps {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half a file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := resume(t, dir, logdir, trainer.Config{}, nil, 6); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatal(err)
	}
	for _, p := range append(projTemps, temp) {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temp file %s after a resumed session: %v, want it removed", p, err)
		}
	}
}

// TestFinishedRunCleansTemp: a session resuming a run that has nothing
// left to train still removes the temp files of a commit and of projector
// files that a kill left, and changes nothing else.
func TestFinishedRunCleansTemp(t *testing.T) {
	logdir := t.TempDir()
	dir, err := runFresh(t, logdir, smallConfig(), 0)
	if err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	temps := []string{filepath.Join(dir, ".LenetMnist1.ckpt.tmp-99"), filepath.Join(dir, ".projector_config.pbtxt.tmp-42"),
		filepath.Join(dir, "00024", "penultimate", ".tensors.tsv.tmp-7")}
	for _, p := range temps {
		if err := os.WriteFile(p, []byte("half a file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := resume(t, dir, logdir, trainer.Config{}, nil, 0); err != nil {
		t.Fatal(err)
	}
	if after := listDir(t, dir); !slices.Equal(after, before) {
		t.Errorf("files after resuming the finished run:\n%q\nwant those before the temp files:\n%q", after, before)
	}
}

// listDir returns the files under dir, relative to it, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestStepZeroCommitFirst checks that a new run commits its step-0
// checkpoint before it creates an event file, and that a session resuming
// from that checkpoint (every later commit lost, as after a kill -9) writes
// the step-0 tags again and still matches a straight run bit for bit, with
// each step of every tag once under both purge rules.
func TestStepZeroCommitFirst(t *testing.T) {
	cfg := smallConfig()
	straight, err := runFresh(t, t.TempDir(), cfg, 0)
	if err != nil {
		t.Fatal(err)
	}

	logdir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := stopAfter(7, cancel)
	var tr *trainer.Trainer
	eventsAtStepZeroSave := -1
	opts.Commit = func(stage trainer.CommitStage, path string, step int64) {
		if stage == trainer.SaveBegin && step == 0 {
			evs, _ := filepath.Glob(filepath.Join(tr.Dir(), "events.out.tfevents.*"))
			eventsAtStepZeroSave = len(evs)
		}
	}
	tr, err = trainer.New(logdir, cfg, trainSet, testSet, opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := tr.Dir()
	if err := tr.Run(ctx); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatalf("Run cancelled after step 7: %v", err)
	}
	if eventsAtStepZeroSave != 0 {
		t.Fatalf("%d event files existed when the step-0 checkpoint was saved, want 0", eventsAtStepZeroSave)
	}
	// Lose every commit after step 0; the session's events up to step 7 stay.
	ckpts, _ := filepath.Glob(filepath.Join(dir, "*.ckpt"))
	for _, p := range ckpts {
		if filepath.Base(p) != "LenetMnist0-step0.ckpt" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := resume(t, dir, logdir, trainer.Config{}, nil, 0); err != nil {
		t.Fatal(err)
	}
	ckpttest.Same(t, "params", ckpttest.FinalParams(t, dir), ckpttest.FinalParams(t, straight))
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		got := logged(t, dir, rule)
		compareLogs(t, got, logged(t, straight, rule))
		if s := steps(got["config"]); len(s) != 1 || s[0] != 0 {
			t.Errorf("rule %v: config logged at steps %v, want [0]", rule, s)
		}
	}
}

// TestResumeRefusesChangedSettings checks Resume itself, not only
// ResumeConfig: a config whose fixed settings differ from the checkpoint's
// would continue a different training, so it is a *ConflictError.
func TestResumeRefusesChangedSettings(t *testing.T) {
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, smallConfig(), 3)
	c, path, _, err := trainer.Locate(dir, logdir)
	if err != nil {
		t.Fatal(err)
	}
	for flag, edit := range map[string]func(*trainer.Config){
		"lr":       func(c *trainer.Config) { c.LR = 0.02 },
		"momentum": func(c *trainer.Config) { c.Momentum = 0.5 },
		"eta-min":  func(c *trainer.Config) { c.EtaMin = 0.001 },
	} {
		cfg := trainer.ConfigOf(c)
		edit(&cfg)
		_, err := trainer.Resume(path, c, cfg, trainSet, testSet, trainer.Options{})
		var ce *trainer.ConflictError
		if !errors.As(err, &ce) || ce.Flag != flag || ce.Path != path {
			t.Errorf("Resume with another --%s: %v, want a ConflictError naming it and %s", flag, err, path)
		}
	}
	// The harmless settings may differ.
	cfg := trainer.ConfigOf(c)
	cfg.Epochs, cfg.Keep, cfg.SaveEverySteps, cfg.LimitTest = 3, 1, 4, 50
	if _, err := trainer.Resume(path, c, cfg, trainSet, testSet, trainer.Options{}); err != nil {
		t.Errorf("Resume with other harmless settings: %v", err)
	}
}
