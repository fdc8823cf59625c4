//go:build unix

package chaos

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/dirtest"
	"github.com/tbtrain/tbtrain/trainer"
)

// TestOneTrainerPerRun starts a trainer, stops it (SIGSTOP) in the middle of
// its first epoch and then: a second `train --resume latest` on the same run
// must fail at once with exit status 1, naming the run directory and the
// first trainer's PID, and change nothing in the run directory; ckptinfo and
// tbdump must read the run meanwhile (they take no lock). Then the holder is
// SIGKILLed (stopped as it is): the kernel drops its lock, and --resume
// latest finishes the run bit for bit like the reference run.
func TestOneTrainerPerRun(t *testing.T) {
	r := reference(t)
	if !r.markers {
		t.Skip("cmd/train prints no test markers: cannot stop it at a known step")
	}
	bin := buildCmd(t, trainPkg)
	ckptinfo := buildCmd(t, "github.com/tbtrain/tbtrain/cmd/ckptinfo")
	tbdump := buildCmd(t, "github.com/tbtrain/tbtrain/cmd/tbdump")
	logdir := t.TempDir()
	// Markers only: the commit and flush delays would leave torn records
	// for the readers below to report.
	first, err := startChild(bin, append(slices.Clone(tinyArgs), "--logdir", logdir), []string{"TBTRAIN_TEST_MARKERS=1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.signal(syscall.SIGKILL)
	if _, _, ok := first.waitMarker(0, "step 5", sessionTimeout); !ok {
		t.Fatalf("no step 5:\n%s", tail(first.output(), 30))
	}
	if !first.signal(syscall.SIGSTOP) {
		t.Fatal("the first trainer ended before SIGSTOP")
	}
	waitStopped(t, first.cmd.Process.Pid)
	dirs := runDirs(logdir)
	if len(dirs) != 1 {
		t.Fatalf("%d run directories", len(dirs))
	}
	runDir := dirs[0]
	before := dirtest.Files(t, runDir)
	if _, ok := before[trainer.LockName]; !ok {
		t.Fatalf("no lock file %s in %s: %v", trainer.LockName, runDir, slices.Sorted(maps.Keys(before)))
	}

	for _, target := range []string{"latest", runDir} {
		second, err := startChild(bin, []string{"--resume", target, "--logdir", logdir}, hookEnv, nil)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		es, err := statusOf(second.wait(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		out := second.output()
		pid := fmt.Sprintf("process %d", first.cmd.Process.Pid)
		if es.code != 1 || !strings.Contains(out, runDir) || !strings.Contains(out, pid) {
			t.Errorf("second trainer (--resume %s) while the first holds the run: %+v after %v, output:\n%s\nwant exit 1 naming %s and %s",
				target, es, time.Since(began).Round(time.Millisecond), tail(out, 20), runDir, pid)
		}
		if strings.Contains(out, "resume with") {
			t.Errorf("the refusal tells how to resume, as after a failure:\n%s", tail(out, 10))
		}
	}
	for _, tool := range []struct {
		bin  string
		args []string
	}{{ckptinfo, []string{runDir}}, {tbdump, []string{logdir}}} {
		c, err := startChild(tool.bin, tool.args, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if es, err := statusOf(c.wait(time.Minute)); err != nil || es != (exitStatus{}) {
			t.Errorf("%s %v while the run is held: %+v, %v\n%s", filepath.Base(tool.bin), tool.args, es, err, tail(c.output(), 20))
		}
	}
	after := dirtest.Files(t, runDir)
	if !maps.Equal(before, after) {
		t.Errorf("the run directory changed while the first trainer was stopped: before %v, after %v",
			slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}

	// A killed holder leaves no stale lock.
	first.signal(syscall.SIGKILL)
	_ = first.wait(sessionTimeout)
	c, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir}, hookEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.wait(sessionTimeout); err != nil {
		t.Fatalf("--resume latest after the holder was killed: %v\n%s", err, tail(c.output(), 30))
	}
	checkAgainstReference(t, r, logdir, runDir, "after the holder was killed", nil)
}

// waitStopped waits until process pid is stopped: kill(2) returns before
// the signal takes effect, and a process not yet stopped may still write.
// It reads the state in /proc/<pid>/stat (Linux); elsewhere it waits a
// while.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	stat := fmt.Sprintf("/proc/%d/stat", pid)
	if _, err := os.Stat(stat); err != nil {
		time.Sleep(500 * time.Millisecond)
		return
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatal(err)
		}
		// pid (comm) state ...: comm may hold spaces, the state follows
		// the last ')'.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'T' {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("process %d did not stop", pid)
}
