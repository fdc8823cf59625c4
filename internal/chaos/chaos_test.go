//go:build unix

package chaos

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// resumedFrom matches cmd/train's "resuming <dir> from <path>: epoch ..." line.
var resumedFrom = regexp.MustCompile(`resuming \S+ from (\S+): epoch`)

// chaosStats are the figures TestChaosKill reports.
type chaosStats struct {
	rounds, sessions, fresh, resumes int
	kills                            int // SIGKILLs that hit a live process
	aimedCommit, aimedFlush          int // kills aimed at a commit / flush window (markers)
	aimedPrune                       int // kills aimed just after a commit, at the pruning
	aimedProjector                   int // kills aimed at the end of the last epoch (test pass, projector files, commit)
	projectorTemp                    int // kills after which a temp file of a projector file was on disk
	inCommit, inFlush                int // kills that landed inside one (markers)
	tempLeft                         int // kills after which a temp file was on disk
	tornTail                         int // kills after which an event file ended in a torn record
	startedWithTemp                  int // sessions that resumed beside stale temp files
	skippedReported                  int // sessions whose output mentions skipping a checkpoint
	orphanDirs                       int // run dirs of fresh sessions killed before their first checkpoint
	decoys                           int // valid-but-wrong checkpoints planted under a temp file name
	keepChanged                      int // sessions resumed with another --keep (1..3)
	byDir, byPath                    int // sessions resumed with --resume <run dir> / <file> instead of latest
	older                            int // sessions resumed from an older checkpoint (a new timeline: set-aside)
	aimedAside                       int // kills aimed into a set-aside (after its first rename)
	asideHalfDone                    int // kills that left a set-aside half done (its record on disk)
	saveEvery, keepBest              int // sessions resumed with --save-every / --keep-best
}

func (s chaosStats) String() string {
	return fmt.Sprintf("rounds %d, sessions %d (fresh %d, resumed %d); SIGKILLs %d (aimed at commit %d, at flush %d, at prune %d, at the last epoch's end %d; landed in commit %d, in flush %d); "+
		"kills leaving a temp file %d (of a projector file %d), leaving a torn event tail %d; sessions resuming beside stale temp files %d; "+
		"sessions reporting a skipped checkpoint %d; orphan run dirs %d; decoy temp checkpoints planted %d; sessions resumed with --keep 1..3: %d; resumed by run dir %d, by file %d (the rest by latest); "+
		"resumed from an older checkpoint %d (kills aimed into the set-aside %d, leaving it half done %d); with --save-every %d, with --keep-best %d",
		s.rounds, s.sessions, s.fresh, s.resumes, s.kills, s.aimedCommit, s.aimedFlush, s.aimedPrune, s.aimedProjector, s.inCommit, s.inFlush,
		s.tempLeft, s.projectorTemp, s.tornTail, s.startedWithTemp, s.skippedReported, s.orphanDirs, s.decoys, s.keepChanged, s.byDir, s.byPath,
		s.older, s.aimedAside, s.asideHalfDone, s.saveEvery, s.keepBest)
}

// TestChaosKill: SIGKILL cmd/train at random moments
// (some aimed inside checkpoint commits, event flushes and the pruning after
// a commit), resume with --resume latest until it completes, and compare with
// the reference run. A round is one such run from scratch to completion;
// rounds repeat until the planned number of kills is reached.
func TestChaosKill(t *testing.T) {
	r := reference(t)
	bin := buildCmd(t, trainPkg)
	seed := chaosSeed(t)
	kills := killTarget(t)
	rng := newRand(seed)
	t.Logf("seed %d (replay with TBTRAIN_CHAOS_SEED=%d), %d kills, reference run %v, markers %v", seed, seed, kills, r.dur.Round(time.Millisecond), r.markers)
	var st chaosStats
	for round := 1; round == 1 || st.kills < kills; round++ {
		if round > kills+1 {
			t.Fatalf("seed %d: only %d kills in %d rounds", seed, st.kills, round-1)
		}
		if !t.Run(fmt.Sprintf("round-%d", round), func(t *testing.T) { chaosRound(t, r, bin, rng, seed, kills, &st) }) {
			break
		}
		st.rounds++
	}
	t.Logf("seed %d: %v", seed, st)
}

// chaosRound runs the tiny configuration from scratch to completion in a
// new logdir, SIGKILLing sessions while st.kills < kills, and checks the
// result against the reference run.
func chaosRound(t *testing.T, r *refRun, bin string, rng *rand.Rand, seed uint64, kills int, st *chaosStats) {
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("seed %d: "+format, append([]any{seed}, a...)...)
	}
	logdir := t.TempDir()
	maxSessions := 4*kills + 20
	fresh := 0
	planted := false // a decoy temp file was planted in this round
	for session := 1; ; session++ {
		st.sessions++
		if session > maxSessions {
			fail("no completion after %d sessions: %v", maxSessions, st)
		}
		wantStep, wantPath, resume := newestValid(logdir)
		args := slices.Clone(tinyArgs)
		// abandoned are the checkpoints (path -> commit time) a session
		// resumed from an older checkpoint must set aside.
		var abandoned map[string]int64
		if resume && rng.IntN(5) == 0 {
			if p, s, ab := olderCheckpoint(rng, filepath.Dir(wantPath)); p != "" {
				wantPath, wantStep, abandoned = p, s, ab
			}
		}
		if resume {
			st.resumes++
			// The three ways to name what to resume must agree.
			switch k := rng.IntN(4); {
			case abandoned != nil:
				args = []string{"--resume", wantPath}
				st.older++
			case k == 0:
				args = []string{"--resume", filepath.Dir(wantPath)}
				st.byDir++
			case k == 1:
				args = []string{"--resume", wantPath}
				st.byPath++
			default:
				args = []string{"--resume", "latest"}
			}
			// Flags that may change on resume and do not change the
			// numbers: vary them, so pruning (down to one checkpoint) and
			// commits at other steps are killed too.
			if rng.IntN(2) == 0 {
				args = append(args, "--keep", fmt.Sprint(1+rng.IntN(3)))
				st.keepChanged++
			}
			if rng.IntN(2) == 0 {
				args = append(args, "--save-every-steps", fmt.Sprint([]int{3, 5, 7, 11}[rng.IntN(4)]))
			}
			// Time-based commits and best-checkpoint retention: more
			// commits and pruning at other moments to kill.
			if rng.IntN(3) == 0 {
				args = append(args, "--save-every", []string{"20ms", "50ms"}[rng.IntN(2)])
				st.saveEvery++
			}
			if rng.IntN(3) == 0 {
				args = append(args, "--keep-best", fmt.Sprint(1+rng.IntN(2)))
				st.keepBest++
			}
		} else {
			st.fresh++
			fresh++
			if fresh > 1 {
				// The last fresh session died before its step-0
				// checkpoint; its run dir holds no checkpoint.
				st.orphanDirs++
			}
		}
		args = append(args, "--logdir", logdir)
		before := map[string]bool{} // event and temp files present before this session
		withTemp := false
		for _, d := range runDirs(logdir) {
			s, err := stateOf(d)
			if err != nil {
				fail("%v", err)
			}
			// Count stale temp files where the session will resume (an
			// orphan run dir keeps its own: nothing resumes there).
			withTemp = withTemp || (resume && d == filepath.Dir(wantPath) && len(s.others) > 0)
			for _, e := range append(s.events, s.others...) {
				before[e] = true
			}
		}
		if withTemp {
			st.startedWithTemp++
		}
		env := append(slices.Clone(hookEnv), fmt.Sprintf("GOMAXPROCS=%d", 1+rng.IntN(2)))
		c, err := startChild(bin, args, env, nil)
		if err != nil {
			fail("%v", err)
		}

		sent := false
		if st.kills < kills {
			plan := "time"
			if r.markers {
				plan = []string{"time", "commit", "flush", "prune", "projector"}[rng.IntN(5)]
				if abandoned != nil && rng.IntN(2) == 0 {
					plan = "setaside"
				}
			}
			switch plan {
			case "setaside":
				// After the first rename, while the others wait their
				// turn (the commit delay separates them).
				if _, _, ok := c.waitMarker(0, "setaside", sessionTimeout); ok {
					st.aimedAside++
					time.Sleep(time.Duration(rng.Float64() * float64(commitDelay) * float64(len(abandoned))))
				}
			case "time":
				// Uniform over the expected life of this session.
				left := float64(totalSteps-max(wantStep, 0)) / totalSteps
				time.Sleep(time.Duration(rng.Float64() * left * float64(r.dur)))
			case "projector":
				// After the last step: the test pass, the projector
				// files (written before the epoch's commit), the commit.
				if _, _, ok := c.waitMarker(0, fmt.Sprintf("step %d", totalSteps), sessionTimeout); ok {
					st.aimedProjector++
					time.Sleep(time.Duration(rng.Float64() * float64(projectorWindow)))
				}
			case "prune":
				// Right after a commit, while old checkpoints are pruned.
				if _, _, ok := c.waitMarker(0, "commit-end", sessionTimeout); ok {
					st.aimedPrune++
					time.Sleep(time.Duration(rng.Float64() * float64(time.Millisecond)))
				}
			case "commit", "flush":
				// Skip a random number of windows, then kill inside one.
				n := 1 + rng.IntN(2)
				idx := 0
				ok := true
				for range n {
					if _, idx, ok = c.waitMarker(idx, plan+"-begin", sessionTimeout); !ok {
						break
					}
				}
				if ok {
					if plan == "commit" {
						st.aimedCommit++
						time.Sleep(time.Duration(rng.Float64() * float64(commitDelay)))
					} else {
						st.aimedFlush++
						time.Sleep(time.Duration(rng.Float64() * float64(flushDelay)))
					}
				}
			}
			sent = c.signal(syscall.SIGKILL)
		}
		werr := c.wait(sessionTimeout)
		es, err := statusOf(werr)
		if err != nil {
			fail("session %d (%v): %v", session, args, err)
		}
		out := c.output()
		if strings.Contains(out, "skipping checkpoint") {
			st.skippedReported++
		}
		// cmd/train says where it resumed: it must be the newest valid checkpoint.
		if m := resumedFrom.FindStringSubmatch(out); resume && m != nil && m[1] != wantPath {
			fail("session %d resumed from %s, want the newest valid checkpoint %s", session, m[1], wantPath)
		}

		// Which event files did this session create, and where did they start?
		var created []string
		for _, d := range runDirs(logdir) {
			for _, e := range eventFiles(d) {
				if !before[e] {
					created = append(created, e)
				}
			}
		}
		if len(created) > 1 {
			fail("session %d created %d event files, want at most 1: %v", session, len(created), created)
		}
		for _, e := range created {
			start, err := sessionStart(e)
			// A kill while the file header was being written leaves an
			// empty or torn file without its START event.
			if err != nil && !(es.signal == syscall.SIGKILL && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errNoStart))) {
				fail("session %d: %v", session, err)
			}
			if err == nil {
				// Step 0 (a new run, or a resume from the step-0
				// checkpoint) starts at 0 and logs the step-0 tags again;
				// a resume from step g > 0 starts at g+1.
				want := wantStep + 1
				if !resume || wantStep == 0 {
					want = 0
				}
				if start != want {
					fail("session %d: event file %s starts at step %d, want %d (newest valid checkpoint before it: %q step %d)\n%s",
						session, e, start, want, wantPath, wantStep, tail(out, 30))
				}
				if resume && filepath.Dir(e) != filepath.Dir(wantPath) {
					fail("session %d resumed %s but wrote its events to %s", session, wantPath, filepath.Dir(e))
				}
			}
		}
		if ms, _ := c.markersSince(0); r.markers {
			for _, m := range ms {
				if strings.HasPrefix(m, "resume ") && resume && m != fmt.Sprintf("resume %s step %d", wantPath, wantStep) {
					fail("session %d: marker %q, want the newest valid checkpoint %s (step %d)", session, m, wantPath, wantStep)
				}
				if m == "fresh" && resume {
					fail("session %d started a fresh run although %s was valid", session, wantPath)
				}
			}
		}

		switch {
		case es.signal == syscall.SIGKILL && sent:
			st.kills++
			// Progress never goes backwards: the newest valid checkpoint
			// survives every kill (pruning never deletes it).
			if gotStep, gotPath, ok := newestValid(logdir); resume && (!ok || gotStep < wantStep) {
				fail("after kill %d the newest valid checkpoint is %q (step %d, found %v); before the session it was %s (step %d)",
					st.kills, gotPath, gotStep, ok, wantPath, wantStep)
			}
			if abandoned != nil {
				checkAside(fail, filepath.Dir(wantPath), abandoned, st)
			}
			ms, _ := c.markersSince(0)
			inC, inF := openWindow(ms)
			if inC {
				st.inCommit++
			}
			if inF {
				st.inFlush++
			}
			temp, torn, projTemp := false, false, false
			for _, d := range runDirs(logdir) {
				s, err := stateOf(d)
				if err != nil {
					fail("%v", err)
				}
				for _, o := range s.others {
					if !before[o] {
						temp = true
						projTemp = projTemp || isProjectorTemp(o)
					}
				}
				for _, e := range s.events {
					if _, err := tbwriter.ReadFile(e); err != nil {
						if !errors.Is(err, io.ErrUnexpectedEOF) {
							fail("after kill %d: %s is damaged beyond a torn tail: %v", st.kills, e, err)
						}
						if !before[e] {
							torn = true
						}
					}
				}
				// Every checkpoint that looks valid must verify.
				for _, p := range s.checkpoints {
					if _, err := ckpt.Load(p); err != nil {
						fail("after kill %d: a committed checkpoint does not load: %v", st.kills, err)
					}
				}
			}
			if temp {
				st.tempLeft++
			}
			if projTemp {
				st.projectorTemp++
			}
			if torn {
				st.tornTail++
			}
			if !planted {
				planted = plantDecoy(t, logdir)
				if planted {
					st.decoys++
				}
			}
			continue
		case es.code == 0 && es.signal == 0:
		default:
			fail("session %d (%v) ended with %+v without being killed by the test:\n%s", session, args, es, tail(out, 40))
		}
		break
	}

	// The run completed. Find the run dir with the checkpoints.
	var runDir string
	for _, d := range runDirs(logdir) {
		s, err := stateOf(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.checkpoints) > 0 {
			if runDir != "" {
				fail("checkpoints in two run dirs: %s and %s", runDir, d)
			}
			runDir = d
		}
		for _, p := range s.checkpoints {
			if _, err := ckpt.Load(p); err != nil {
				t.Errorf("seed %d: checkpoint left on disk does not verify: %v", seed, err)
			}
		}
		switch {
		case d == runDir && len(s.others) > 0:
			t.Errorf("seed %d: stale files left in %s after the run completed: %v", seed, d, s.others)
		case d != runDir:
			// An orphan: a fresh session died before its step-0 commit
			// completed. Nothing resumes there, so nothing cleans it; but
			// the step-0 commit precedes the first event file, so
			// TensorBoard has no run to show for it.
			if len(s.events) > 0 {
				t.Errorf("seed %d: orphan run dir %s (no checkpoint) holds event files %v", seed, filepath.Base(d), s.events)
			}
			t.Logf("orphan run dir %s holds stale files %v", filepath.Base(d), s.others)
		}
	}
	if runDir == "" {
		fail("no run dir with checkpoints in %s", logdir)
	}
	// Every session of the round continued the one run: one run ID.
	if list, err := ckpt.List(runDir); err == nil && len(list) > 0 {
		id := list[len(list)-1].RunID
		for _, e := range list {
			if e.Valid() && (e.RunID != id || len(id) != 32) {
				fail("%s has run ID %q, the newest checkpoint %q: want one 32-digit ID for the whole run", e.Path, e.RunID, id)
			}
		}
	}
	checkAgainstReference(t, r, logdir, runDir, fmt.Sprintf("seed %d", seed), nil)
	t.Logf("seed %d: after this round: %v", seed, st)
	if st.skippedReported > 0 {
		t.Errorf("seed %d: %d sessions reported skipping a checkpoint; SIGKILL must never leave an invalid committed checkpoint", seed, st.skippedReported)
	}
}

// projectorWindow is how long after the last step a kill aimed at the
// projector may come: the tiny run's test pass and projector files take a
// few milliseconds to tens of them (fsyncs), the commit follows.
const projectorWindow = 80 * time.Millisecond

// isProjectorTemp reports whether path is a temp file of a projector file:
// a dot file in an embedding directory or beside projector_config.pbtxt.
func isProjectorTemp(path string) bool {
	base := filepath.Base(path)
	return strings.HasPrefix(base, ".") &&
		(strings.HasPrefix(base, "."+tbwriter.ProjectorConfigFile) || isStepDir(filepath.Base(filepath.Dir(filepath.Dir(path)))))
}

// plantDecoy puts a checkpoint that verifies but must never be used into the
// run directory of the newest valid checkpoint, under the name of a stale
// temp file of an interrupted commit of a later epoch: it claims the end of
// training with zeroed weights. If a session resumed from it, the run would
// end with the wrong weights; List must ignore it and a resume must remove
// it. It reports whether it planted one.
func plantDecoy(t *testing.T, logdir string) bool {
	t.Helper()
	_, path, ok := newestValid(logdir)
	if !ok {
		return false
	}
	c, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Epoch, c.GlobalStep, c.BatchInEpoch = numEpochs, totalSteps, 0
	for _, p := range c.GetParams() {
		clear(p.Data)
	}
	scratch := filepath.Join(t.TempDir(), fmt.Sprintf("LenetMnist%d.ckpt", numEpochs-1))
	if err := ckpt.Save(scratch, c); err != nil {
		t.Fatal(err)
	}
	decoy := filepath.Join(filepath.Dir(path), fmt.Sprintf(".LenetMnist%d.ckpt.tmp-424242", numEpochs-1))
	b, err := os.ReadFile(scratch)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(decoy, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ckpt.Load(decoy); err != nil {
		t.Fatalf("the decoy does not verify, so it proves nothing: %v", err)
	}
	return true
}

// olderCheckpoint picks at random a valid checkpoint of runDir older than its
// newest (by step), to resume from as a user going back would. It returns
// its path and step, and the checkpoints the session must then set aside
// (those with a higher step, with their commit times); "" if there is no
// older checkpoint.
func olderCheckpoint(rng *rand.Rand, runDir string) (string, int64, map[string]int64) {
	list, err := ckpt.List(runDir)
	if err != nil {
		return "", 0, nil
	}
	var valid []ckpt.Entry
	for _, e := range list {
		if e.Valid() && !e.Aside {
			valid = append(valid, e)
		}
	}
	if len(valid) < 2 || valid[0].Step == valid[len(valid)-1].Step {
		return "", 0, nil
	}
	var older []ckpt.Entry
	for _, e := range valid {
		if e.Step < valid[len(valid)-1].Step {
			older = append(older, e)
		}
	}
	pick := older[rng.IntN(len(older))]
	abandoned := map[string]int64{}
	for _, e := range valid {
		if e.Step > pick.Step {
			abandoned[e.Path] = e.UnixNano
		}
	}
	return pick.Path, pick.Step, abandoned
}

// checkAside checks the run directory after a kill in a session that
// resumed from an older checkpoint: once the set-aside has begun (its record
// is on disk or a file has been renamed), no checkpoint of the abandoned
// timeline may be what --resume DIR or latest picks.
func checkAside(fail func(string, ...any), runDir string, abandoned map[string]int64, st *chaosStats) {
	_, recErr := os.Stat(filepath.Join(runDir, ckpt.AsideRecord))
	begun := recErr == nil
	if begun {
		st.asideHalfDone++
	}
	for p := range abandoned {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			begun = true
		}
	}
	if !begun {
		return // killed before the decision was recorded: nothing changed
	}
	c, p, _, err := ckpt.Newest(runDir)
	if err != nil {
		fail("after a kill in a set-aside: %v", err)
	}
	if t, ok := abandoned[p]; ok && t == c.GetUnixNano() {
		fail("after a kill in a set-aside, the newest checkpoint is %s (step %d) of the abandoned timeline", p, c.GetGlobalStep())
	}
}
