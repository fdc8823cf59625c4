//go:build unix

package chaos

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/selfexec"
)

// The harness's own checks run the test binary itself as the child: with
// TBTRAIN_CHAOS_FAKE_CHILD set, TestHarnessFakeChild turns into a tiny
// program that prints markers and sleeps. They test the process plumbing
// only (output capture, markers, signals, exit status), not cmd/train.
func TestHarnessFakeChild(t *testing.T) {
	mode := os.Getenv("TBTRAIN_CHAOS_FAKE_CHILD")
	if mode == "" {
		return // not a child: nothing to do (the os/exec helper-process pattern)
	}
	fmt.Println("plain line")
	fmt.Print("progress 1\rprogress 2\r")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(os.Stderr, "%sstep %d\n", markerPrefix, i)
	}
	switch mode {
	case "sleep":
		fmt.Fprintf(os.Stderr, "%scommit-begin x\n", markerPrefix)
		time.Sleep(time.Minute)
	case "exit3":
		os.Exit(3)
	}
	os.Exit(0)
}

func fakeChild(t *testing.T, mode string) *child {
	t.Helper()
	selfexec.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, err := startChild(exe, []string{"-test.run=^TestHarnessFakeChild$"}, []string{"TBTRAIN_CHAOS_FAKE_CHILD=" + mode}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHarnessExitStatus(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want exitStatus
	}{{"ok", exitStatus{}}, {"exit3", exitStatus{code: 3}}} {
		c := fakeChild(t, tc.mode)
		got, err := statusOf(c.wait(time.Minute))
		if err != nil || got != tc.want {
			t.Errorf("mode %s: status %+v, %v; want %+v", tc.mode, got, err, tc.want)
		}
		out := c.output()
		for _, want := range []string{"plain line\n", "progress 1\nprogress 2\n", "stderr: " + markerPrefix + "step 3\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("mode %s: output lacks %q:\n%s", tc.mode, want, out)
			}
		}
		if ms, _ := c.markersSince(1); len(ms) != 2 || ms[1] != "step 3" {
			t.Errorf("mode %s: markers from 1 = %q, want [step 2, step 3]", tc.mode, ms)
		}
	}
}

func TestHarnessKillInWindow(t *testing.T) {
	c := fakeChild(t, "sleep")
	m, next, ok := c.waitMarker(0, "commit-begin", time.Minute)
	if !ok || m != "commit-begin x" || next != 4 {
		t.Fatalf("waitMarker = %q, %d, %v; want commit-begin x, 4, true\n%s", m, next, ok, c.output())
	}
	if _, _, ok := c.waitMarker(next, "commit-end", 50*time.Millisecond); ok {
		t.Fatal("waitMarker found a marker that was never printed")
	}
	ms, _ := c.markersSince(0)
	if commit, flush := openWindow(ms); !commit || flush {
		t.Errorf("openWindow(%q) = %v, %v; want true, false", ms, commit, flush)
	}
	if !c.signal(syscall.SIGKILL) {
		t.Fatal("signal: the child was not running")
	}
	got, err := statusOf(c.wait(time.Minute))
	if err != nil || got != (exitStatus{code: -1, signal: syscall.SIGKILL}) {
		t.Errorf("status after SIGKILL: %+v, %v", got, err)
	}
	if c.signal(syscall.SIGKILL) {
		t.Error("signal reported success on an exited child")
	}
}
