package trainer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/internal/dirtest"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/trainer"
)

// copyFile copies a checkpoint file byte for byte.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editCheckpoint loads the checkpoint at from, lets edit change it and
// saves it at to (which may be from).
func editCheckpoint(t *testing.T, from, to string, edit func(c *ckptpb.Checkpoint)) {
	t.Helper()
	c, err := ckpt.Load(from)
	if err != nil {
		t.Fatal(err)
	}
	edit(c)
	if err := ckpt.Save(to, c); err != nil {
		t.Fatal(err)
	}
}

// runIDs returns the run ID of every valid checkpoint of dir, by file name.
func runIDs(t *testing.T, dir string) map[string]string {
	t.Helper()
	list, err := ckpt.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range list {
		if e.Valid() {
			m[filepath.Base(e.Path)] = e.RunID
		}
	}
	return m
}

// TestRunIDKeptAcrossResumes: a new run makes a 32-hex-digit ID, every
// checkpoint of the run carries it, resumes keep it, and another run gets
// another one.
func TestRunIDKeptAcrossResumes(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 7)
	ids := runIDs(t, dir)
	id := ids["LenetMnist0-step0.ckpt"]
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("run ID %q, want 32 lowercase hex digits", id)
	}
	if err := resume(t, dir, logdir, trainer.Config{}, nil, 0); err != nil {
		t.Fatal(err)
	}
	ids = runIDs(t, dir)
	if len(ids) < 5 {
		t.Fatalf("only %d checkpoints: %v", len(ids), ids)
	}
	for name, got := range ids {
		if got != id {
			t.Errorf("%s has run ID %q, want the run's %q", name, got, id)
		}
	}
	other := stoppedAt(t, t.TempDir(), cfg, 3)
	if got := runIDs(t, other)["LenetMnist0-step0.ckpt"]; got == id || got == "" {
		t.Errorf("a second run has run ID %q, the first %q: want a new one", got, id)
	}
}

// TestResumeRefusesOtherRuns reproduces the data loss of resuming a copied
// checkpoint: the directory of the file named also holds checkpoints of
// another run (the file was copied next to them). Resume refuses, naming the
// directory and the other run, and nothing in the directory changes.
func TestResumeRefusesOtherRuns(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 4
	logdir := t.TempDir()
	dir1 := stoppedAt(t, logdir, cfg, 13)
	cfg2 := cfg
	cfg2.Seed = 2
	dir2 := stoppedAt(t, logdir, cfg2, 20)
	saved := filepath.Join(t.TempDir(), "saved")
	if err := os.Mkdir(saved, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"LenetMnist0-step0.ckpt", "LenetMnist0-step4.ckpt", "LenetMnist0-step8.ckpt", "LenetMnist1-step16.ckpt", "LenetMnist1-step20.ckpt"} {
		copyFile(t, filepath.Join(dir2, n), filepath.Join(saved, n))
	}
	named := filepath.Join(saved, "LenetMnist0.ckpt")
	copyFile(t, filepath.Join(dir1, "LenetMnist0.ckpt"), named)
	before := dirtest.Files(t, saved)

	for _, target := range []string{named, saved} {
		c, path, _, err := trainer.Locate(target, logdir)
		if err != nil {
			t.Fatal(err)
		}
		for _, keep := range []int64{0, 1} {
			rc := trainer.ConfigOf(c)
			rc.Keep = keep
			_, err = trainer.Resume(path, c, rc, trainSet, testSet, trainer.Options{})
			var oe *trainer.OtherRunsError
			if !errors.As(err, &oe) || !errors.Is(err, trainer.ErrOtherRuns) {
				t.Fatalf("Resume(%s) in a directory holding another run's checkpoints: %v, want an *OtherRunsError", path, err)
			}
			if oe.Dir != saved || len(oe.Others) != 1 || oe.Others[0].ID == c.GetRunId() || oe.Others[0].ID == "" {
				t.Errorf("OtherRunsError %+v: want dir %s and the one other run", oe, saved)
			}
			for _, want := range []string{saved, oe.Others[0].ID, c.GetRunId(), "nothing was changed"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not say %q", err, want)
				}
			}
		}
	}
	if diff := cmp.Diff(before, dirtest.Files(t, saved)); diff != "" {
		t.Errorf("the directory changed (-before +after):\n%s", diff)
	}
}

// TestRetentionAndSetAsideOnlyOwnRun: checkpoints of another run that appear
// in the run directory after Resume checked it (copied in while the session
// starts) are neither set aside nor pruned, whatever their steps and commit
// times; the run's own newer checkpoints are set aside and its old ones
// pruned.
func TestRetentionAndSetAsideOnlyOwnRun(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 20) // 0, 5, 10, 12 (epoch 0), 15, 20
	cfg2 := cfg
	cfg2.Seed = 2
	other, err := runFresh(t, t.TempDir(), cfg2, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, path, _, err := trainer.Locate(filepath.Join(dir, "LenetMnist0-step10.ckpt"), logdir)
	if err != nil {
		t.Fatal(err)
	}
	rc := trainer.ConfigOf(c)
	rc.Keep = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var aside []string
	opts := stopAfter(14, cancel)
	later := time.Date(2026, 11, 30, 0, 0, 0, 0, time.Local) // commits after the first session's
	opts.Now = func() time.Time { later = later.Add(time.Second); return later }
	opts.SetAside = func(from, to string) { aside = append(aside, filepath.Base(from)) }
	tr, err := trainer.Resume(path, c, rc, trainSet, testSet, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Another run's checkpoints: below, between and above this run's.
	foreign := map[string]string{}
	for _, n := range []string{"LenetMnist0-step0.ckpt", "LenetMnist1-step15.ckpt", "LenetMnist1.ckpt"} {
		to := filepath.Join(dir, "other-"+n)
		copyFile(t, filepath.Join(other, n), to)
		b, _ := os.ReadFile(to)
		foreign[to] = string(b)
	}
	if err := tr.Run(ctx); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatal(err)
	}
	slices.Sort(aside)
	if want := []string{"LenetMnist0.ckpt", "LenetMnist1-step15.ckpt", "LenetMnist1-step20.ckpt"}; !slices.Equal(aside, want) {
		t.Errorf("set aside %v, want %v (this run's newer checkpoints only)", aside, want)
	}
	for p, want := range foreign {
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("another run's checkpoint %s was touched: %v", p, err)
		}
	}
	var own []string
	for name, id := range runIDs(t, dir) {
		if id == c.GetRunId() {
			own = append(own, name)
		}
	}
	if want := []string{"LenetMnist1-step14.ckpt"}; !slices.Equal(own, want) {
		t.Errorf("this run's checkpoints after --keep 1: %v, want %v", own, want)
	}
}

// TestLegacyRunWithoutID: checkpoints written before run IDs (run_id empty)
// form one run per directory: resuming one continues without an ID, sets
// aside and prunes among the ID-less checkpoints, and trains to the same
// result as a straight run.
func TestLegacyRunWithoutID(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 15)
	list, err := ckpt.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list { // as an older tbtrain wrote them
		editCheckpoint(t, e.Path, e.Path, func(c *ckptpb.Checkpoint) { c.RunId = "" })
	}
	req := trainer.Config{Keep: 2}
	if err := resume(t, filepath.Join(dir, "LenetMnist0-step10.ckpt"), logdir, req, func(f string) bool { return f == "keep" }, 0); err != nil {
		t.Fatal(err)
	}
	ids := runIDs(t, dir)
	want := map[string]string{"LenetMnist1-step20.ckpt": "", "LenetMnist1.ckpt": ""}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("checkpoints after the legacy run finished with --keep 2 (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "LenetMnist1-step15.ckpt"+trainer.AbandonedSuffix)); err != nil {
		t.Errorf("the legacy run's newer checkpoint was not set aside: %v", err)
	}
	// A straight run to compare with (-short skips it: TestResumeBitExact
	// covers bit-exact resumes).
	if !testing.Short() {
		straight, err := runFresh(t, t.TempDir(), cfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		ckpttest.Same(t, "params", ckpttest.FinalParams(t, dir), ckpttest.FinalParams(t, straight))
	}
}

// TestResumeRefusesDroppingBegunEpoch checks Resume itself, not only
// ResumeConfig: a config whose Epochs ends the run before an epoch the
// checkpoint has begun would drop the steps trained in it and call the run
// done.
func TestResumeRefusesDroppingBegunEpoch(t *testing.T) {
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, smallConfig(), 15) // epoch 1, batch 3
	c, path, _, err := trainer.Locate(dir, logdir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := trainer.ConfigOf(c)
	cfg.Epochs = 1
	tr, err := trainer.Resume(path, c, cfg, trainSet, testSet, trainer.Options{})
	if err == nil || !strings.Contains(err.Error(), "--epochs 2 or more") || !strings.Contains(err.Error(), path) {
		t.Errorf("Resume with Epochs 1 in the middle of epoch 1: %v (done %v), want an error naming %s and asking for 2 or more",
			err, tr != nil && tr.Done(), path)
	}
	cfg.Epochs = 2
	if tr, err := trainer.Resume(path, c, cfg, trainSet, testSet, trainer.Options{}); err != nil || tr.Done() {
		t.Errorf("Resume with Epochs 2 in the middle of epoch 1: %v", err)
	}
}

// errKill stands for a kill in the middle of the set-aside.
type errKill struct{}

// TestSetAsideInterrupted resumes a run from an older checkpoint and dies
// after the first rename of its set-aside (the hook panics, leaving the disk
// as a kill would). A later --resume DIR or latest must resume from the
// checkpoint the user went back to, never from the abandoned timeline's
// remaining files; that session finishes the set-aside and the run ends as a
// straight run does.
func TestSetAsideInterrupted(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	cfg.Epochs = 3
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 20) // 0, 5, 10, 12 (epoch 0), 15, 20
	// Going back with another --epochs makes the abandoned timeline
	// differ from the new one (another cosine schedule).
	c, path, _, err := trainer.Locate(filepath.Join(dir, "LenetMnist0-step10.ckpt"), logdir)
	if err != nil {
		t.Fatal(err)
	}
	rc := trainer.ConfigOf(c)
	rc.Epochs = 2
	opts := trainer.Options{Now: fixedClock(), SetAside: func(from, to string) { panic(errKill{}) }}
	tr, err := trainer.Resume(path, c, rc, trainSet, testSet, opts)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != (errKill{}) {
				t.Fatalf("Run did not reach the set-aside: %v", r)
			}
		}()
		_ = tr.Run(context.Background())
	}()
	left, _ := filepath.Glob(filepath.Join(dir, "*.abandoned"))
	if len(left) != 1 {
		t.Fatalf("set aside before the kill: %v, want one file", left)
	}
	for _, target := range []string{dir, trainer.Latest} {
		c, got, _, err := trainer.Locate(target, logdir)
		if err != nil || got != path {
			t.Fatalf("Locate(%s) after a kill in the set-aside: %s (step %d), %v; want %s", target, got, c.GetGlobalStep(), err, path)
		}
	}
	req := trainer.Config{Epochs: 2}
	if err := resume(t, trainer.Latest, logdir, req, func(f string) bool { return f == "epochs" }, 0); err != nil {
		t.Fatal(err)
	}
	aside, _ := filepath.Glob(filepath.Join(dir, "*.abandoned"))
	if len(aside) != 3 {
		t.Errorf("set aside after the next session: %v, want the 3 files of the abandoned timeline", aside)
	}
	if _, err := os.Stat(filepath.Join(dir, ckpt.AsideRecord)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("set-aside record after the session finished: %v", err)
	}
	// A straight run to compare with (-short skips it: TestResumeBitExact
	// covers bit-exact resumes).
	if !testing.Short() {
		straightCfg := cfg
		straightCfg.Epochs = 2
		straight, err := runFresh(t, t.TempDir(), straightCfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Epoch 0's rate is the base rate whatever T_max, so the run equals a
		// straight 2-epoch run.
		ckpttest.Same(t, "params", ckpttest.FinalParams(t, dir), ckpttest.FinalParams(t, straight))
	}
}

// TestLocateTrailingSlash: a run directory or log directory named with a
// trailing slash, as shell completion writes it (--resume runs/<run>/,
// --logdir runs/), is the same directory: Locate finds the same checkpoint
// and Resume the same run directory (it failed with "storage: invalid key").
func TestLocateTrailingSlash(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 4
	logdir := t.TempDir()
	dir := stoppedAt(t, logdir, cfg, 9)
	_, want, _, err := trainer.Locate(dir, logdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ target, logdir string }{
		{dir + "/", logdir},
		{trainer.Latest, logdir + "/"},
		{filepath.Join(dir, "LenetMnist0-step9.ckpt"), logdir + "/"},
	} {
		c, path, _, err := trainer.Locate(tc.target, tc.logdir)
		if err != nil || filepath.Clean(path) != want {
			t.Fatalf("Locate(%q, %q) = %s, %v; want %s", tc.target, tc.logdir, path, err, want)
		}
		tr, err := trainer.Resume(path, c, trainer.ConfigOf(c), trainSet, testSet, trainer.Options{})
		if err != nil || filepath.Clean(tr.Dir()) != dir {
			t.Fatalf("Resume(%s): %v; want run directory %s", path, err, dir)
		}
	}
}
