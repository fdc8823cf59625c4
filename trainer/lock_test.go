package trainer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tbtrain/tbtrain/internal/dirtest"
	"github.com/tbtrain/tbtrain/trainer"
)

// TestRunLocked: while a session runs, a second Trainer of the same run (in
// this process: flock locks belong to the open file, not the process) fails
// in Run with a *LockedError naming the directory and this PID, and changes
// nothing; once the first has returned, the lock is free again.
func TestRunLocked(t *testing.T) {
	logdir := t.TempDir()
	var (
		dir       string
		lockErr   error
		before    map[string]string
		after     map[string]string
		secondRan bool
	)
	opts := trainer.Options{Now: fixedClock(), Step: func(s trainer.StepInfo) {
		if s.Step != 5 {
			return
		}
		c, path, _, err := trainer.Locate(trainer.Latest, logdir)
		if err != nil {
			t.Error(err)
			return
		}
		second, err := trainer.Resume(path, c, trainer.ConfigOf(c), trainSet, testSet, trainer.Options{})
		if err != nil {
			t.Error(err)
			return
		}
		before = dirtest.Files(t, dir)
		lockErr = second.Run(context.Background())
		after = dirtest.Files(t, dir)
		secondRan = true
	}}
	tr, err := trainer.New(logdir, smallConfig(), trainSet, testSet, opts)
	if err != nil {
		t.Fatal(err)
	}
	dir = tr.Dir()
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !secondRan {
		t.Fatal("the second trainer never ran")
	}
	var le *trainer.LockedError
	if !errors.As(lockErr, &le) || !errors.Is(lockErr, trainer.ErrLocked) || le.Dir != dir || le.PID != os.Getpid() {
		t.Fatalf("second Run while the first runs: %v (%+v), want a *LockedError for %s and PID %d", lockErr, le, dir, os.Getpid())
	}
	if !strings.Contains(lockErr.Error(), dir) || !strings.Contains(lockErr.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("message %q does not name the directory and the PID", lockErr)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the refused Run changed the run directory (-before +after):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, trainer.LockName)); err != nil {
		t.Errorf("lock file: %v", err)
	}
	// Free again: an extension runs.
	if err := resume(t, trainer.Latest, logdir, trainer.Config{Epochs: 3}, func(f string) bool { return f == "epochs" }, 0); err != nil {
		t.Errorf("a session after the first ended: %v", err)
	}
}

// TestRunChangedBeforeLock: a trainer reads the run (Resume) while another
// holds it; the other commits newer checkpoints and exits before the first
// takes the lock. The first must not set that newer work aside as an
// abandoned timeline: Run returns ErrRunChanged naming the newer
// checkpoint and changes nothing, and resuming again continues from it.
// Going back on purpose (naming an older checkpoint whose newer ones were
// there when Resume read the run) still sets those aside.
func TestRunChangedBeforeLock(t *testing.T) {
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, smallConfig(), 5)
	c, path, _, err := trainer.Locate(trainer.Latest, logdir)
	if err != nil {
		t.Fatal(err)
	}
	late, err := trainer.Resume(path, c, trainer.ConfigOf(c), trainSet, testSet, trainer.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	// The other trainer: from the same checkpoint to step 8, then gone.
	if err := resume(t, path, logdir, trainer.Config{}, nil, 8); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatal(err)
	}
	_, newer, _, err := trainer.Locate(trainer.Latest, logdir)
	if err != nil {
		t.Fatal(err)
	}
	before := dirtest.Files(t, dir)
	err = late.Run(context.Background())
	if !errors.Is(err, trainer.ErrRunChanged) || !strings.Contains(err.Error(), newer) {
		t.Fatalf("Run after another trainer committed %s: %v, want ErrRunChanged naming it", newer, err)
	}
	if diff := cmp.Diff(before, dirtest.Files(t, dir)); diff != "" {
		t.Errorf("the refused Run changed the run directory (-before +after):\n%s", diff)
	}
	if err := resume(t, trainer.Latest, logdir, trainer.Config{}, nil, 0); err != nil {
		t.Errorf("resuming again: %v", err)
	}
	// On purpose: back to the step-5 checkpoint, read after the newer ones.
	if err := resume(t, path, logdir, trainer.Config{}, nil, 7); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatalf("resuming an older checkpoint on purpose: %v", err)
	}
	if aside, _ := filepath.Glob(filepath.Join(dir, "*"+trainer.AbandonedSuffix)); len(aside) == 0 {
		t.Error("going back on purpose set nothing aside")
	}
}
