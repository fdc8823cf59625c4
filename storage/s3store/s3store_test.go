package s3store_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/s3test"
	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/storage/s3store"
	"github.com/tbtrain/tbtrain/storage/storagetest"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// TestConformance runs the storage conformance suite against a real
// SeaweedFS on loopback.
func TestConformance(t *testing.T) {
	t.Parallel()
	st, prefix := s3test.GetStore(t)
	storagetest.Run(t, st, prefix, "s3")
}

// TestServerDown kills the server (a server of its own, so that the other
// tests run meanwhile): a request fails after the retry budget with an
// error naming the bucket and key; a request made while the server
// restarts succeeds once it is back.
func TestServerDown(t *testing.T) {
	t.Parallel()
	srv := s3test.Private(t)
	cfg := srv.Config()
	cfg.Retry = s3store.Retry{Base: 50 * time.Millisecond, Max: 200 * time.Millisecond, For: 2 * time.Second}
	st, err := s3store.New(srv.Bucket, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := s3test.Prefix(t) + "/x.ckpt"
	if err := st.Put(ctx, key, []byte("before")); err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	start := time.Now()
	err = st.Put(ctx, key, []byte("while down"))
	took := time.Since(start)
	var se *storage.Error
	if !errors.As(err, &se) {
		t.Fatalf("Put to a stopped server: %v, want a *storage.Error", err)
	}
	if se.Bucket != srv.Bucket || se.Key != key || se.Attempts < 2 {
		t.Fatalf("error %v: bucket %q key %q after %d attempts; want %q %q and retries", err, se.Bucket, se.Key, se.Attempts, srv.Bucket, key)
	}
	if !strings.Contains(err.Error(), "s3://"+srv.Bucket+"/"+key) {
		t.Fatalf("message %q does not name s3://bucket/key", err)
	}
	t.Logf("Put to a stopped server failed after %s: %v", took.Round(time.Millisecond), err)
	if took < cfg.Retry.For/2 || took > 3*cfg.Retry.For {
		t.Fatalf("gave up after %s, want about the %s retry budget", took, cfg.Retry.For)
	}

	// A longer budget rides out a restart (SeaweedFS takes writes again
	// some seconds after it answers; short pauses notice that soon).
	cfg.Retry.For, cfg.Retry.Max = 60*time.Second, time.Second
	st2, err := s3store.New(srv.Bucket, cfg)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		started <- srv.Start()
	}()
	start = time.Now()
	err = st2.Put(ctx, key, []byte("after restart"))
	if serr := <-started; serr != nil {
		t.Fatal(serr)
	}
	if err != nil {
		t.Fatalf("Put across a restart: %v", err)
	}
	t.Logf("a Put made while the server was down and restarted after 1 s succeeded after %s", time.Since(start).Round(time.Millisecond))
	got, err := st2.Get(ctx, key, 0, -1)
	if err != nil || string(got) != "after restart" {
		t.Fatalf("Get after restart = %q, %v", got, err)
	}
}

func TestNoBucket(t *testing.T) {
	srv := s3test.Get(t)
	st, err := s3store.New("tbtrain-no-such-bucket", srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Get(context.Background(), "k", 0, -1)
	if !errors.Is(err, s3store.ErrNoBucket) {
		t.Fatalf("Get from a missing bucket: %v, want ErrNoBucket", err)
	}
}

// TestNoMinioInLocalPrograms checks that a program writing local event files
// and checkpoints does not link the S3 client: tbwriter, ckpt and storage
// must not depend on minio-go.
func TestNoMinioInLocalPrograms(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/tbtrain/tbtrain/tbwriter", "github.com/tbtrain/tbtrain/ckpt",
		"github.com/tbtrain/tbtrain/storage", "github.com/tbtrain/tbtrain/trainer").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "minio") || strings.HasSuffix(p, "/s3store") {
			t.Errorf("%s is linked into programs that use only local files", p)
		}
	}
	if !strings.Contains(string(out), "github.com/tbtrain/tbtrain/storage\n") {
		t.Errorf("go list -deps output does not list storage itself:\n%s", out)
	}
}
