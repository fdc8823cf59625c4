//go:build unix

package ckpt

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestErrorText checks the text of the errors a user meets most (a full
// disk, a read-only directory or file system, a damaged or missing
// checkpoint): each names every path once, then the cause, and still
// matches the cause with errors.Is.
func TestErrorText(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ckpt")
	tmp := regexp.QuoteMeta(filepath.Join(dir, ".a.ckpt.tmp-")) + `\d+`
	realCreate := hooks.createTemp
	osErr := func(op string, errno syscall.Errno) func(name string) error {
		return func(name string) error { return &fs.PathError{Op: op, Path: name, Err: errno} }
	}
	for _, tc := range []struct {
		name  string
		fault func(f *faultFile, err func(string) error) // nil: creating the temp file fails
		errOf func(name string) error
		cause error
		want  string // regexp of the whole message
	}{
		{"disk full", func(f *faultFile, err func(string) error) { f.writeLimit, f.writeErr = 10, err(f.Name()) },
			osErr("write", syscall.ENOSPC), syscall.ENOSPC,
			`^save ` + regexp.QuoteMeta(path) + `: writing temp file ` + tmp + `: no space left on device$`},
		{"read-only directory", nil, osErr("open", syscall.EACCES), fs.ErrPermission,
			`^save ` + regexp.QuoteMeta(path) + `: creating temp file ` + tmp + `: permission denied$`},
		{"read-only file system", nil, osErr("open", syscall.EROFS), syscall.EROFS,
			`^save ` + regexp.QuoteMeta(path) + `: creating temp file ` + tmp + `: read-only file system$`},
		{"fsync fails", func(f *faultFile, err func(string) error) { f.syncErr = err(f.Name()) },
			osErr("sync", syscall.EIO), syscall.EIO,
			`^save ` + regexp.QuoteMeta(path) + `: syncing temp file ` + tmp + `: input/output error$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withHooks(t, func() {
				hooks.createTemp = func(d, pattern string) (tempFile, error) {
					f, err := realCreate(d, pattern)
					if err != nil {
						return nil, err
					}
					if tc.fault == nil {
						f.Close()
						os.Remove(f.Name())
						return nil, tc.errOf(f.Name())
					}
					ff := &faultFile{tempFile: f, writeLimit: -1}
					tc.fault(ff, tc.errOf)
					return ff, nil
				}
			})
			err := Save(path, sample(1, false))
			if err == nil {
				t.Fatal("Save succeeded")
			}
			if !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Errorf("error text\n%s\nwant a match for\n%s", err, tc.want)
			}
			if !errors.Is(err, tc.cause) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.cause)
			}
		})
	}

	t.Run("damaged", func(t *testing.T) {
		mustSave(t, path, sample(2, false))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-10] ^= 0x40
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = Load(path)
		want := `^load ` + regexp.QuoteMeta(path) + `: ckpt: checkpoint corrupt: payload CRC-32C is 0x[0-9a-f]{8}, the file records 0x[0-9a-f]{8}$`
		if err == nil || !regexp.MustCompile(want).MatchString(err.Error()) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("Load(damaged) = %v, want a match for %s", err, want)
		}
	})
	t.Run("missing", func(t *testing.T) {
		missing := filepath.Join(dir, "none.ckpt")
		_, err := Load(missing)
		if want := "load " + missing + ": no such file or directory"; err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load(missing) = %v, want %q", err, want)
		}
		if n := strings.Count(err.Error(), missing); n != 1 {
			t.Errorf("%q names the path %d times", err, n)
		}
	})
}
