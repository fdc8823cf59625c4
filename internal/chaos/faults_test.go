//go:build linux

package chaos

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/mnist"
)

// waitFirstCheckpoint polls logdir until a checkpoint has been committed in
// a run directory or the child ends. It returns the run directory.
func waitFirstCheckpoint(t *testing.T, c *child, logdir string) string {
	t.Helper()
	for {
		for _, d := range runDirs(logdir) {
			if l, err := ckpt.List(d); err == nil && len(l) > 0 {
				return d
			}
		}
		select {
		case <-c.done:
			t.Fatalf("the child ended before its first checkpoint:\n%s", tail(c.output(), 30))
		case <-time.After(time.Millisecond):
		}
	}
}

// snapshot maps each checkpoint file in dir to the SHA-256 of its content.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	s, err := stateOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][32]byte{}
	for _, p := range s.checkpoints {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[p] = sha256.Sum256(b)
	}
	return m
}

// checkFaultExit checks that a child stopped by a disk fault exited
// non-zero by itself, with a message containing want, and did not panic.
// absPath matches the absolute paths in an error line.
var absPath = regexp.MustCompile(`/[^\s:()]+`)

func checkFaultExit(t *testing.T, c *child, what, want string) {
	t.Helper()
	es, err := statusOf(c.wait(sessionTimeout))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	out := c.output()
	if es.signal != 0 || es.code == 0 {
		t.Fatalf("%s: the child ended with %+v, want a non-zero exit code:\n%s", what, es, tail(out, 30))
	}
	if strings.Contains(out, "panic:") {
		t.Fatalf("%s: the child panicked:\n%s", what, tail(out, 40))
	}
	if !strings.Contains(strings.ToLower(out), want) {
		t.Errorf("%s: the output does not say %q:\n%s", what, want, tail(out, 30))
	}
	// The error line names each file once ("save X: writing temp file T:
	// no space left on device", not "... writing T: write T: ...").
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "stderr: train: ") || !strings.Contains(strings.ToLower(line), want) {
			continue
		}
		for _, p := range absPath.FindAllString(line, -1) {
			if n := strings.Count(line, p); n != 1 {
				t.Errorf("%s: the error names %s %d times:\n%s", what, p, n, line)
			}
		}
	}
	// A checkpoint was committed before every fault these tests inject.
	if !strings.Contains(out, "resume with: go run ./cmd/train --resume ") {
		t.Errorf("%s: the output does not say how to resume:\n%s", what, tail(out, 30))
	}
	t.Logf("%s: exit code %d; last lines:\n%s", what, es.code, tail(out, 3))
}

// checkIntact checks that every checkpoint committed before the fault is
// still there and unchanged, that no commit succeeded after the fault except
// those in allowNew (commits already under way), that everything left
// verifies, and that no temp file was left behind.
func checkIntact(t *testing.T, what, runDir string, before map[string][32]byte, allowNew func(path string) bool) {
	t.Helper()
	after := snapshot(t, runDir)
	for p, sum := range before {
		got, ok := after[p]
		switch {
		case !ok:
			t.Errorf("%s: %s is gone", what, p)
		case got != sum:
			t.Errorf("%s: %s changed", what, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && (allowNew == nil || !allowNew(p)) {
			t.Errorf("%s: %s was committed after the fault", what, p)
		}
		if _, err := ckpt.Load(p); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	if len(after) == 0 {
		t.Errorf("%s: no checkpoint left in %s", what, runDir)
	}
	s, err := stateOf(runDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.others) > 0 {
		t.Errorf("%s: files left behind: %v", what, s.others)
	}
}

// TestDiskFull is the disk-fault promise with a real ENOSPC: the run directory lives
// on a small tmpfs that the test fills up, either right after the first
// checkpoint (the next commit hits ENOSPC) or just before an epoch ends (the
// epoch-end histograms and image grid need new blocks, so the event file
// hits ENOSPC first, before the commit that follows).
func TestDiskFull(t *testing.T) {
	r := reference(t)
	bin := buildCmd(t, trainPkg)
	for _, tc := range []struct {
		name string
		env  []string
		wait func(c *child, logdir string)
	}{
		{"checkpoint", nil, func(c *child, logdir string) { waitFirstCheckpoint(t, c, logdir) }},
		{"events", []string{"TBTRAIN_TEST_STEP_DELAY=40ms"}, func(c *child, logdir string) {
			if !r.markers {
				t.Skip("cmd/train prints no test markers: cannot aim at an epoch end")
			}
			if _, _, ok := c.waitMarker(0, fmt.Sprintf("step %d", stepsPerEpoch-2), sessionTimeout); !ok {
				t.Fatalf("no marker for step %d:\n%s", stepsPerEpoch-2, tail(c.output(), 30))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mnt := t.TempDir()
			if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=32m,mode=0755"); err != nil {
				t.Skipf("cannot mount a tmpfs here (%v; needs root or CAP_SYS_ADMIN): ENOSPC is covered only by the packages' injected faults", err)
			}
			t.Cleanup(func() {
				if err := syscall.Unmount(mnt, 0); err != nil {
					t.Errorf("unmount %s: %v", mnt, err)
				}
			})
			logdir := filepath.Join(mnt, "runs")
			env := append(slices.Clone(hookEnv), tc.env...)
			c, err := startChild(bin, append(slices.Clone(tinyArgs), "--logdir", logdir), env, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.wait(c, logdir)
			filler := filepath.Join(mnt, "filler")
			n, err := fill(filler)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: wrote %d bytes, got %v, want ENOSPC", mnt, n, err)
			}
			markers, _ := c.markersSince(0)
			dirs := runDirs(logdir)
			if len(dirs) != 1 {
				t.Fatalf("%d run dirs in %s, want 1", len(dirs), logdir)
			}
			runDir := dirs[0]
			before := snapshot(t, runDir)
			t.Logf("filled the tmpfs with %d bytes; %d checkpoints committed before", n, len(before))
			checkFaultExit(t, c, "disk full", "no space left on device")
			out := c.output()
			t.Logf("the fault hit the event file: %v; a checkpoint commit: %v",
				strings.Contains(out, "tbwriter"), strings.Contains(out, "save "))
			checkIntact(t, "disk full", runDir, before, func(p string) bool {
				return slices.Contains(markers, "commit-begin "+p) // under way when the disk filled up
			})

			// Resuming while the disk is still full fails cleanly too,
			// without touching the checkpoints.
			before = snapshot(t, runDir)
			c1, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir}, hookEnv, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkFaultExit(t, c1, "resume onto a full disk", "no space left on device")
			checkIntact(t, "resume onto a full disk", runDir, before, nil)

			// Repair the fault and resume: still bit-exact, and no gap.
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			c2, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir}, hookEnv, nil)
			if err != nil {
				t.Fatal(err)
			}
			if es, err := statusOf(c2.wait(sessionTimeout)); err != nil || es != (exitStatus{}) {
				t.Fatalf("resume after freeing space: %+v %v\n%s", es, err, tail(c2.output(), 30))
			}
			checkAgainstReference(t, r, logdir, runDir, "after ENOSPC and resume", nil)
		})
	}
}

// fill writes zeros to path until the file system is full.
func fill(path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := f.Write(buf)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
}

// TestReadOnlyLogdir is the disk-fault promise with EACCES: after the first
// checkpoint the run directory is made read-only (0555). Root ignores
// permission bits, so when the test runs as root the child runs as the
// unprivileged user nobody (65534).
func TestReadOnlyLogdir(t *testing.T) {
	r := reference(t)
	bin := buildCmd(t, trainPkg)
	var cred *syscall.Credential
	uid := os.Getuid()
	if uid == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		uid = 65534
	}
	// The child needs the data where it can read it: copy the GoMNIST files.
	top := t.TempDir()
	if err := os.Chmod(filepath.Dir(top), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(top, "data")
	if err := copyData(dataDir); err != nil {
		t.Fatal(err)
	}
	logdir := filepath.Join(top, "runs")
	if err := os.Mkdir(logdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(logdir, uid, -1); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data", dataDir, "--logdir", logdir}
	// The step delay leaves ample time to chmod between the step-0 commit
	// and the next one at step 7, even on a loaded machine: the fault must
	// hit a commit that starts after it, not one under way.
	env := append(slices.Clone(hookEnv), "TBTRAIN_TEST_STEP_DELAY=20ms")
	c, err := startChild(bin, append(slices.Clone(tinyArgs), args...), env, cred)
	if cred != nil && errors.Is(err, syscall.EPERM) {
		t.Skipf("cannot start a child as uid 65534 (%v; needs CAP_SETUID): root ignores permission bits, so EACCES cannot be produced", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	runDir := waitFirstCheckpoint(t, c, logdir)
	if err := os.Chmod(runDir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(runDir, 0o755) })
	before := snapshot(t, runDir)
	checkFaultExit(t, c, "read-only run dir", "permission denied")
	checkIntact(t, "read-only run dir", runDir, before, nil)

	// Resuming while the directory is still read-only must fail cleanly too,
	// without touching the checkpoints.
	before = snapshot(t, runDir)
	c2, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir, "--data", dataDir}, hookEnv, cred)
	if err != nil {
		t.Fatal(err)
	}
	checkFaultExit(t, c2, "resume into a read-only run dir", "permission denied")
	checkIntact(t, "resume into a read-only run dir", runDir, before, nil)

	// Repair and resume: bit-exact.
	if err := os.Chmod(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c3, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir, "--data", dataDir}, hookEnv, cred)
	if err != nil {
		t.Fatal(err)
	}
	if es, err := statusOf(c3.wait(sessionTimeout)); err != nil || es != (exitStatus{}) {
		t.Fatalf("resume after making the dir writable: %+v %v\n%s", es, err, tail(c3.output(), 30))
	}
	// The config text names the --data directory, which differs from the reference run.
	checkAgainstReference(t, r, logdir, runDir, "after EACCES and resume", func(tag string) bool { return tag == "config" })
}

// copyData copies the GoMNIST IDX files into dir (world-readable).
func copyData(dir string) error {
	src, err := mnist.DefaultDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range ents {
		if !strings.Contains(e.Name(), "ubyte") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return err
		}
		n++
	}
	if n != 4 {
		return fmt.Errorf("copy MNIST from %s: found %d IDX files, want 4", src, n)
	}
	return nil
}

// TestReadOnlyFilesystem is the disk-fault promise with EROFS: a run stopped by
// SIGTERM is resumed while its file system is mounted read-only. (A tmpfs
// cannot be remounted read-only while the trainer holds files open for
// writing — EBUSY — so the fault is applied between sessions.) The resume
// must fail with a clear error and touch nothing; after remounting
// read-write it must be bit-exact.
func TestReadOnlyFilesystem(t *testing.T) {
	r := reference(t)
	bin := buildCmd(t, trainPkg)
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=32m,mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v; needs root or CAP_SYS_ADMIN)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	logdir := filepath.Join(mnt, "runs")
	c, err := startChild(bin, append(slices.Clone(tinyArgs), "--logdir", logdir), hookEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	runDir := waitFirstCheckpoint(t, c, logdir)
	c.signal(syscall.SIGTERM)
	if es, err := statusOf(c.wait(sessionTimeout)); err != nil || es.code == 0 {
		t.Fatalf("SIGTERM: %+v %v\n%s", es, err, tail(c.output(), 30))
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=32m,mode=0755"); err != nil {
		t.Fatalf("remount %s read-only: %v", mnt, err)
	}
	before := snapshot(t, runDir)
	c2, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir}, hookEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFaultExit(t, c2, "resume on a read-only file system", "read-only file system")
	checkIntact(t, "resume on a read-only file system", runDir, before, nil)

	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT, "size=32m,mode=0755"); err != nil {
		t.Fatalf("remount %s read-write: %v", mnt, err)
	}
	c3, err := startChild(bin, []string{"--resume", "latest", "--logdir", logdir}, hookEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if es, err := statusOf(c3.wait(sessionTimeout)); err != nil || es != (exitStatus{}) {
		t.Fatalf("resume after remounting read-write: %+v %v\n%s", es, err, tail(c3.output(), 30))
	}
	checkAgainstReference(t, r, logdir, runDir, "after EROFS and resume", nil)
}
