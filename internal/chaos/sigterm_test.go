//go:build unix

package chaos

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/ckpt"
)

// resumeArg finds the path after "--resume" in the child's resume
// instructions.
var resumeArg = regexp.MustCompile(`--resume[ =]+("[^"]+"|'[^']+'|\S+)`)

// TestSigtermResume is cmd/train's signal promise, checked from outside: a
// SIGTERM or SIGINT mid-epoch gives a mid-epoch checkpoint, a non-zero exit
// and resume instructions; following them reproduces the reference run bit
// for bit. A second SIGINT right after the first kills at once (the default
// action); --resume latest must still be bit-exact.
func TestSigtermResume(t *testing.T) {
	r := reference(t)
	bin := buildCmd(t, trainPkg)
	seed := chaosSeed(t)
	rng := newRand(seed ^ 0x7465726d) // "term"
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		twice bool
	}{{"SIGTERM", syscall.SIGTERM, false}, {"SIGINT", syscall.SIGINT, false}, {"SIGINT-twice", syscall.SIGINT, true}} {
		t.Run(tc.name, func(t *testing.T) { signalResume(t, r, bin, seed, rng, tc.sig, tc.twice) })
	}
}

func signalResume(t *testing.T, r *refRun, bin string, seed uint64, rng *rand.Rand, sig syscall.Signal, twice bool) {
	logdir := t.TempDir()
	// The child sleeps after each step, and the aim leaves at least
	// signalSlack steps before the epoch ends: the signal must land inside
	// the epoch even when a loaded machine delays reading the marker and
	// delivering the signal by a few hundred milliseconds (without the
	// sleep, a signal aimed two steps before the end was once handled only
	// after the epoch's last step). The sleep changes no bits.
	const signalSlack = 8
	env := append(slices.Clone(hookEnv), "TBTRAIN_TEST_STEP_DELAY=30ms")
	c, err := startChild(bin, append(slices.Clone(tinyArgs), "--logdir", logdir), env, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Aim at a step strictly inside the second epoch.
	target := stepsPerEpoch + 1 + rng.IntN(stepsPerEpoch-1-signalSlack)
	aimed := false
	if r.markers {
		idx := 0
		for {
			var m string
			var ok bool
			if m, idx, ok = c.waitMarker(idx, "step ", sessionTimeout); !ok {
				t.Fatalf("seed %d: no marker for step %d before the child ended:\n%s", seed, target, tail(c.output(), 30))
			}
			if n, err := strconv.Atoi(strings.Fields(strings.TrimPrefix(m, "step "))[0]); err == nil && n >= target {
				aimed = true
				break
			}
		}
	} else {
		time.Sleep(time.Duration((0.3 + 0.4*rng.Float64()) * float64(r.dur)))
	}
	if twice {
		if !c.signal(sig) {
			t.Fatalf("seed %d: the child ended before the first %v:\n%s", seed, sig, tail(c.output(), 30))
		}
		time.Sleep(time.Duration(rng.Float64() * float64(2*time.Millisecond)))
		c.signal(sig)
		es, err := statusOf(c.wait(sessionTimeout))
		if err != nil {
			t.Fatal(err)
		}
		out := c.output()
		// Either the second signal killed it, or the first one's orderly
		// stop finished before the second arrived.
		if es != (exitStatus{code: -1, signal: sig}) && es.code != 130 {
			t.Fatalf("seed %d: after two %vs the child ended with %+v:\n%s", seed, sig, es, tail(out, 30))
		}
		t.Logf("seed %d: two %vs at step >= %d: %+v", seed, sig, target, es)
		c2, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir}, hookEnv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if es, err := statusOf(c2.wait(sessionTimeout)); err != nil || es != (exitStatus{}) {
			t.Fatalf("seed %d: --resume latest: %+v %v\n%s", seed, es, err, tail(c2.output(), 30))
		}
		dirs := runDirs(logdir)
		if len(dirs) != 1 {
			t.Fatalf("seed %d: %d run dirs after the resume, want 1: %v", seed, len(dirs), dirs)
		}
		checkAgainstReference(t, r, logdir, dirs[0], fmt.Sprintf("seed %d, two %vs", seed, sig), nil)
		return
	}
	if !c.signal(sig) {
		t.Fatalf("seed %d: the child ended before %v:\n%s", seed, sig, tail(c.output(), 30))
	}
	es, err := statusOf(c.wait(sessionTimeout))
	if err != nil {
		t.Fatal(err)
	}
	out := c.output()
	if es.signal != 0 || es.code == 0 {
		t.Fatalf("seed %d: after %v the child ended with %+v, want a non-zero exit code:\n%s", seed, sig, es, tail(out, 30))
	}
	if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
		t.Fatalf("seed %d: the child panicked on a signal:\n%s", seed, tail(out, 40))
	}
	m := resumeArg.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("seed %d: no resume instructions (--resume ...) in the output:\n%s", seed, tail(out, 30))
	}
	path := strings.Trim(m[1], `"'`)
	cp, err := ckpt.Load(path)
	if err != nil {
		t.Fatalf("seed %d: the checkpoint named in the resume instructions does not load: %v", seed, err)
	}
	newestStep, newestPath, _ := newestValid(logdir)
	if newestPath != path || newestStep != cp.GetGlobalStep() {
		t.Errorf("seed %d: resume instructions name %s (step %d), but the newest valid checkpoint is %s (step %d)",
			seed, path, cp.GetGlobalStep(), newestPath, newestStep)
	}
	t.Logf("seed %d: %v aimed at step %d (markers %v); the child stopped with exit code %d and checkpoint %s at epoch %d step %d batch %d",
		seed, sig, target, aimed, es.code, path, cp.GetEpoch(), cp.GetGlobalStep(), cp.GetBatchInEpoch())
	if aimed {
		if cp.GetBatchInEpoch() == 0 || cp.GetGlobalStep() < int64(target) || cp.GetGlobalStep() >= 2*stepsPerEpoch {
			t.Errorf("seed %d: %v at step >= %d gave a checkpoint at epoch %d step %d batch %d, want a mid-epoch one in epoch 1 at step >= %d",
				seed, sig, target, cp.GetEpoch(), cp.GetGlobalStep(), cp.GetBatchInEpoch(), target)
		}
	} else if cp.GetBatchInEpoch() == 0 && cp.GetGlobalStep()%stepsPerEpoch != 0 {
		t.Errorf("seed %d: checkpoint at step %d has batch_in_epoch 0 but is not at an epoch boundary", seed, cp.GetGlobalStep())
	}
	if want := cp.GetGlobalStep() - cp.GetEpoch()*stepsPerEpoch; cp.GetBatchInEpoch() != want {
		t.Errorf("seed %d: checkpoint epoch %d step %d batch %d: batch should be %d", seed, cp.GetEpoch(), cp.GetGlobalStep(), cp.GetBatchInEpoch(), want)
	}

	// Follow the instructions: resume by path.
	c2, err := startChild(bin, []string{"--resume", path}, hookEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	es, err = statusOf(c2.wait(sessionTimeout))
	if err != nil || es != (exitStatus{}) {
		t.Fatalf("seed %d: resume --resume %s: %+v %v\n%s", seed, path, es, err, tail(c2.output(), 30))
	}
	dirs := runDirs(logdir)
	if len(dirs) != 1 {
		t.Fatalf("seed %d: %d run dirs after the resume, want 1: %v", seed, len(dirs), dirs)
	}
	checkAgainstReference(t, r, logdir, dirs[0], fmt.Sprintf("seed %d, %v at step %d", seed, sig, cp.GetGlobalStep()), nil)
}
