package trainer_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/trainer"
)

// divergingConfig trains with a learning rate that makes the loss overflow
// within the first epoch.
func divergingConfig() trainer.Config {
	c := smallConfig()
	c.LR = 1e4
	c.EtaMin = 0
	c.SaveEverySteps = 1
	return c
}

// TestDivergedRunStops: at the first non-finite loss Run stops with an
// error naming the step and epoch; every checkpoint on disk holds finite
// values, the newest is the last finite step, and resuming from it stops at
// the same step again.
func TestDivergedRunStops(t *testing.T) {
	logdir := t.TempDir()
	var losses []float32
	tr, err := trainer.New(logdir, divergingConfig(), trainSet, testSet, trainer.Options{Now: fixedClock(),
		Step: func(s trainer.StepInfo) { losses = append(losses, s.Loss) }})
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(context.Background())
	var de *trainer.DivergedError
	if !errors.As(err, &de) || !errors.Is(err, trainer.ErrDiverged) {
		t.Fatalf("Run with lr 1e4: %v (losses %v), want a *DivergedError", err, losses)
	}
	for _, l := range losses {
		if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
			t.Fatalf("the Step hook saw a non-finite loss: %v", losses)
		}
	}
	if de.Step != int64(len(losses))+1 || de.Epoch != de.Step/12 || de.Batch != (de.Step-1)%12+1 || !strings.Contains(err.Error(), "global step") {
		t.Errorf("DivergedError %+v after %d finite steps", de, len(losses))
	}
	t.Logf("%v", err)
	list, err := ckpt.List(tr.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		c, err := ckpt.Load(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !finite(c.GetEpochLossSum()) {
			t.Errorf("%s holds epoch_loss_sum %v", e.Path, c.GetEpochLossSum())
		}
		for _, p := range c.GetParams() {
			for _, v := range p.GetData() {
				if !finite(float64(v)) {
					t.Fatalf("%s holds a non-finite weight in %s", e.Path, p.GetName())
				}
			}
		}
	}
	c, path, _, err := trainer.Locate(trainer.Latest, logdir)
	if err != nil || c.GetGlobalStep() != de.Step-1 || path != de.Checkpoint {
		t.Fatalf("latest after divergence: %s (step %d), %v; want %s at step %d", path, c.GetGlobalStep(), err, de.Checkpoint, de.Step-1)
	}
	tr2, err := trainer.Resume(path, c, trainer.ConfigOf(c), trainSet, testSet, trainer.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	var de2 *trainer.DivergedError
	if err := tr2.Run(context.Background()); !errors.As(err, &de2) || de2.Step != de.Step || de2.Loss != de.Loss && !(math.IsNaN(de.Loss) && math.IsNaN(de2.Loss)) {
		t.Errorf("resumed diverged run: %v, want the same divergence at step %d", err, de.Step)
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// TestNonFiniteCheckpointSkipped: a directory whose newest checkpoint holds
// a NaN (written by a diverged run of an older tbtrain) resumes from the
// newest finite one with --resume DIR and latest, reporting the other as
// skipped; named explicitly, it is refused with an error that says why.
func TestNonFiniteCheckpointSkipped(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 4
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 9)
	for _, tc := range []struct {
		name string
		edit func(c *ckptpb.Checkpoint)
	}{
		{"loss sum", func(c *ckptpb.Checkpoint) { c.EpochLossSum = math.NaN() }},
		{"weight", func(c *ckptpb.Checkpoint) { c.Params[2].Data[7] = float32(math.Inf(1)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nan := filepath.Join(dir, "LenetMnist0-step10.ckpt")
			editCheckpoint(t, filepath.Join(dir, "LenetMnist0-step9.ckpt"), nan, func(c *ckptpb.Checkpoint) {
				tc.edit(c)
				c.GlobalStep, c.BatchInEpoch = 10, 10
			})
			defer os.Remove(nan)
			for _, target := range []string{dir, trainer.Latest} {
				got, path, skipped, err := trainer.Locate(target, logdir)
				if err != nil || got.GetGlobalStep() != 9 {
					t.Fatalf("Locate(%s) with a non-finite newest checkpoint: %s, %v; want the step-9 one", target, path, err)
				}
				if len(skipped) != 1 || !errors.Is(skipped[0], trainer.ErrDiverged) || !strings.Contains(skipped[0].Error(), nan) {
					t.Errorf("Locate(%s) skipped %v, want %s reported as diverged", target, skipped, nan)
				}
			}
			got, path, _, err := trainer.Locate(nan, logdir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = trainer.Resume(path, got, trainer.ConfigOf(got), trainSet, testSet, trainer.Options{})
			if !errors.Is(err, trainer.ErrDiverged) || !strings.Contains(err.Error(), nan) || !strings.Contains(err.Error(), "earlier checkpoint") {
				t.Errorf("Resume(%s): %v, want an error naming it and saying to resume from an earlier checkpoint", nan, err)
			}
		})
	}
}
