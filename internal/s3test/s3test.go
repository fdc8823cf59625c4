package s3test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/storage/s3store"
)

// EndpointEnv names a running S3 server to test against instead of starting
// one (tools/seaweedfs.sh start prints it).
const EndpointEnv = "TBTRAIN_S3_ENDPOINT"

// Bucket is the bucket every test uses; tests keep apart by key prefix (a
// SeaweedFS bucket is a collection with volumes of its own, so a bucket per
// test would use up the server's small volume budget).
const Bucket = "tbtrain-test"

// Server is a running S3 server.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	Bucket   string // the bucket made for the tests: [Bucket], or a private server's own

	script string // tools/seaweedfs.sh; "" for an external server
	dir    string // its data, ports, pid and log
}

var (
	mu       sync.Mutex
	shared   *Server
	skip     string // why there is no server
	privates int    // private servers started

	regMu      sync.Mutex
	registered map[string]*s3store.Store // bucket -> its store, for Register's opener
)

// SkipEnv set to "skip" skips every S3 test, even under CI=true.
const SkipEnv = "TBTRAIN_S3_TESTS"

// Get returns the test binary's server, starting it on first use, with
// Bucket created. It skips t (fails under CI=true) when no server can be had.
func Get(t testing.TB) *Server {
	t.Helper()
	skipped(t)
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && skip == "" {
		shared, skip = start()
	}
	if shared == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no S3 test server but CI=true: %s", skip)
		}
		t.Skipf("no S3 test server: %s", skip)
	}
	return shared
}

func skipped(t testing.TB) {
	t.Helper()
	if os.Getenv(SkipEnv) == "skip" {
		t.Skipf("%s=skip: the S3 tests are not run in this pass", SkipEnv)
	}
}

// Private starts a server of t's own (Bucket created), which t may stop and
// restart, and kills it when t ends. It skips t (fails under CI=true) when
// no server can be started.
func Private(t testing.TB) *Server {
	t.Helper()
	skipped(t)
	mu.Lock()
	privates++
	bucket := fmt.Sprintf("%s-p%d-%d", Bucket, os.Getpid(), privates)
	mu.Unlock()
	s, why := startOwn(bucket)
	if s == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no S3 test server but CI=true: %s", why)
		}
		t.Skipf("no S3 test server: %s", why)
	}
	t.Cleanup(func() {
		s.stop()
		os.RemoveAll(s.dir)
	})
	return s
}

// Main runs the tests and stops the server if one was started.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the server if one was started (for a TestMain that does more
// than Main).
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil && shared.script != "" {
		shared.stop()
		os.RemoveAll(shared.dir)
		shared = nil
	}
}

func start() (*Server, string) {
	if ep := os.Getenv(EndpointEnv); ep != "" {
		s := &Server{Endpoint: ep, Bucket: Bucket}
		if err := s.makeBucket(); err != nil {
			return nil, fmt.Sprintf("%s=%s: %v", EndpointEnv, ep, err)
		}
		return s, ""
	}
	return startOwn(Bucket)
}

// startOwn starts a server through tools/seaweedfs.sh with bucket made.
func startOwn(bucket string) (*Server, string) {
	script, err := findScript()
	if err != nil {
		return nil, err.Error()
	}
	if out, err := exec.Command("bash", script, "path").Output(); err != nil || len(bytes.TrimSpace(out)) == 0 {
		return nil, "SeaweedFS is not built (run tools/seaweedfs.sh build: about 10 minutes, once)"
	}
	dir, err := os.MkdirTemp("", "tbtrain-seaweedfs-")
	if err != nil {
		return nil, err.Error()
	}
	s := &Server{Bucket: bucket, script: script, dir: dir}
	if err := s.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err.Error()
	}
	if err := s.makeBucket(); err != nil {
		s.stop()
		os.RemoveAll(dir)
		return nil, err.Error()
	}
	return s, ""
}

// findScript finds tools/seaweedfs.sh in the module root above the working
// directory.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "tools", "seaweedfs.sh")
		if _, err := os.Stat(p); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return p, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("tools/seaweedfs.sh not found above the working directory")
		}
		dir = parent
	}
}

// Start starts the server (again, after Stop: same ports, same data).
func (s *Server) Start() error {
	if s.script == "" {
		return fmt.Errorf("an external server (%s) cannot be started", EndpointEnv)
	}
	out, err := exec.Command("bash", s.script, "start", s.dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("tools/seaweedfs.sh start: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "export "+EndpointEnv+"="); ok {
			s.Endpoint = v
		}
	}
	if s.Endpoint == "" {
		return fmt.Errorf("tools/seaweedfs.sh start printed no endpoint:\n%s", out)
	}
	return nil
}

// Restartable skips t (fails under CI=true) when the server cannot be
// stopped and started by the test.
func (s *Server) Restartable(t testing.TB) {
	t.Helper()
	if s.script == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s names an external server, which a test cannot stop, but CI=true", EndpointEnv)
		}
		t.Skipf("%s names an external server, which a test cannot stop", EndpointEnv)
	}
}

// Stop kills the server (SIGKILL, as a crash would); its data stays for
// Start.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) stop() error {
	if out, err := exec.Command("bash", s.script, "kill", s.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("tools/seaweedfs.sh kill: %v\n%s", err, out)
	}
	return nil
}

// Config returns the client configuration of the server, with a short
// retry budget unless retryFor is set.
func (s *Server) Config() s3store.Config {
	return s3store.Config{
		Endpoint:        s.Endpoint,
		AccessKeyID:     "tbtrain-test",
		SecretAccessKey: "tbtrain-test-secret",
		Region:          "us-east-1",
	}
}

// Env returns the environment that points a child process (train, tbdump,
// ckptinfo, TensorBoard) at the server.
func (s *Server) Env() []string {
	c := s.Config()
	return []string{
		s3store.EnvEndpointS3 + "=" + c.Endpoint,
		s3store.EnvTensorBoardEndpoint + "=" + c.Endpoint,
		s3store.EnvAccessKeyID + "=" + c.AccessKeyID,
		s3store.EnvSecretAccessKey + "=" + c.SecretAccessKey,
		s3store.EnvRegion + "=" + c.Region,
	}
}

// Register makes this process's s3:// locations of the server's bucket
// (ckpt, tbwriter, trainer) reach the server. Servers registered keep apart
// by bucket, so tests of a shared and a private server can run in parallel.
func (s *Server) Register() {
	st, err := s3store.New(s.Bucket, s.Config())
	if err != nil {
		panic(err) // s.Config is valid by construction
	}
	regMu.Lock()
	defer regMu.Unlock()
	if registered == nil {
		registered = map[string]*s3store.Store{}
		storage.Register("s3", func(u string) (storage.Store, string, error) {
			bucket, key, err := s3store.ParseURL(u)
			if err != nil {
				return nil, "", err
			}
			regMu.Lock()
			defer regMu.Unlock()
			st := registered[bucket]
			if st == nil {
				return nil, "", fmt.Errorf("s3test: %s: no test server has bucket %s", u, bucket)
			}
			return st, key, nil
		})
	}
	registered[s.Bucket] = st
}

// URL returns the s3:// URL of key in the server's bucket.
func (s *Server) URL(key string) string {
	return "s3://" + s.Bucket + "/" + key
}

// Dir registers the server for this process's s3:// locations ([Server.Register])
// and returns the s3:// URL of a key prefix of t's own ([Prefix]): a fresh
// directory for a test of code that takes locations.
func (s *Server) Dir(t testing.TB) string {
	s.Register()
	return s.URL(Prefix(t))
}

// Store returns a client of the server's bucket.
func (s *Server) Store(t testing.TB) *s3store.Store {
	t.Helper()
	st, err := s3store.New(s.Bucket, s.Config())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// GetStore returns a client of the bucket of the test binary's server
// ([Get]) and a key prefix of t's own ([Prefix]): what a test of one store
// needs. Like Get, it skips t (fails under CI=true) when no server can be
// had.
func GetStore(t testing.TB) (*s3store.Store, string) {
	t.Helper()
	return Get(t).Store(t), Prefix(t)
}

// Prefix returns a key prefix no other test (of this or an earlier run on
// the same server) uses.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("%s-%d", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), time.Now().UnixNano())
}

func (s *Server) makeBucket() error {
	st, err := s3store.New(s.Bucket, s.Config())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := st.MakeBucket(ctx); err != nil {
		return err
	}
	// SeaweedFS grows the bucket's first volumes on its first write, which
	// takes seconds; do it here, so that tests time what they mean to.
	if err := st.Put(ctx, ".warm-up", []byte("x")); err != nil {
		return err
	}
	return st.Delete(ctx, ".warm-up")
}
