package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/s3test"
)

// TestS3 reports on a run directory and a checkpoint copied to S3: the
// reports are the local ones but for the location.
func TestS3(t *testing.T) {
	srv := s3test.Get(t)
	srv.Setenv(t)
	dir := t.TempDir()
	t.Chdir(dir)
	makeRun(t)
	// A temp file of an interrupted commit has no S3 counterpart (a PUT
	// leaves none), so the local side goes without one too.
	if err := os.Remove(filepath.Join("run", ".LenetMnist2.ckpt.tmp-123456")); err != nil {
		t.Fatal(err)
	}
	// A name that occurs nowhere else in a report ("run" is a column).
	if err := os.Rename("run", "local-copy"); err != nil {
		t.Fatal(err)
	}
	url := srv.CopyDir(t, filepath.Join(dir, "local-copy"), s3test.Prefix(t)+"/run")
	for _, tc := range []struct {
		args  []string
		local string
		s3    string
	}{
		{nil, "local-copy", url},
		{[]string{"--json"}, "local-copy", url},
		{nil, "local-copy/LenetMnist0.ckpt", url + "/LenetMnist0.ckpt"},
		{[]string{"--tensors"}, "local-copy/LenetMnist1.ckpt", url + "/LenetMnist1.ckpt"},
	} {
		var want, got, errb bytes.Buffer
		werr := run(context.Background(), append(tc.args, tc.local), nil, &want, &errb)
		gerr := run(context.Background(), append(tc.args, tc.s3), nil, &got, &errb)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("ckptinfo %v: local error %v, S3 error %v", tc.args, werr, gerr)
		}
		w := strings.ReplaceAll(want.String(), tc.local, tc.s3)
		if got.String() != w {
			t.Errorf("ckptinfo %v %s differs from the local report:\n--- S3\n%s\n--- local (location replaced)\n%s", tc.args, tc.s3, got.String(), w)
		}
	}
}
