//go:build unix

package ckpt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/internal/selfexec"
)

// faultFile is a tempFile that fails at a chosen step.
type faultFile struct {
	tempFile
	writeLimit int   // bytes accepted before Write fails with writeErr (<0: no limit)
	writeErr   error // error once the limit is reached
	syncErr    error
	closeErr   error
	writes     int // number of Write calls
}

func (f *faultFile) Write(p []byte) (int, error) {
	f.writes++
	if f.writeLimit >= 0 && len(p) > f.writeLimit {
		n, _ := f.tempFile.Write(p[:f.writeLimit])
		f.writeLimit = 0
		return n, f.writeErr
	}
	if f.writeLimit > 0 {
		f.writeLimit -= len(p)
	}
	return f.tempFile.Write(p)
}

func (f *faultFile) Sync() error {
	if f.syncErr != nil {
		return f.syncErr
	}
	return f.tempFile.Sync()
}

func (f *faultFile) Close() error {
	err := f.tempFile.Close()
	if f.closeErr != nil {
		return f.closeErr
	}
	return err
}

// TestSaveFaults injects a failure at each step of a commit and checks that
// the error surfaces with the file and cause, that the previous checkpoint is
// intact and loadable, and that no temp file is left.
func TestSaveFaults(t *testing.T) {
	realCreate, realRename := hooks.createTemp, hooks.rename
	wrap := func(ff faultFile) func(dir, pattern string) (tempFile, error) {
		return func(dir, pattern string) (tempFile, error) {
			f, err := realCreate(dir, pattern)
			if err != nil {
				return nil, err
			}
			ff.tempFile = f
			return &ff, nil
		}
	}
	noFault := faultFile{writeLimit: -1}
	tests := []struct {
		name       string
		edit       func()
		want       error
		step       string
		newInPlace bool // the rename happened: the new checkpoint is at path
	}{
		{"create: permission denied", func() {
			hooks.createTemp = func(string, string) (tempFile, error) { return nil, syscall.EACCES }
		}, syscall.EACCES, "creating temp file", false},
		{"create: read-only file system", func() {
			hooks.createTemp = func(string, string) (tempFile, error) { return nil, syscall.EROFS }
		}, syscall.EROFS, "creating temp file", false},
		{"write: no space after 100 bytes", func() {
			ff := noFault
			ff.writeLimit, ff.writeErr = 100, syscall.ENOSPC
			hooks.createTemp = wrap(ff)
		}, syscall.ENOSPC, "writing", false},
		{"write: no space at once", func() {
			ff := noFault
			ff.writeLimit, ff.writeErr = 0, syscall.ENOSPC
			hooks.createTemp = wrap(ff)
		}, syscall.ENOSPC, "writing", false},
		{"write: quota exceeded", func() {
			ff := noFault
			ff.writeLimit, ff.writeErr = 10, syscall.EDQUOT
			hooks.createTemp = wrap(ff)
		}, syscall.EDQUOT, "writing", false},
		{"fsync: I/O error", func() {
			ff := noFault
			ff.syncErr = syscall.EIO
			hooks.createTemp = wrap(ff)
		}, syscall.EIO, "syncing", false},
		{"close: I/O error", func() {
			ff := noFault
			ff.closeErr = syscall.EIO
			hooks.createTemp = wrap(ff)
		}, syscall.EIO, "closing", false},
		{"rename: permission denied", func() {
			hooks.rename = func(string, string) error { return syscall.EACCES }
		}, syscall.EACCES, "renaming", false},
		{"directory fsync: I/O error", func() {
			hooks.syncDir = func(string) error { return syscall.EIO }
		}, syscall.EIO, "syncing directory", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "LenetMnist2.ckpt")
			old, next := sample(20, false), sample(30, false)
			mustSave(t, path, old)
			withHooks(t, func() {
				hooks.createTemp, hooks.rename = realCreate, realRename
				tc.edit()
			})
			err := Save(path, next)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Save = %v, want %v", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != "save" || e.Path != path || !strings.Contains(err.Error(), tc.step) {
				t.Errorf("error %q should be an *Error for save %s mentioning %q", err, path, tc.step)
			}
			want := old
			if tc.newInPlace {
				want = next
			}
			got, err := Load(path)
			if err != nil {
				t.Fatalf("checkpoint after failed Save: %v", err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("checkpoint after failed Save (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"LenetMnist2.ckpt"}, dirNames(t, dir)); diff != "" {
				t.Errorf("directory after failed Save (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSavePermissionDenied saves into a real read-only directory. Root
// bypasses permission bits (CAP_DAC_OVERRIDE), so when the test runs as root
// it re-executes itself as user nobody (uid/gid 65534) to do the work.
func TestSavePermissionDenied(t *testing.T) {
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		if err := permissionChild(dir); err != nil {
			t.Fatal(err)
		}
		return
	}
	// As root: a world-writable directory holding a copy of this test binary
	// that user nobody can execute.
	base, err := os.MkdirTemp("", "ckpt-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o777); err != nil {
		t.Fatal(err)
	}
	selfexec.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	copyExe := filepath.Join(base, "ckpt.test")
	if err := os.WriteFile(copyExe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyExe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=perm:"+base)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as uid 65534: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("perm-ok")) {
		t.Fatalf("child did not report success:\n%s", out)
	}
}

// permissionChild runs as an unprivileged user: it saves a checkpoint in a
// new directory under base, makes the directory read-only, and checks that a
// second Save fails with a permission error and leaves the first intact.
func permissionChild(base string) error {
	dir, err := os.MkdirTemp(base, "ro-")
	if err != nil {
		return err
	}
	defer os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "a.ckpt")
	if err := Save(path, sample(1, false)); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		return err
	}
	err = Save(path, sample(2, false))
	if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), path) {
		return fmt.Errorf("Save into a read-only dir = %v, want a permission error naming %s", err, path)
	}
	c, err := Load(path)
	if err != nil || c.GetGlobalStep() != 1 {
		return fmt.Errorf("previous checkpoint after the failed Save: step %d, %v", c.GetGlobalStep(), err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		return fmt.Errorf("read-only dir holds %d entries (%v), want 1", len(ents), err)
	}
	return nil
}

// SmallFSEnv names a directory on a small, otherwise empty file system (e.g.
// a 1 MB tmpfs: mount -t tmpfs -o size=1m tmpfs DIR) for TestSaveDiskFull.
// .ci/run sets it when it can mount one.
const smallFSEnv = "TBTRAIN_TEST_SMALLFS"

// TestSaveDiskFull fills a real small file system and checks that Save fails
// with ENOSPC, leaves the previous checkpoint loadable and cleans up.
func TestSaveDiskFull(t *testing.T) {
	root := os.Getenv(smallFSEnv)
	if root == "" {
		t.Skipf("set %s to a directory on a small tmpfs to run this test", smallFSEnv)
	}
	dir, err := os.MkdirTemp(root, "ckpt-full-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "a.ckpt")
	mustSave(t, path, sample(1, false))
	// Fill the file system, leaving less room than a LeNet-sized checkpoint.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{0xaa}, 64<<10)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	filler.Close()
	err = Save(path, sample(2, true))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Save on a full file system = %v, want ENOSPC", err)
	}
	c, err := Load(path)
	if err != nil || c.GetGlobalStep() != 1 {
		t.Fatalf("previous checkpoint: step %d, %v", c.GetGlobalStep(), err)
	}
	if diff := cmp.Diff([]string{"a.ckpt", "filler"}, dirNames(t, dir)); diff != "" {
		t.Errorf("directory after failed Save (-want +got):\n%s", diff)
	}
}

// TestCommitDelayHook checks the crash-test hook: with the commit delay set
// through faultinject, the payload reaches the file in two writes with a
// pause between; the environment variable alone changes nothing (only
// cmd/train and test binaries install it).
func TestCommitDelayHook(t *testing.T) {
	var ff *faultFile
	realCreate := hooks.createTemp
	withHooks(t, func() {
		hooks.createTemp = func(dir, pattern string) (tempFile, error) {
			f, err := realCreate(dir, pattern)
			ff = &faultFile{tempFile: f, writeLimit: -1}
			return ff, err
		}
	})
	path := filepath.Join(t.TempDir(), "d.ckpt")
	for _, tc := range []struct {
		env    string
		delay  time.Duration
		writes int
	}{{"", 0, 1}, {"", time.Millisecond, 2}, {"1h", 0, 1}} {
		t.Setenv(faultinject.CommitDelayEnv, tc.env)
		restore := faultinject.SetCommitDelay(tc.delay)
		mustSave(t, path, sample(1, false))
		restore()
		if ff.writes != tc.writes {
			t.Errorf("%s=%q, commit delay %v: %d writes, want %d", faultinject.CommitDelayEnv, tc.env, tc.delay, ff.writes, tc.writes)
		}
		if _, err := Load(path); err != nil {
			t.Error(err)
		}
	}
}
