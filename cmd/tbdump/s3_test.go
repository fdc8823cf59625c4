package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/s3test"
)

// TestS3 dumps a log directory and the same files copied to S3: the
// reports are the same but for the location.
func TestS3(t *testing.T) {
	srv := s3test.Get(t)
	srv.Setenv(t)
	local := filepath.Join(fixtures, "seed-2022")
	url := srv.CopyDir(t, local, s3test.Prefix(t)+"/logs")
	for _, args := range [][]string{{}, {"--purge=python"}, {"--json"}} {
		var want, got, errb bytes.Buffer
		if err := run(context.Background(), append(args, local), nil, &want, &errb); err != nil {
			t.Fatalf("tbdump %v %s: %v\n%s", args, local, err, errb.String())
		}
		if err := run(context.Background(), append(args, url), nil, &got, &errb); err != nil {
			t.Fatalf("tbdump %v %s: %v\n%s", args, url, err, errb.String())
		}
		w := strings.ReplaceAll(want.String(), local, url)
		if got.String() != w {
			t.Errorf("tbdump %v on S3 differs from the local dump:\n--- S3\n%s\n--- local (location replaced)\n%s", args, got.String(), w)
		}
	}
}
