package trainer_test

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/trainer"
)

// hpSession is what one hparams session directory holds, every value ever
// written (no purge): a session TensorBoard shows right has one start and
// at most one end, because it keeps the first value of each hparams tag.
type hpSession struct {
	starts  []*tbpb.SessionStartInfo
	ends    []*tbpb.SessionEndInfo
	endStep int64
	metrics map[string][]tbwriter.Point
}

// hpSessions reads every hparams session directory of the run in dir, by
// name; it fails if the run directory itself holds hparams tags.
func hpSessions(t *testing.T, dir string) map[string]*hpSession {
	t.Helper()
	runs, err := tbwriter.ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*hpSession{}
	for _, r := range runs {
		series := r.Series(tbwriter.NoPurge)
		if r.Name == "." {
			for tag := range series {
				if _, ok := tbwriter.HParamsOf(series[tag][0].Value); ok {
					t.Errorf("the run directory itself holds hparams tag %s", tag)
				}
			}
			continue
		}
		s := &hpSession{metrics: map[string][]tbwriter.Point{}}
		out[r.Name] = s
		for tag, pts := range series {
			for _, p := range pts {
				d, ok := tbwriter.HParamsOf(p.Value)
				switch {
				case ok && d.GetSessionStartInfo() != nil:
					s.starts = append(s.starts, d.GetSessionStartInfo())
				case ok && d.GetSessionEndInfo() != nil:
					s.ends = append(s.ends, d.GetSessionEndInfo())
					s.endStep = p.Step
				case !ok:
					s.metrics[tag] = append(s.metrics[tag], p)
				}
			}
		}
	}
	return out
}

// checkFinished checks that session name of the run in dir has one start
// with epochs hyperparameter epochs, one SUCCESS end at the step and commit
// time of the checkpoint that ended it, and its final metrics.
func checkFinished(t *testing.T, sessions map[string]*hpSession, name string, epochs int64, final *ckptpb.Checkpoint) {
	t.Helper()
	s := sessions[name]
	if s == nil {
		t.Fatalf("no hparams session %s (have %v)", name, slices.Sorted(mapKeys(sessions)))
	}
	if len(s.starts) != 1 || s.starts[0].GetHparams()["epochs"].GetNumberValue() != float64(epochs) {
		t.Errorf("%s: session starts %v, want one with epochs %d", name, s.starts, epochs)
	}
	if len(s.ends) != 1 {
		t.Fatalf("%s: %d session ends, want 1", name, len(s.ends))
	}
	e := s.ends[0]
	if e.GetStatus() != tbpb.Status_STATUS_SUCCESS || math.Abs(e.GetEndTimeSecs()-float64(final.GetUnixNano())/1e9) > 1e-6 ||
		s.endStep != final.GetGlobalStep() {
		t.Errorf("%s: session end %v at step %d, want SUCCESS at %v (the final checkpoint's commit), step %d",
			name, e, s.endStep, float64(final.GetUnixNano())/1e9, final.GetGlobalStep())
	}
	last := final.GetHistory()[len(final.GetHistory())-1]
	for tag, v := range map[string]float64{"test/acc": last.GetTestAcc(), "test/loss": last.GetTestLoss(), "train/loss": last.GetTrainLoss()} {
		pts := s.metrics[tag]
		if len(pts) != 1 || pts[0].Step != final.GetGlobalStep() || pts[0].Value.GetSimpleValue() != float32(v) {
			t.Errorf("%s: metric %s = %v, want %v at step %d", name, tag, pts, float32(v), final.GetGlobalStep())
		}
	}
	if final.GetHparamsRun() != name {
		t.Errorf("the final checkpoint names hparams session %q, want %q", final.GetHparamsRun(), name)
	}
}

func newest(t *testing.T, dir string) *ckptpb.Checkpoint {
	t.Helper()
	c, _, _, err := ckpt.Newest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHParamsSessionPerExtent: a finished run's HParams row shows its
// epochs, SUCCESS at the final commit and its final metrics; extending it
// with a larger --epochs adds a row of its own with the newest metrics and
// leaves the first as it was.
func TestHParamsSessionPerExtent(t *testing.T) {
	cfg := smallConfig()
	logdir := t.TempDir()
	dir, err := runFresh(t, logdir, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	first := newest(t, dir)
	s := hpSessions(t, dir)
	if len(s) != 1 {
		t.Errorf("sessions %v, want one", slices.Sorted(mapKeys(s)))
	}
	checkFinished(t, s, "hparams-epochs2", 2, first)

	if err := resume(t, trainer.Latest, logdir, trainer.Config{Epochs: 3}, func(f string) bool { return f == "epochs" }, 0); err != nil {
		t.Fatal(err)
	}
	s = hpSessions(t, dir)
	if len(s) != 2 {
		t.Errorf("sessions %v after the extension, want two", slices.Sorted(mapKeys(s)))
	}
	checkFinished(t, s, "hparams-epochs2", 2, first)
	checkFinished(t, s, "hparams-epochs3", 3, newest(t, dir))
}

// killAt returns Options whose Commit hook panics (standing for a kill) at
// stage of the commit at global step.
func killAt(stage trainer.CommitStage, step int64) trainer.Options {
	return trainer.Options{Now: fixedClock(), Commit: func(st trainer.CommitStage, path string, s int64) {
		if st == stage && s == step {
			panic(errKill{})
		}
	}}
}

// runKilled runs tr and recovers the panic of killAt.
func runKilled(t *testing.T, tr *trainer.Trainer) {
	t.Helper()
	defer func() {
		if r := recover(); r != (errKill{}) {
			t.Fatalf("Run was not killed: %v", r)
		}
	}()
	_ = tr.Run(context.Background())
}

// TestHParamsEndAfterLastCommit: the session end is written only once the
// last epoch is committed, so a kill just before that commit leaves no end
// (TensorBoard would keep a premature one for good), and a kill just after it
// leaves a finished run whose end the next session writes, with the commit's
// time, without training or logging anything else.
func TestHParamsEndAfterLastCommit(t *testing.T) {
	for _, stage := range []trainer.CommitStage{trainer.SyncEnd, trainer.SaveBegin, trainer.SaveEnd} {
		t.Run(map[trainer.CommitStage]string{trainer.SyncEnd: "events synced", trainer.SaveBegin: "before the save",
			trainer.SaveEnd: "after the save"}[stage], func(t *testing.T) {
			logdir := t.TempDir()
			tr, err := trainer.New(logdir, smallConfig(), trainSet, testSet, killAt(stage, 24))
			if err != nil {
				t.Fatal(err)
			}
			runKilled(t, tr)
			s := hpSessions(t, tr.Dir())["hparams-epochs2"]
			if s == nil || len(s.starts) != 1 || len(s.ends) != 0 {
				t.Fatalf("after a kill in the last commit: session %+v, want a start and no end", s)
			}
			events := eventFiles(t, tr.Dir())
			if err := resume(t, trainer.Latest, logdir, trainer.Config{}, nil, 0); err != nil {
				t.Fatal(err)
			}
			checkFinished(t, hpSessions(t, tr.Dir()), "hparams-epochs2", 2, newest(t, tr.Dir()))
			if got := eventFiles(t, tr.Dir()); stage == trainer.SaveEnd && !slices.Equal(got, events) {
				t.Errorf("the session that found the run done wrote event files %v (before: %v)", got, events)
			}
		})
	}
}

func eventFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHParamsNewTimeline: going back to an older checkpoint of a finished
// run starts a new timeline; its end is another session (the first one's
// end stays in TensorBoard for good), named hparams-epochs2-2.
func TestHParamsNewTimeline(t *testing.T) {
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	logdir := t.TempDir()
	dir, err := runFresh(t, logdir, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	first := newest(t, dir)
	if err := resume(t, filepath.Join(dir, "LenetMnist0-step10.ckpt"), logdir, trainer.Config{}, nil, 0); err != nil {
		t.Fatal(err)
	}
	s := hpSessions(t, dir)
	checkFinished(t, s, "hparams-epochs2", 2, first)
	checkFinished(t, s, "hparams-epochs2-2", 2, newest(t, dir))
}

// threeEpochsStoppedAt30 trains a 3-epoch run, checkpointing every 5
// steps, and stops it after step 30 (epoch 2, 6 batches in); it returns the
// log and run directories.
func threeEpochsStoppedAt30(t *testing.T) (logdir, dir string) {
	t.Helper()
	cfg := smallConfig()
	cfg.Epochs = 3
	cfg.SaveEverySteps = 5
	logdir = t.TempDir()
	return logdir, stoppedAt(t, logdir, cfg, 30)
}

// TestEpochsLoweredToDone: lowering --epochs to exactly the epochs done ends
// the run: the checkpoint is committed again with the new --epochs (the
// longer timeline's newer checkpoints set aside), the hparams session of the
// shorter run ends, and a later plain resume trains nothing.
func TestEpochsLoweredToDone(t *testing.T) {
	logdir, dir := threeEpochsStoppedAt30(t)
	// The longer timeline's projector entry (as if it had ended at step
	// 30) and the temp files of a commit and a projector file a kill left.
	long, err := tbwriter.EmbeddingFiles("penultimate", 30, [][]float32{{1, 2}}, tbwriter.Metadata{Labels: []string{"x"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tbwriter.WriteEmbedding(dir, long); err != nil {
		t.Fatal(err)
	}
	temps := []string{filepath.Join(dir, ".LenetMnist2-step35.ckpt.tmp-1"), filepath.Join(dir, ".projector_config.pbtxt.tmp-2")}
	for _, p := range temps {
		if err := os.WriteFile(p, []byte("half a file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	epochs := func(f string) bool { return f == "epochs" }
	before := runOf(t, dir).Series(tbwriter.PythonPurge)
	if err := resume(t, filepath.Join(dir, "LenetMnist1.ckpt"), logdir, trainer.Config{Epochs: 2}, epochs, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range temps {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("temp file %s after lowering --epochs: %v, want it removed", p, err)
		}
	}
	// The projector shows the model that now ends the run (step 24, the
	// end of epoch 1): the first 100 test images (--limit-test; --embed
	// is 1000), and nothing of the longer timeline.
	pc, err := tbwriter.ReadProjectorConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, e := range pc.GetEmbeddings() {
		entries = append(entries, e.GetTensorName())
	}
	if want := []string{tbwriter.EmbeddingTensorName("penultimate", 24)}; !slices.Equal(entries, want) {
		t.Errorf("projector entries %q after lowering --epochs to 2, want %q", entries, want)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.Dir(tbwriter.EmbeddingDir("penultimate", 30)))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the longer timeline's projector files: %v, want them and their directory removed", err)
	}
	tsv, err := os.ReadFile(filepath.Join(dir, tbwriter.EmbeddingDir("penultimate", 24), "tensors.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(tsv), "\n"), "\n")
	if len(lines) != 100 || len(strings.Split(lines[0], "\t")) != 84 {
		t.Errorf("tensors.tsv of the new end: %d lines of %d values, want 100 of 84", len(lines), len(strings.Split(lines[0], "\t")))
	}
	c, path, _, err := trainer.Locate(trainer.Latest, logdir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "LenetMnist1.ckpt" || c.GetConfig().GetEpochs() != 2 || c.GetScheduler().GetTMax() != 2 {
		t.Fatalf("--resume latest after lowering --epochs to 2 picks %s with epochs %d (T_max %d), want LenetMnist1.ckpt with 2",
			path, c.GetConfig().GetEpochs(), c.GetScheduler().GetTMax())
	}
	aside, _ := filepath.Glob(filepath.Join(dir, "*"+trainer.AbandonedSuffix))
	var names []string
	for _, a := range aside {
		names = append(names, filepath.Base(a))
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"LenetMnist2-step25.ckpt.abandoned", "LenetMnist2-step30.ckpt.abandoned"}, names); diff != "" {
		t.Errorf("set aside (-want +got):\n%s", diff)
	}
	checkFinished(t, hpSessions(t, dir), "hparams-epochs2", 2, c)
	// TensorBoard's curves end where the run now ends: the longer
	// timeline's steps 25 to 30 are purged in both loaders, and every point
	// up to step 24 is shown once, as it was before.
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		series := runOf(t, dir).Series(rule)
		for _, tag := range []string{"train/loss_step", "learning_rate", "test/acc"} {
			if len(series[tag]) == 0 {
				t.Errorf("%v: no %s after lowering --epochs", rule, tag)
			}
		}
		for tag, pts := range before {
			var want []tbwriter.Point
			for _, p := range pts {
				if p.Step <= 24 {
					want = append(want, p)
				}
			}
			got := series[tag]
			same := len(got) == len(want)
			for i := 0; same && i < len(got); i++ {
				same = got[i].Step == want[i].Step && got[i].WallTime == want[i].WallTime &&
					got[i].Value.GetSimpleValue() == want[i].Value.GetSimpleValue() &&
					proto.Equal(got[i].Value.GetTensor(), want[i].Value.GetTensor()) &&
					proto.Equal(got[i].Value.GetImage(), want[i].Value.GetImage())
			}
			if !same {
				t.Errorf("%v: %s at steps %v after lowering --epochs to 2, want %v as before", rule, tag, pointSteps(got), pointSteps(want))
			}
		}
	}
	// A plain resume has nothing to do: no training, no event file.
	events := eventFiles(t, dir)
	tr, err := trainer.Resume(path, c, trainer.ConfigOf(c), trainSet, testSet, trainer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Done() {
		t.Fatal("a plain resume after lowering --epochs to the epochs done is not done")
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := eventFiles(t, dir); !slices.Equal(got, events) {
		t.Errorf("a plain resume of the ended run wrote event files: %v (before %v)", got, events)
	}
	if _, err := os.Stat(filepath.Join(dir, "hparams-epochs3")); err != nil {
		t.Errorf("the 3-epoch session directory: %v", err)
	}
}

// TestEpochsLoweredReadsOwnRunOnly: to end the curves when --epochs is
// lowered to the epochs done, the session reads the run's own event files,
// not the directories below the run directory. There, another run's
// damaged event file and a directory that cannot be walked (a path longer
// than the system allows: it stands for a directory the trainer may not
// read, and stops a walk as root too) do not stop the session, and the
// curves end at the new end. Reading the whole tree failed with "file name
// too long".
func TestEpochsLoweredReadsOwnRunOnly(t *testing.T) {
	logdir, dir := threeEpochsStoppedAt30(t)
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "events.out.tfevents.1.other"), []byte("not an event file"), 0o644); err != nil {
		t.Fatal(err)
	}
	deepDir(t, other)
	epochs := func(f string) bool { return f == "epochs" }
	if err := resume(t, filepath.Join(dir, "LenetMnist1.ckpt"), logdir, trainer.Config{Epochs: 2}, epochs, 0); err != nil {
		t.Fatalf("lowering --epochs to 2 with a directory below the run that cannot be walked: %v", err)
	}
	run, err := tbwriter.ReadRun(dir)
	if err != nil || run.Err != nil {
		t.Fatalf("ReadRun(%s): %v, %v", dir, err, run.Err)
	}
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		series := run.Series(rule)
		if len(series["train/loss_step"]) == 0 {
			t.Errorf("%v: no train/loss_step after lowering --epochs", rule)
		}
		for tag, pts := range series {
			if n := len(pts); n > 0 && pts[n-1].Step > 24 {
				t.Errorf("%v: %s ends at step %d after lowering --epochs to 2, want 24 at most", rule, tag, pts[n-1].Step)
			}
		}
	}
}

// deepDir makes a chain of directories below dir whose path is longer than
// a path may be (4096 bytes on Linux, 1024 on macOS), through os.Root so
// that no call names the whole path.
func deepDir(t *testing.T, dir string) {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("d", 200)
	for range 25 { // 25 × 201 bytes
		if err := r.Mkdir(name, 0o755); err != nil {
			r.Close()
			t.Fatal(err)
		}
		next, err := r.OpenRoot(name)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		r = next
	}
	r.Close()
}

// pointSteps returns the steps of pts.
func pointSteps(pts []tbwriter.Point) []int64 {
	var s []int64
	for _, p := range pts {
		s = append(s, p.Step)
	}
	return s
}
