package errpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestBare(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	_, openErr := os.Open(missing)
	renameErr := os.Rename(missing, filepath.Join(dir, "b"))
	enospc := &fs.PathError{Op: "write", Path: "/d/.a.tmp-1", Err: syscall.ENOSPC}
	notExist := openErr.(*fs.PathError).Err.Error() // "no such file or directory" on Unix
	for _, tc := range []struct {
		name  string
		err   error
		named []string
		want  string
	}{
		{"path named", openErr, []string{missing}, notExist},
		{"other path", openErr, []string{dir}, openErr.Error()},
		{"write", enospc, []string{"/d/a", "/d/.a.tmp-1"}, "no space left on device"},
		{"rename, both named", renameErr, []string{missing, filepath.Join(dir, "b")}, renameErr.(*os.LinkError).Err.Error()},
		{"rename, one named", renameErr, []string{missing}, renameErr.Error()},
		{"not an os error", errors.New("plain"), []string{missing}, "plain"},
		{"wrapped os error untouched", fmt.Errorf("x: %w", openErr), []string{missing}, "x: " + openErr.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Bare(tc.err, tc.named...)
			if got.Error() != tc.want {
				t.Errorf("Bare(%q).Error() = %q, want %q", tc.err, got.Error(), tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("Bare(%q) does not unwrap to the original error", tc.err)
			}
		})
	}
	// The chain below stays visible to errors.Is and errors.As.
	b := Bare(enospc, "/d/.a.tmp-1")
	var pe *fs.PathError
	if !errors.Is(b, syscall.ENOSPC) || !errors.As(b, &pe) || pe.Path != "/d/.a.tmp-1" {
		t.Errorf("Bare(ENOSPC PathError): errors.Is ENOSPC %v, errors.As PathError %v", errors.Is(b, syscall.ENOSPC), pe)
	}
	if !errors.Is(Bare(openErr, missing), fs.ErrNotExist) {
		t.Error("Bare(open error) is not fs.ErrNotExist")
	}
}

func TestReword(t *testing.T) {
	base := &fs.PathError{Op: "stat", Path: "x", Err: fs.ErrNotExist}
	r := Reword(base, "missing")
	if r.Error() != "missing" || !errors.Is(r, fs.ErrNotExist) {
		t.Errorf("Reword: %q, errors.Is ErrNotExist %v", r, errors.Is(r, fs.ErrNotExist))
	}
	if Reword(nil, "x") != nil {
		t.Error("Reword(nil) != nil")
	}
}
