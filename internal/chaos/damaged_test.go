//go:build unix

package chaos

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/dirtest"
)

// TestResumeSkipsDamaged checks --resume's fallback rule from outside, with
// damage a crash cannot cause (SIGKILL never tears a committed file) but a
// disk or a user can: the newest checkpoints of a stopped run are damaged
// (a flipped byte; a truncated file under the next epoch-end name). Naming
// one explicitly is an error that names the file; --resume latest skips them
// with a warning, resumes from the newest good one, and still reproduces the
// reference run bit for bit.
func TestResumeSkipsDamaged(t *testing.T) {
	r := reference(t)
	if !r.markers {
		t.Skip("cmd/train prints no test markers: cannot stop it at a known step")
	}
	bin := buildCmd(t, trainPkg)
	logdir := t.TempDir()
	c, err := startChild(bin, append(slices.Clone(tinyArgs), "--logdir", logdir), hookEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.waitMarker(0, "step 20", sessionTimeout); !ok {
		t.Fatalf("no marker for step 20:\n%s", tail(c.output(), 30))
	}
	c.signal(syscall.SIGTERM)
	if es, err := statusOf(c.wait(sessionTimeout)); err != nil || es.code == 0 {
		t.Fatalf("SIGTERM: %+v %v\n%s", es, err, tail(c.output(), 30))
	}
	goodStep, good, ok := newestValid(logdir)
	if !ok {
		t.Fatal("no valid checkpoint after SIGTERM")
	}
	runDir := filepath.Dir(good)
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// Damaged files that sort after the good one: a later step and the
	// epoch-end name, both with a newer modification time.
	flipped := filepath.Join(runDir, "LenetMnist0-step39.ckpt")
	fb := slices.Clone(b)
	fb[len(fb)/2] ^= 0x20
	truncated := filepath.Join(runDir, "LenetMnist0.ckpt")
	later := time.Now().Add(time.Hour)
	for p, data := range map[string][]byte{flipped: fb, truncated: b[:len(b)/2]} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}

	// Named explicitly: a clear error naming the file; nothing touched.
	before := snapshotAll(t, runDir)
	for _, p := range []string{flipped, truncated} {
		c, err := startChild(bin, []string{"--resume", p}, hookEnv, nil)
		if err != nil {
			t.Fatal(err)
		}
		es, err := statusOf(c.wait(sessionTimeout))
		out := c.output()
		if err != nil || es.code <= 0 || strings.Contains(out, "panic:") {
			t.Errorf("--resume %s: ended with %+v %v, want a non-zero exit code\n%s", p, es, err, tail(out, 20))
		}
		if !strings.Contains(out, p) {
			t.Errorf("--resume %s: the error does not name the file:\n%s", p, tail(out, 20))
		}
		t.Logf("--resume %s: %s", filepath.Base(p), lastLine(out))
	}
	if after := snapshotAll(t, runDir); !maps.Equal(before, after) {
		t.Errorf("a failed explicit resume changed the run directory")
	}

	// Automatic choice: skip both with a warning, resume from the good one.
	c2, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir}, hookEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if es, err := statusOf(c2.wait(sessionTimeout)); err != nil || es != (exitStatus{}) {
		t.Fatalf("--resume latest: %+v %v\n%s", es, err, tail(c2.output(), 30))
	}
	out := c2.output()
	for _, p := range []string{flipped, truncated} {
		if !strings.Contains(out, "skipping checkpoint") || !strings.Contains(out, filepath.Base(p)) {
			t.Errorf("--resume latest: no warning naming the skipped %s:\n%s", filepath.Base(p), tail(out, 40))
		}
	}
	ms, _ := c2.markersSince(0)
	if want := "resume " + good + " step " + strconv.FormatInt(goodStep, 10); !slices.Contains(ms, want) {
		t.Errorf("--resume latest: markers %q lack %q", ms[:min(3, len(ms))], want)
	}
	checkAgainstReference(t, r, logdir, runDir, "resume past damaged checkpoints", nil, flipped, truncated)
}

// snapshotAll maps every file of dir (dirtest.Files: subdirectories as
// name/) to its content, the event files left out.
func snapshotAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := dirtest.Files(t, dir)
	maps.DeleteFunc(m, func(name, _ string) bool { return strings.HasPrefix(name, "events.out.tfevents.") })
	return m
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
