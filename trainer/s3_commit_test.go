package trainer_test

import (
	"context"
	"testing"

	"github.com/tbtrain/tbtrain/internal/s3test"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/trainer"
)

// TestEventsStoredBeforeCheckpointS3: on S3, where events go up as whole
// objects, every checkpoint PUT starts only after the events up to its
// step are stored: at each commit the run's event objects on the server
// already hold the per-step loss of every step up to the checkpoint's.
func TestEventsStoredBeforeCheckpointS3(t *testing.T) {
	logdir := s3test.Get(t).Dir(t)
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	var tr *trainer.Trainer
	commits := 0
	opts := trainer.Options{Now: fixedClock()}
	opts.Commit = func(stage trainer.CommitStage, path string, step int64) {
		if stage != trainer.SaveBegin || step == 0 {
			return // the step-0 checkpoint comes before any event
		}
		commits++
		runs, err := tbwriter.ReadLogdir(tr.Dir())
		if err != nil {
			t.Fatalf("reading the events at the commit of %s: %v", path, err)
		}
		last := int64(-1)
		for _, r := range runs {
			if r.Name != "." {
				continue
			}
			for _, p := range r.Series(tbwriter.PythonPurge)["train/loss_step"] {
				last = max(last, p.Step)
			}
		}
		if last < step {
			t.Errorf("checkpoint %s (step %d) committed while the stored events reach step %d", path, step, last)
		}
	}
	var err error
	if tr, err = trainer.New(logdir, cfg, trainSet, testSet, opts); err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if commits < 4 {
		t.Fatalf("%d commits after step 0, want mid-epoch ones too", commits)
	}
}
