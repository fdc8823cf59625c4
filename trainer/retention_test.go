package trainer_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/trainer"
)

// TestSaveEvery: with --save-every 3s and a clock that advances one second
// per training step (injected through Options.Now), a mid-epoch checkpoint
// follows every step that ends 3 s after the last commit; epoch ends commit
// anyway and restart the count. The run still ends bit for bit like a
// straight one, and a session resumed mid-way counts from its own start.
func TestSaveEvery(t *testing.T) {
	cfg := smallConfig() // 12 steps per epoch, 2 epochs
	cfg.SaveEvery = 3 * time.Second
	clock := time.Date(2026, 11, 29, 12, 0, 0, 0, time.Local)
	opts := trainer.Options{
		Now:  func() time.Time { return clock },
		Step: func(trainer.StepInfo) { clock = clock.Add(time.Second) },
	}
	logdir := t.TempDir()
	tr, err := trainer.New(logdir, cfg, trainSet, testSet, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	list, err := ckpt.List(tr.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		got = append(got, filepath.Base(e.Path))
	}
	want := []string{"LenetMnist0-step0.ckpt", "LenetMnist0-step3.ckpt", "LenetMnist0-step6.ckpt", "LenetMnist0-step9.ckpt", "LenetMnist0.ckpt",
		"LenetMnist1-step15.ckpt", "LenetMnist1-step18.ckpt", "LenetMnist1-step21.ckpt", "LenetMnist1.ckpt"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checkpoints with --save-every 3s at 1 s per step (-want +got):\n%s", diff)
	}
	// A straight run to compare with (-short skips it: TestResumeBitExact
	// covers bit-exact resumes).
	if !testing.Short() {
		straightCfg := cfg
		straightCfg.SaveEvery = 0
		straight, err := runFresh(t, t.TempDir(), straightCfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		ckpttest.Same(t, "params", ckpttest.FinalParams(t, tr.Dir()), ckpttest.FinalParams(t, straight))
	}

	// Resumed at step 4 (the clock stood still meanwhile): the count
	// starts with the session, not at the step-3 commit.
	logdir2 := t.TempDir()
	plain := cfg
	plain.SaveEvery = 0
	dir2 := stoppedAt(t, logdir2, plain, 4)
	c, path, _, err := trainer.Locate(dir2, logdir2)
	if err != nil {
		t.Fatal(err)
	}
	rc := trainer.ConfigOf(c)
	rc.SaveEvery = 3 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var commits []int64
	opts.Commit = func(st trainer.CommitStage, _ string, step int64) {
		if st == trainer.SaveEnd {
			commits = append(commits, step)
		}
	}
	opts.Step = func(s trainer.StepInfo) {
		clock = clock.Add(time.Second)
		if s.Step == 11 {
			cancel()
		}
	}
	tr2, err := trainer.Resume(path, c, rc, trainSet, testSet, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr2.Run(ctx); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatal(err)
	}
	if want := []int64{7, 10, 11}; !slices.Equal(commits, want) {
		t.Errorf("commits of the resumed session %v, want %v (every 3 s from its start, then the stop)", commits, want)
	}
}

// TestKeepBestAndResumeBest: with --keep 1 --keep-best 2 the run keeps its
// newest checkpoint and its two best epoch-end ones (by the test accuracy
// in their history; ties to the later), whatever --keep deletes; --resume
// best picks the best of them, and resuming there (a new timeline) trains to
// the same end as a straight run.
func TestKeepBestAndResumeBest(t *testing.T) {
	cfg := smallConfig()
	cfg.Epochs = 4
	cfg.Keep = 1
	cfg.KeepBest = 2
	cfg.SaveEverySteps = 5
	logdir := t.TempDir()
	tr, err := trainer.New(logdir, cfg, trainSet, testSet, trainer.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := tr.History()
	// The two best epochs by test accuracy, ties to the later.
	order := []int{0, 1, 2, 3}
	slices.SortStableFunc(order, func(a, b int) int {
		if h[a].TestAcc != h[b].TestAcc {
			if h[a].TestAcc > h[b].TestAcc {
				return -1
			}
			return 1
		}
		return b - a
	})
	wantNames := map[string]bool{"LenetMnist3.ckpt": true}
	for _, e := range order[:2] {
		wantNames[fmt.Sprintf("LenetMnist%d.ckpt", e)] = true
	}
	t.Logf("test accuracy by epoch: %.3f %.3f %.3f %.3f; best first: %v", h[0].TestAcc, h[1].TestAcc, h[2].TestAcc, h[3].TestAcc, order)
	list, err := ckpt.List(tr.Dir())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range list {
		got[filepath.Base(e.Path)] = true
	}
	if diff := cmp.Diff(wantNames, got); diff != "" {
		t.Errorf("kept checkpoints (-want +got):\n%s", diff)
	}
	c, path, _, err := trainer.Locate(trainer.Best, logdir)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("LenetMnist%d.ckpt", order[0]); filepath.Base(path) != want {
		t.Errorf("--resume best = %s, want %s", path, want)
	}
	if c.GetHistory()[len(c.GetHistory())-1].GetTestAcc() != h[order[0]].TestAcc {
		t.Errorf("--resume best loaded a checkpoint with test accuracy %v, want %v", c.GetHistory()[len(c.GetHistory())-1].GetTestAcc(), h[order[0]].TestAcc)
	}
	// Resuming the best makes sense when it is not the last; make the
	// second best (a kept epoch end before the last) the best by its
	// recorded metric, which shapes no training step.
	second := filepath.Join(tr.Dir(), fmt.Sprintf("LenetMnist%d.ckpt", order[1]))
	if order[0] != 3 {
		second = filepath.Join(tr.Dir(), fmt.Sprintf("LenetMnist%d.ckpt", order[0]))
	}
	editCheckpoint(t, second, second, func(c *ckptpb.Checkpoint) { c.History[len(c.History)-1].TestAcc = 1.5 })
	if _, path, _, err := trainer.Locate(trainer.Best, logdir); err != nil || path != second {
		t.Fatalf("--resume best after raising %s's accuracy: %s, %v", second, path, err)
	}
	if err := resume(t, trainer.Best, logdir, trainer.Config{}, nil, 0); err != nil {
		t.Fatal(err)
	}
	if aside, _ := filepath.Glob(filepath.Join(tr.Dir(), "*"+trainer.AbandonedSuffix)); len(aside) == 0 {
		t.Error("resuming the best (older) checkpoint set nothing aside")
	}
	// A straight run to compare with (-short skips it: TestResumeBitExact
	// covers bit-exact resumes).
	if !testing.Short() {
		straightCfg := cfg
		straightCfg.Keep, straightCfg.KeepBest = 0, 0
		straight, err := runFresh(t, t.TempDir(), straightCfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		ckpttest.Same(t, "params", ckpttest.FinalParams(t, tr.Dir()), ckpttest.FinalParams(t, straight))
	}
}

// TestResumeBestNeedsEpochEnd: before any epoch ends there is nothing to
// rank, and --resume best says so.
func TestResumeBestNeedsEpochEnd(t *testing.T) {
	logdir := t.TempDir()
	stoppedAt(t, logdir, smallConfig(), 5)
	if _, _, _, err := trainer.Locate(trainer.Best, logdir); !errors.Is(err, ckpt.ErrNoCheckpoint) {
		t.Errorf("--resume best with no epoch-end checkpoint: %v, want ErrNoCheckpoint", err)
	}
}
