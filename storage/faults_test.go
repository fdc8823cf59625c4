package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// faultyFile fails one step of a Put's temp file.
type faultyFile struct {
	tempFile
	write, sync, close error
}

func (f faultyFile) Write(p []byte) (int, error) {
	if f.write != nil {
		n := len(p) / 2
		f.tempFile.Write(p[:n])
		return n, f.write
	}
	return f.tempFile.Write(p)
}

func (f faultyFile) Sync() error {
	if f.sync != nil {
		return f.sync
	}
	return f.tempFile.Sync()
}

func (f faultyFile) Close() error {
	f.tempFile.Close()
	return f.close
}

// TestPutFaults fails each step of Local.Put in turn and checks that the
// previous content survives, no temp file is left and the error names the key
// and wraps the cause.
func TestPutFaults(t *testing.T) {
	real := hooks
	t.Cleanup(func() { hooks = real })
	wrap := func(ff faultyFile) func(string, string) (tempFile, error) {
		return func(dir, pattern string) (tempFile, error) {
			f, err := real.createTemp(dir, pattern)
			if err != nil {
				return nil, err
			}
			ff.tempFile = f
			return ff, nil
		}
	}
	for _, tc := range []struct {
		name      string
		set       func()
		want      error
		committed bool // the step fails after the rename
	}{
		{"create EACCES", func() { hooks.createTemp = func(string, string) (tempFile, error) { return nil, syscall.EACCES } }, syscall.EACCES, false},
		{"write ENOSPC", func() { hooks.createTemp = wrap(faultyFile{write: syscall.ENOSPC}) }, syscall.ENOSPC, false},
		{"sync EIO", func() { hooks.createTemp = wrap(faultyFile{sync: syscall.EIO}) }, syscall.EIO, false},
		{"close EIO", func() { hooks.createTemp = wrap(faultyFile{close: syscall.EIO}) }, syscall.EIO, false},
		{"rename EACCES", func() { hooks.rename = func(string, string) error { return syscall.EACCES } }, syscall.EACCES, false},
		{"dir sync EIO", func() { hooks.syncDir = func(string) error { return syscall.EIO } }, syscall.EIO, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hooks = real
			dir := t.TempDir()
			key := filepath.ToSlash(filepath.Join(dir, "x"))
			ctx := context.Background()
			if err := (Local{}).Put(ctx, key, []byte("old")); err != nil {
				t.Fatal(err)
			}
			tc.set()
			err := Local{}.Put(ctx, key, []byte("new content"))
			hooks = real
			if !errors.Is(err, tc.want) {
				t.Fatalf("Put: %v, want %v", err, tc.want)
			}
			var se *Error
			if !errors.As(err, &se) || se.Key != key || se.Backend != "local" {
				t.Fatalf("Put error %v does not name local key %s", err, key)
			}
			got, gerr := Local{}.Get(ctx, key, 0, -1)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if want := map[bool]string{false: "old", true: "new content"}[tc.committed]; string(got) != want {
				t.Fatalf("after a failed Put the file holds %q, want %q", got, want)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if IsTemp(e.Name()) {
					t.Errorf("temp file %s left behind", e.Name())
				}
			}
		})
	}
}

func TestPutNewLinkFault(t *testing.T) {
	real := hooks
	t.Cleanup(func() { hooks = real })
	hooks.link = func(string, string) error { return syscall.EPERM }
	dir := t.TempDir()
	key := filepath.ToSlash(filepath.Join(dir, "lease"))
	err := Local{}.PutNew(context.Background(), key, []byte("x"))
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("PutNew: %v, want EPERM", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("PutNew failed but left %v", ents)
	}
}

func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".a.ckpt.tmp-1", ".b.tmp-22", "keep.ckpt", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := (Local{}).CleanTemp(filepath.ToSlash(dir)); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if len(left) != 2 || left[0] != ".hidden" || left[1] != "keep.ckpt" {
		t.Fatalf("after CleanTemp: %v, want [.hidden keep.ckpt]", left)
	}
}

func TestWriteHook(t *testing.T) {
	dir := t.TempDir()
	key := filepath.ToSlash(filepath.Join(dir, "x"))
	var seen []string
	SetWriteHook(func() {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			seen = append(seen, e.Name())
		}
	})
	t.Cleanup(func() { SetWriteHook(nil) })
	if err := (Local{}).Put(context.Background(), key, []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !IsTemp(seen[0]) {
		t.Fatalf("halfway through Put the directory held %v, want one temp file", seen)
	}
}
