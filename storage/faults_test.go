package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/faultinject"
)

// faultyFile fails one step of a Put's temp file.
type faultyFile struct {
	TempFile
	write, sync, close error
}

func (f faultyFile) Write(p []byte) (int, error) {
	if f.write != nil {
		n := len(p) / 2
		f.TempFile.Write(p[:n])
		return n, f.write
	}
	return f.TempFile.Write(p)
}

func (f faultyFile) Sync() error {
	if f.sync != nil {
		return f.sync
	}
	return f.TempFile.Sync()
}

func (f faultyFile) Close() error {
	f.TempFile.Close()
	return f.close
}

// faultyFS fails the steps it has an error for.
type faultyFS struct {
	LocalFS
	create, rename, link, syncDir error
	file                          faultyFile
}

func (f faultyFS) CreateTemp(dir, pattern string) (TempFile, error) {
	if f.create != nil {
		return nil, f.create
	}
	t, err := f.LocalFS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	ff := f.file
	ff.TempFile = t
	return ff, nil
}

func (f faultyFS) Rename(o, n string) error {
	if f.rename != nil {
		return f.rename
	}
	return f.LocalFS.Rename(o, n)
}

func (f faultyFS) Link(o, n string) error {
	if f.link != nil {
		return f.link
	}
	return f.LocalFS.Link(o, n)
}

func (f faultyFS) SyncDir(d string) error {
	if f.syncDir != nil {
		return f.syncDir
	}
	return f.LocalFS.SyncDir(d)
}

// TestPutFaults fails each step of Local.Put in turn and checks that the
// previous content survives, no temp file is left and the error names the key
// and wraps the cause.
func TestPutFaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fs        faultyFS
		want      error
		committed bool // the step fails after the rename
	}{
		{"create EACCES", faultyFS{create: syscall.EACCES}, syscall.EACCES, false},
		{"write ENOSPC", faultyFS{file: faultyFile{write: syscall.ENOSPC}}, syscall.ENOSPC, false},
		{"sync EIO", faultyFS{file: faultyFile{sync: syscall.EIO}}, syscall.EIO, false},
		{"close EIO", faultyFS{file: faultyFile{close: syscall.EIO}}, syscall.EIO, false},
		{"rename EACCES", faultyFS{rename: syscall.EACCES}, syscall.EACCES, false},
		{"dir sync EIO", faultyFS{syncDir: syscall.EIO}, syscall.EIO, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			key := filepath.ToSlash(filepath.Join(dir, "x"))
			ctx := context.Background()
			if err := (Local{}).Put(ctx, key, []byte("old")); err != nil {
				t.Fatal(err)
			}
			tc.fs.LocalFS = OSFS()
			err := Local{FS: tc.fs}.Put(ctx, key, []byte("new content"))
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
	dir := t.TempDir()
	key := filepath.ToSlash(filepath.Join(dir, "lease"))
	err := Local{FS: faultyFS{LocalFS: OSFS(), link: syscall.EPERM}}.PutNew(context.Background(), key, []byte("x"))
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

// TestCommitDelay checks the crash tests' pause: with faultinject's commit
// delay set, a Put is seen half-way with only its temp file in place.
func TestCommitDelay(t *testing.T) {
	dir := t.TempDir()
	key := filepath.ToSlash(filepath.Join(dir, "x"))
	t.Cleanup(faultinject.SetCommitDelay(300 * time.Millisecond))
	done := make(chan error, 1)
	go func() { done <- (Local{}).Put(context.Background(), key, []byte("0123456789")) }()
	time.Sleep(100 * time.Millisecond)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || !IsTemp(ents[0].Name()) {
		t.Errorf("half-way through Put the directory held %v, want one temp file", ents)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
