//go:build unix

package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/internal/dirtest"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/trainer"
)

const trainPkg = "github.com/tbtrain/tbtrain/cmd/train"

// The tiny configuration every test trains: 640/16 = 40 steps per epoch,
// 3 epochs = 120 optimizer steps, a mid-epoch checkpoint every 7 steps (7 is
// prime to 40, so periodic commits land at every position in an epoch).
const (
	stepsPerEpoch = 640 / 16
	numEpochs     = 3
	totalSteps    = stepsPerEpoch * numEpochs
)

var tinyArgs = []string{
	"--limit-train", "640", "--limit-test", "200", "--batch-size", "16",
	"--epochs", fmt.Sprint(numEpochs), "--save-every-steps", "7", "--seed", "7",
}

// Test-only hooks (see doc.go). They only widen windows; they never change
// what is computed, so the reference run uses them too.
const (
	commitDelay = 25 * time.Millisecond
	flushDelay  = 10 * time.Millisecond
)

var hookEnv = []string{
	"TBTRAIN_TEST_MARKERS=1",
	"TBTRAIN_TEST_COMMIT_DELAY=" + commitDelay.String(),
	"TBTRAIN_TEST_FLUSH_DELAY=" + flushDelay.String(),
}

// sessionTimeout bounds one child process.
const sessionTimeout = 3 * time.Minute

// refRun is the uninterrupted reference run that every other run must
// reproduce bit for bit.
type refRun struct {
	logdir, runDir string
	final          *ckptpb.Checkpoint
	python, rust   map[string][]tbwriter.Point
	projector      map[string][]byte // projector_config.pbtxt and its files
	graph          *tbpb.GraphDef
	dur            time.Duration
	markers        bool // the child printed test markers
	output         string
}

var (
	refOnce sync.Once
	ref     *refRun
	refErr  error
)

// reference runs (once per test process) the tiny configuration without
// interruption.
func reference(t *testing.T) *refRun {
	t.Helper()
	bin := buildCmd(t, trainPkg)
	refOnce.Do(func() {
		logdir := filepath.Join(binDir, "reference")
		c, err := startChild(bin, append(slices.Clone(tinyArgs), "--logdir", logdir), hookEnv, nil)
		if err != nil {
			refErr = err
			return
		}
		err = c.wait(sessionTimeout)
		r := &refRun{logdir: logdir, dur: time.Since(c.start), output: c.output()}
		if err != nil {
			refErr = fmt.Errorf("reference run: %v\n%s", err, tail(r.output, 40))
			return
		}
		ms, _ := c.markersSince(0)
		r.markers = len(ms) > 0
		dirs := runDirs(logdir)
		if len(dirs) != 1 {
			refErr = fmt.Errorf("reference run: %d run directories in %s, want 1", len(dirs), logdir)
			return
		}
		r.runDir = dirs[0]
		r.final, err = finalCheckpoint(r.runDir)
		if err != nil {
			refErr = fmt.Errorf("reference run: %v", err)
			return
		}
		r.python, r.rust, err = series(logdir, r.runDir, r.final.GetHparamsRun())
		if err != nil {
			refErr = fmt.Errorf("reference run: %v", err)
			return
		}
		// The projector entry of the last epoch: config, tensors, metadata, sprite.
		if r.projector, err = dirtest.ProjectorFiles(r.runDir); err != nil || len(r.projector) != 4 {
			refErr = fmt.Errorf("reference run: projector files %v (%v), want 4", slices.Sorted(maps.Keys(r.projector)), err)
			return
		}
		gs, _, err := graphsOf(r.runDir)
		if err != nil || len(gs) != 1 {
			refErr = fmt.Errorf("reference run: %d graphs (%v), want 1", len(gs), err)
			return
		}
		r.graph = gs[0]
		// The reference itself must have one point per step for the
		// per-step tags and be free of duplicates everywhere.
		for rule, m := range map[string]map[string][]tbwriter.Point{"python": r.python, "rust": r.rust} {
			for tag, ps := range m {
				if d := duplicateSteps(ps); len(d) > 0 {
					refErr = fmt.Errorf("reference run, %s purge: tag %s has steps %v more than once", rule, tag, d)
					return
				}
			}
		}
		ref = r
	})
	if refErr != nil {
		t.Fatal(refErr)
	}
	return ref
}

// runDirs lists the run directories under logdir, in name order.
func runDirs(logdir string) []string {
	ents, _ := os.ReadDir(logdir)
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(logdir, e.Name()))
		}
	}
	return dirs
}

// eventFiles lists the event files in dir, in name order.
func eventFiles(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	slices.Sort(m)
	return m
}

// finalCheckpoint loads the newest valid checkpoint of runDir and checks
// that it is the end of training. Invalid checkpoints are an error unless
// they are among the files a test damaged on purpose.
func finalCheckpoint(runDir string, damaged ...string) (*ckptpb.Checkpoint, error) {
	c, path, skipped, err := ckpt.Newest(runDir)
	if err != nil {
		return nil, fmt.Errorf("newest checkpoint in %s: %v", runDir, err)
	}
	for _, e := range skipped {
		var ce *ckpt.Error
		if !errors.As(e, &ce) || !slices.Contains(damaged, ce.Path) {
			return nil, fmt.Errorf("newest checkpoint in %s: skipped an invalid one: %v", runDir, e)
		}
	}
	if c.GetGlobalStep() != totalSteps || c.GetEpoch() != numEpochs || c.GetBatchInEpoch() != 0 {
		return nil, fmt.Errorf("%s: epoch %d step %d batch %d, want the end of training (epoch %d step %d batch 0)",
			path, c.GetEpoch(), c.GetGlobalStep(), c.GetBatchInEpoch(), numEpochs, totalSteps)
	}
	return c, nil
}

// series reads the run in runDir under both purge rules, with the tags of
// its hparams session directory hpRun (named by the final checkpoint) as
// "hparams/<tag>": the run's HParams row must be the reference run's too.
func series(logdir, runDir, hpRun string) (python, rust map[string][]tbwriter.Point, err error) {
	runs, err := tbwriter.ReadLogdir(logdir)
	if err != nil {
		return nil, nil, fmt.Errorf("ReadLogdir(%s): %v", logdir, err)
	}
	hpDir := filepath.Join(runDir, hpRun)
	found := false
	python, rust = map[string][]tbwriter.Point{}, map[string][]tbwriter.Point{}
	for _, r := range runs {
		if len(r.Files) == 0 {
			continue
		}
		prefix := ""
		switch d := filepath.Dir(r.Files[0]); {
		case d == runDir:
			found = true
		case hpRun != "" && d == hpDir:
			prefix = "hparams/"
		default:
			continue
		}
		if r.Err != nil && !errors.Is(r.Err, io.ErrUnexpectedEOF) {
			return nil, nil, fmt.Errorf("run %s: damage other than a torn tail: %v", filepath.Dir(r.Files[0]), r.Err)
		}
		for tag, pts := range r.Series(tbwriter.PythonPurge) {
			python[prefix+tag] = pts
		}
		for tag, pts := range r.Series(tbwriter.RustPurge) {
			rust[prefix+tag] = pts
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("ReadLogdir(%s): no run for %s", logdir, runDir)
	}
	if hpRun == "" || python["hparams/_hparams_/session_end_info"] == nil {
		return nil, nil, fmt.Errorf("%s: no hparams session end in %q", runDir, hpRun)
	}
	return python, rust, nil
}

// compareCheckpoints compares everything that shapes the next step, bit for
// bit: position, parameters, momentum buffers, schedule, RNG and the epoch
// metrics (except their wall-clock seconds).
func compareCheckpoints(got, want *ckptpb.Checkpoint) []string {
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	if got.GetEpoch() != want.GetEpoch() || got.GetGlobalStep() != want.GetGlobalStep() || got.GetBatchInEpoch() != want.GetBatchInEpoch() {
		add("position: epoch %d step %d batch %d, reference epoch %d step %d batch %d",
			got.GetEpoch(), got.GetGlobalStep(), got.GetBatchInEpoch(), want.GetEpoch(), want.GetGlobalStep(), want.GetBatchInEpoch())
	}
	probs = append(probs, ckpttest.Diff("param", got.GetParams(), want.GetParams())...)
	probs = append(probs, ckpttest.Diff("momentum", got.GetOptimizer().GetMomentumBuffer(), want.GetOptimizer().GetMomentumBuffer())...)
	if g, w := got.GetOptimizer().GetLr(), want.GetOptimizer().GetLr(); math.Float64bits(g) != math.Float64bits(w) {
		add("optimizer lr %v, reference %v", g, w)
	}
	if g, w := got.GetScheduler().GetLastEpoch(), want.GetScheduler().GetLastEpoch(); g != w {
		add("scheduler last_epoch %d, reference %d", g, w)
	}
	if g, w := got.GetRngState(), want.GetRngState(); string(g) != string(w) {
		add("rng_state %x, reference %x", g, w)
	}
	if g, w := math.Float64bits(got.GetEpochLossSum()), math.Float64bits(want.GetEpochLossSum()); g != w {
		add("epoch_loss_sum %v, reference %v", got.GetEpochLossSum(), want.GetEpochLossSum())
	}
	gh, wh := got.GetHistory(), want.GetHistory()
	if len(gh) != len(wh) {
		add("history: %d epochs, reference %d", len(gh), len(wh))
	} else {
		for i := range wh {
			g, w := gh[i], wh[i]
			if g.GetEpoch() != w.GetEpoch() || g.GetStep() != w.GetStep() ||
				math.Float64bits(g.GetTrainLoss()) != math.Float64bits(w.GetTrainLoss()) ||
				math.Float64bits(g.GetTestLoss()) != math.Float64bits(w.GetTestLoss()) ||
				math.Float64bits(g.GetTestAcc()) != math.Float64bits(w.GetTestAcc()) ||
				math.Float64bits(g.GetLr()) != math.Float64bits(w.GetLr()) {
				add("history[%d]: %v, reference %v", i, g, w)
			}
		}
	}
	return probs
}

// checkAgainstReference compares the finished run in runDir (under logdir)
// with the reference run: final checkpoint bit for bit, and every tag under
// both purge rules.
// Files in damaged were damaged by the test on purpose and may stay invalid.
func checkAgainstReference(t *testing.T, r *refRun, logdir, runDir, context string, skipValue func(tag string) bool, damaged ...string) {
	t.Helper()
	final, err := finalCheckpoint(runDir, damaged...)
	if err != nil {
		t.Fatalf("%s: %v", context, err)
	}
	for _, p := range compareCheckpoints(final, r.final) {
		t.Errorf("%s: final checkpoint: %s", context, p)
	}
	py, rs, err := series(logdir, runDir, final.GetHparamsRun())
	if err != nil {
		t.Fatalf("%s: %v", context, err)
	}
	for _, p := range compareSeries(py, r.python, skipValue) {
		t.Errorf("%s: PythonPurge: %s", context, p)
	}
	for _, p := range compareSeries(rs, r.rust, skipValue) {
		t.Errorf("%s: RustPurge: %s", context, p)
	}
	// The projector files, byte for byte: a session that redid the last
	// epoch replaced the entry, and no kill left half a file.
	pf, err := dirtest.ProjectorFiles(runDir)
	if err != nil {
		t.Errorf("%s: %v", context, err)
	}
	if g, w := slices.Sorted(maps.Keys(pf)), slices.Sorted(maps.Keys(r.projector)); !slices.Equal(g, w) {
		t.Errorf("%s: projector files %v, reference %v", context, g, w)
	}
	for name, w := range r.projector {
		if g, ok := pf[name]; ok && !bytes.Equal(g, w) {
			t.Errorf("%s: projector file %s differs from the reference run's", context, name)
		}
	}
	// The graph: every session that started at step 0 wrote it at step 0;
	// whichever a loader keeps is the reference's.
	gs, gsteps, err := graphsOf(runDir)
	if err != nil || len(gs) == 0 {
		t.Errorf("%s: %d graphs (%v), want at least 1", context, len(gs), err)
	}
	for i, g := range gs {
		if gsteps[i] != 0 || !proto.Equal(g, r.graph) {
			t.Errorf("%s: graph %d (step %d) differs from the reference run's", context, i, gsteps[i])
		}
	}
}

// newestValid returns the newest checkpoint under logdir that verifies,
// across all run directories (what --resume latest must pick).
func newestValid(logdir string) (step int64, path string, ok bool) {
	step = -1
	for _, d := range runDirs(logdir) {
		c, p, _, err := ckpt.Newest(d)
		if err != nil {
			continue
		}
		if c.GetGlobalStep() > step {
			step, path, ok = c.GetGlobalStep(), p, true
		}
	}
	return step, path, ok
}

// dirState classifies the files of a run directory.
type dirState struct {
	checkpoints []string // files ckpt.List reports
	events      []string
	aside       []string // checkpoints of abandoned timelines, set aside
	hparams     []string // hparams session directories
	lock        bool     // the run directory's lock file exists
	projector   []string // projector_config.pbtxt and the files under the embedding directories (<step>/<tag>/)
	others      []string // anything else: temp files of interrupted commits (checkpoints, projector files), an unfinished set-aside's record
}

func stateOf(dir string) (dirState, error) {
	var s dirState
	ents, err := os.ReadDir(dir)
	if err != nil {
		return s, err
	}
	list, err := ckpt.List(dir)
	if err != nil {
		return s, fmt.Errorf("ckpt.List(%s): %v", dir, err)
	}
	listed := map[string]bool{}
	for _, e := range list {
		listed[filepath.Base(e.Path)] = true
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case listed[name]:
			s.checkpoints = append(s.checkpoints, filepath.Join(dir, name))
		case strings.HasPrefix(name, "events.out.tfevents."):
			s.events = append(s.events, filepath.Join(dir, name))
		case strings.Contains(name, ".ckpt.abandoned"):
			s.aside = append(s.aside, filepath.Join(dir, name))
		case name == trainer.LockName:
			s.lock = true
		case e.IsDir() && strings.HasPrefix(name, trainer.HParamsRunPrefix):
			s.hparams = append(s.hparams, filepath.Join(dir, name))
		case name == tbwriter.ProjectorConfigFile:
			s.projector = append(s.projector, filepath.Join(dir, name))
		case e.IsDir() && isStepDir(name):
			// An embedding directory: its files are the projector's,
			// except temp files (names starting with a dot) of a write
			// that was cut short.
			err := filepath.WalkDir(filepath.Join(dir, name), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				if strings.HasPrefix(d.Name(), ".") {
					s.others = append(s.others, p)
				} else {
					s.projector = append(s.projector, p)
				}
				return nil
			})
			if err != nil {
				return s, err
			}
		default:
			s.others = append(s.others, filepath.Join(dir, name))
		}
	}
	return s, nil
}

// isStepDir reports whether name is that of an embedding directory: the
// step, zero-padded to 5 digits (tbwriter.EmbeddingDir).
func isStepDir(name string) bool {
	if len(name) < 5 {
		return false
	}
	for _, r := range name {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// graphsOf returns the graphs of every graph event in the event files of
// runDir (torn tails are tolerated), with their steps.
func graphsOf(runDir string) ([]*tbpb.GraphDef, []int64, error) {
	var gs []*tbpb.GraphDef
	var steps []int64
	for _, f := range eventFiles(runDir) {
		evs, err := tbwriter.ReadFile(f)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, err
		}
		for _, ev := range evs {
			if g, ok := tbwriter.GraphOf(ev); ok {
				gs = append(gs, g)
				steps = append(steps, ev.GetStep())
			}
		}
	}
	return gs, steps, nil
}

// sessionStart returns the step of the SessionLog START event of an event
// file (where the session that wrote it started logging).
func sessionStart(path string) (int64, error) {
	evs, err := tbwriter.ReadFile(path)
	for _, ev := range evs {
		if ev.GetSessionLog().GetStatus() == tbpb.SessionLog_START {
			return ev.GetStep(), nil
		}
	}
	if err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: %w among %d events", path, errNoStart, len(evs))
}

var errNoStart = errors.New("no SessionLog START event")
