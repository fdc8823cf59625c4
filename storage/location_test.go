package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/storage"
)

func TestLocations(t *testing.T) {
	for _, tc := range []struct{ loc, scheme, dir, base string }{
		{"s3://b/p/run/x.ckpt", "s3", "s3://b/p/run", "x.ckpt"},
		{"s3://b/run", "s3", "s3://b", "run"},
		{"s3://b/run/", "s3", "s3://b", "run"},
		{"runs/2026/x.ckpt", "", filepath.FromSlash("runs/2026"), "x.ckpt"},
		{`C:\runs\x.ckpt`, "", filepath.Dir(`C:\runs\x.ckpt`), filepath.Base(`C:\runs\x.ckpt`)},
		{"/abs/x", "", filepath.FromSlash("/abs"), "x"},
	} {
		if got := storage.Scheme(tc.loc); got != tc.scheme {
			t.Errorf("Scheme(%q) = %q, want %q", tc.loc, got, tc.scheme)
		}
		if got := storage.Dir(tc.loc); got != tc.dir {
			t.Errorf("Dir(%q) = %q, want %q", tc.loc, got, tc.dir)
		}
		if got := storage.Base(tc.loc); got != tc.base {
			t.Errorf("Base(%q) = %q, want %q", tc.loc, got, tc.base)
		}
	}
	for _, tc := range []struct {
		loc  string
		elem []string
		want string
	}{
		{"s3://b", []string{"run", "x.ckpt"}, "s3://b/run/x.ckpt"},
		{"s3://b/p/", []string{"run"}, "s3://b/p/run"},
		{"s3://b/p", nil, "s3://b/p"},
		{"s3://b", nil, "s3://b"},
		{"runs", []string{"r", "x"}, filepath.Join("runs", "r", "x")},
	} {
		if got := storage.Join(tc.loc, tc.elem...); got != tc.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tc.loc, tc.elem, got, tc.want)
		}
	}
}

func TestFor(t *testing.T) {
	st, key, err := storage.For("runs/r/x.ckpt")
	if _, ok := st.(storage.Local); !ok || key != "runs/r/x.ckpt" || err != nil {
		t.Fatalf("For(local path) = %T, %q, %v", st, key, err)
	}
	_, _, err = storage.For("gs://b/x")
	if err == nil || !strings.Contains(err.Error(), "gs://") {
		t.Fatalf("For(unregistered scheme) = %v, want an error naming it", err)
	}
	storage.Register("mem", func(u string) (storage.Store, string, error) { return storage.Local{}, "k" + u[len("mem://"):], nil })
	if _, key, err := storage.For("mem://x"); err != nil || key != "kx" {
		t.Fatalf("For(registered) = %q, %v", key, err)
	}
}

// TestStat: Stat describes a local file and directory, says fs.ErrNotExist
// for a missing one, and names an unregistered scheme.
func TestStat(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.ckpt")
	if err := os.WriteFile(file, []byte("four"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if info, err := storage.Stat(ctx, file); err != nil || info.Dir || info.Size != 4 || info.Key != filepath.ToSlash(file) {
		t.Errorf("Stat(file) = %+v, %v; want 4 bytes, not a directory", info, err)
	}
	if info, err := storage.Stat(ctx, dir+"/"); err != nil || !info.Dir {
		t.Errorf("Stat(dir/) = %+v, %v; want a directory", info, err)
	}
	if _, err := storage.Stat(ctx, filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := storage.Stat(ctx, "gs://b/x"); err == nil || !strings.Contains(err.Error(), "gs://") {
		t.Errorf("Stat(unregistered scheme) = %v, want an error naming it", err)
	}
}

// TestForTrailingSlash: a local directory named with a trailing separator
// (as shell completion writes it: "runs/", "runs/2026-11-29_12-00-00/") is
// the same directory; Stat and List work on it. The root keeps its slash.
func TestForTrailingSlash(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.ckpt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{dir + "/", dir + "//", dir + string(filepath.Separator)} {
		st, key, err := storage.For(loc)
		if err != nil || key != filepath.ToSlash(dir) {
			t.Fatalf("For(%q) = %q, %v; want key %q", loc, key, err, filepath.ToSlash(dir))
		}
		info, err := st.Stat(context.Background(), key)
		if err != nil || !info.Dir {
			t.Errorf("Stat of For(%q) = %+v, %v; want the directory", loc, info, err)
		}
		list, err := st.List(context.Background(), key)
		if err != nil || len(list) != 1 {
			t.Errorf("List of For(%q) = %v, %v; want x.ckpt", loc, list, err)
		}
	}
	for _, loc := range []string{"/", "runs/"} {
		want := strings.TrimSuffix(loc, "/")
		if want == "" {
			want = "/"
		}
		if _, key, err := storage.For(loc); err != nil || key != want {
			t.Errorf("For(%q) = %q, %v; want %q", loc, key, err, want)
		}
	}
}
