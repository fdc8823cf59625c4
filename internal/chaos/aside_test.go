//go:build unix

package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/ckpt"
)

// TestSetAsideKill resumes a finished run from its oldest checkpoint (a user
// going back) and SIGKILLs the session inside its set-aside: after the k-th
// rename of the newer checkpoints (k = 1, 2, 3 of 4), at a random moment
// before the next. After each kill, the newest checkpoint that --resume DIR or
// latest would pick must be the one resumed from, never one of the abandoned
// timeline; --resume latest then finishes the set-aside, trains on and must
// reproduce the reference run bit for bit.
func TestSetAsideKill(t *testing.T) {
	r := reference(t)
	if !r.markers {
		t.Skip("cmd/train prints no test markers: kills cannot be aimed into the set-aside")
	}
	bin := buildCmd(t, trainPkg)
	seed := chaosSeed(t)
	rng := newRand(seed ^ 0x6173696465) // "aside"
	// One finished run, copied for each case.
	finished := t.TempDir()
	run := func(t *testing.T, logdir string, args ...string) string {
		c, err := startChild(bin, append(append(slices.Clone(tinyArgs), args...), "--logdir", logdir), hookEnv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.wait(sessionTimeout); err != nil {
			t.Fatalf("seed %d: train %v: %v\n%s", seed, args, err, tail(c.output(), 30))
		}
		return c.output()
	}
	run(t, finished)
	dirs := runDirs(finished)
	if len(dirs) != 1 {
		t.Fatalf("%d run directories", len(dirs))
	}
	for k := 1; k <= 3; k++ {
		t.Run(fmt.Sprint("after rename ", k), func(t *testing.T) {
			logdir := t.TempDir()
			runDir := filepath.Join(logdir, filepath.Base(dirs[0]))
			if err := os.CopyFS(runDir, os.DirFS(dirs[0])); err != nil {
				t.Fatal(err)
			}
			list, err := ckpt.List(runDir)
			if err != nil || len(list) != 5 { // --keep 5
				t.Fatalf("seed %d: %d checkpoints after the first run (%v), want 5", seed, len(list), err)
			}
			oldest := list[0]
			abandoned := map[string]int64{}
			for _, e := range list[1:] {
				abandoned[e.Path] = e.UnixNano
			}
			c, err := startChild(bin, []string{"--resume", oldest.Path, "--logdir", logdir}, hookEnv, nil)
			if err != nil {
				t.Fatal(err)
			}
			idx := 0
			for i := 0; i < k; i++ {
				var ok bool
				if _, idx, ok = c.waitMarker(idx, "setaside ", sessionTimeout); !ok {
					t.Fatalf("seed %d: no set-aside rename %d:\n%s", seed, i+1, tail(c.output(), 30))
				}
			}
			time.Sleep(time.Duration(rng.Float64() * float64(commitDelay)))
			if !c.signal(syscall.SIGKILL) {
				t.Fatalf("seed %d: the session ended before the kill:\n%s", seed, tail(c.output(), 30))
			}
			_ = c.wait(sessionTimeout)
			ms, _ := c.markersSince(0)
			renamed := 0
			for _, m := range ms {
				if strings.HasPrefix(m, "setaside ") {
					renamed++
				}
			}
			if renamed < 4 { // the kill landed inside the set-aside
				if _, err := os.Stat(filepath.Join(runDir, ckpt.AsideRecord)); err != nil {
					t.Errorf("seed %d: killed after %d of 4 renames, but no set-aside record: %v", seed, renamed, err)
				}
			}
			var st chaosStats
			checkAside(func(f string, a ...any) { t.Fatalf("seed %d: "+f, append([]any{seed}, a...)...) }, runDir, abandoned, &st)
			_, p, _, err := ckpt.Newest(runDir)
			if err != nil || (renamed < 4 && p != oldest.Path) {
				t.Errorf("seed %d: killed after %d renames: --resume %s picks %s, %v; want %s", seed, renamed, runDir, p, err, oldest.Path)
			}
			out := run(t, logdir, "--resume", "latest")
			if m := resumedFrom.FindStringSubmatch(out); m == nil || (renamed < 4 && m[1] != oldest.Path) {
				t.Errorf("seed %d: --resume latest after the kill resumed from %v, want %s", seed, m, oldest.Path)
			}
			s, err := stateOf(runDir)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.aside) != 4 || len(s.others) != 0 {
				t.Errorf("seed %d: after the run finished: set aside %v, other files %v; want the 4 newer checkpoints set aside and no record",
					seed, s.aside, s.others)
			}
			checkAgainstReference(t, r, logdir, runDir, fmt.Sprintf("seed %d", seed), nil)
		})
	}
}
