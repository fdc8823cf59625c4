package trainer_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/trainer"
)

// TestResumeErrorText checks what --resume says about a damaged or missing
// checkpoint: the path once, the cause, and the way out.
func TestResumeErrorText(t *testing.T) {
	logdir := t.TempDir()
	dir, err := runFresh(t, logdir, smallConfig(), 0)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "LenetMnist0.ckpt")
	b, err := os.ReadFile(damaged)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(damaged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "LenetMnist7.ckpt")
	for _, tc := range []struct {
		target string
		want   string // regexp of the whole message
		is     error
	}{
		{damaged, `^trainer: --resume ` + regexp.QuoteMeta(damaged) + `: ckpt: checkpoint corrupt: payload CRC-32C is 0x[0-9a-f]{8}, the file records 0x[0-9a-f]{8} \(--resume ` +
			regexp.QuoteMeta(dir) + ` takes the newest valid checkpoint of that run\)$`, ckpt.ErrCorrupt},
		{missing, `^trainer: --resume ` + regexp.QuoteMeta(missing) + `: no such file or directory$`, fs.ErrNotExist},
	} {
		_, _, _, err := trainer.Locate(tc.target, logdir)
		if err == nil {
			t.Fatalf("Locate(%s) succeeded", tc.target)
		}
		if !regexp.MustCompile(tc.want).MatchString(err.Error()) {
			t.Errorf("Locate(%s) error\n%s\nwant a match for\n%s", tc.target, err, tc.want)
		}
		if n := strings.Count(err.Error(), tc.target); n != 1 {
			t.Errorf("the error names %s %d times", tc.target, n)
		}
		var ce *ckpt.Error
		if !errors.Is(err, tc.is) || (tc.is == ckpt.ErrCorrupt && !errors.As(err, &ce)) {
			t.Errorf("Locate(%s) error %v is not %v (or lost its *ckpt.Error)", tc.target, err, tc.is)
		}
	}
}
