package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/storage/storagetest"
)

func TestLocalConformance(t *testing.T) {
	storagetest.Run(t, storage.Local{}, filepath.ToSlash(t.TempDir()), "local")
}

func TestLocalRelativeKeys(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()
	if err := (storage.Local{}).Put(ctx, "run/a.ckpt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	got, err := storage.Local{}.List(ctx, "run")
	if err != nil || len(got) != 1 || got[0].Key != "run/a.ckpt" {
		t.Fatalf("List(run) = %+v, %v; want [run/a.ckpt]", got, err)
	}
	top, err := storage.Local{}.List(ctx, "")
	if err != nil || len(top) != 1 || top[0].Key != "run" || !top[0].Dir {
		t.Fatalf("List(\"\") = %+v, %v; want [run (dir)]", top, err)
	}
}

func TestLocalListFollowsLinksSkipsTemp(t *testing.T) {
	dir := filepath.ToSlash(t.TempDir())
	ctx := context.Background()
	if err := (storage.Local{}).Put(ctx, dir+"/real/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "linked")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".a.tmp-123"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := storage.Local{}.List(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, i := range got {
		if !i.Dir {
			t.Errorf("%s: not a dir", i.Key)
		}
		keys = append(keys, filepath.Base(i.Key))
	}
	if len(keys) != 2 || keys[0] != "linked" || keys[1] != "real" {
		t.Fatalf("List = %v, want [linked real] (dangling link and temp file left out)", keys)
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".a.ckpt.tmp-123": true, ".a.ckpt.tmp-0": true, ".LenetMnist3.ckpt.tmp-123456": true,
		".a.ckpt.tmp-": false, "a.ckpt.tmp-1": false, // not hidden: not ours
		".a.ckpt.tmp-1x": false, ".tmp-1": false, "a.ckpt": false, ".bashrc": false,
	} {
		if got := storage.IsTemp(name); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	err := error(&storage.Error{Op: "put", Backend: "s3", Bucket: "b", Key: "run/x.ckpt", Err: syscall.ECONNREFUSED, Attempts: 3})
	if got, want := err.Error(), "put s3://b/run/x.ckpt: connection refused (after 3 attempts)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("errors.Is(cause) = false")
	}
	err = &storage.Error{Op: "get", Backend: "local", Key: "/tmp/x", Err: fs.ErrNotExist}
	if got, want := err.Error(), "get /tmp/x: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	// The operating system's error names the file too: it is said once.
	missing := filepath.Join(t.TempDir(), "x.ckpt")
	_, err = storage.Local{}.Stat(context.Background(), missing)
	if got, want := err.Error(), "stat "+missing+": no such file or directory"; got != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(missing) error = %q, want %q (and fs.ErrNotExist)", got, want)
	}
}
