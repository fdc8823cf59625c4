package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/internal/s3test"
	"github.com/tbtrain/tbtrain/internal/selfexec"
	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/trainer"
)

// s3Child is a train process talking to the S3 test server, whose stdout
// and stderr lines (the test markers among them) are streamed.
type s3Child struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string // stdout and stderr, in arrival order per stream
	cond  *sync.Cond
	done  chan struct{}
}

// startS3 starts train in a fresh working directory and HOME, as on a new
// machine that has nothing but the binary and the S3 environment.
func startS3(t *testing.T, srv *s3test.Server, args ...string) *s3Child {
	t.Helper()
	selfexec.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wd, home := t.TempDir(), t.TempDir()
	c := &s3Child{cmd: exec.Command(exe, args...), done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	c.cmd.Dir = wd
	c.cmd.Env = append(os.Environ(), asMainEnv+"=1", "HOME="+home, faultinject.MarkersEnv+"=1")
	c.cmd.Env = append(c.cmd.Env, srv.Env()...)
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, r := range []*os.File{stdout.(*os.File), stderr.(*os.File)} {
		wg.Go(func() {
			sc := bufio.NewScanner(r)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				c.mu.Lock()
				c.lines = append(c.lines, sc.Text())
				c.cond.Broadcast()
				c.mu.Unlock()
			}
		})
	}
	go func() {
		wg.Wait()
		c.mu.Lock()
		close(c.done)
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	return c
}

// waitLine waits for a line matching re and returns it, or "" if the
// process ends first or timeout passes.
func (c *s3Child) waitLine(re *regexp.Regexp, from int, timeout time.Duration) (string, int) {
	deadline := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer deadline.Stop()
	end := time.Now().Add(timeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := from; ; {
		for ; i < len(c.lines); i++ {
			if re.MatchString(c.lines[i]) {
				return c.lines[i], i + 1
			}
		}
		select {
		case <-c.done:
			return "", i
		default:
		}
		if time.Now().After(end) {
			return "", i
		}
		c.cond.Wait()
	}
}

func (c *s3Child) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

func (c *s3Child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// wait returns the exit code.
func (c *s3Child) wait(t *testing.T) int {
	t.Helper()
	<-c.done
	err := c.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func (c *s3Child) runToEnd(t *testing.T) string {
	t.Helper()
	if code := c.wait(t); code != 0 {
		t.Fatalf("train %s: exit %d\n%s", strings.Join(c.cmd.Args[1:], " "), code, c.output())
	}
	return c.output()
}

// s3Logdir returns a fresh s3:// log directory on the shared test server
// (or, private, on a server of t's own, which t may stop), and makes this
// process read s3:// there.
func s3Logdir(t *testing.T, private bool) (*s3test.Server, string) {
	selfexec.Require(t) // every S3 test here runs train as a child
	var srv *s3test.Server
	if private {
		srv = s3test.Private(t)
	} else {
		srv = s3test.Get(t)
	}
	return srv, srv.Dir(t)
}

// s3Quick are the flags of the S3 runs: quick's, 3 epochs of 32 steps, a
// checkpoint every 8 steps (so kills find commits to land in), a 10 s lease
// (a later --lease-ttl in extra wins).
func s3Quick(t *testing.T, logdir string, extra ...string) []string {
	return quick(t, logdir, append([]string{"--epochs", "3", "--save-every-steps", "8", "--lease-ttl", leaseTTL.String(), "--no-progress"}, extra...)...)
}

// leaseTTL is the lease of the test runs that wait for a lease to lapse:
// short, to wait out.
const leaseTTL = 10 * time.Second

// killLeaseTTL is the lease of TestS3KillResume's runs: long enough that a
// resume started right after a kill reaches its lease check while the lease
// is surely live, on a loaded machine too. The killed trainer renewed it at
// most a third of the TTL before the kill; the resume starts a process,
// finds and reads a checkpoint on S3 and loads MNIST before it looks at the
// lease, which on a machine shared by many jobs can take more than the
// 6.7 s a 10 s lease may have left (the test logs how long it took).
const killLeaseTTL = 20 * time.Second

// reference is an uninterrupted local run of the same flags.
func reference(t *testing.T) (string, func(*testing.T, string)) {
	t.Helper()
	local := filepath.Join(t.TempDir(), "runs")
	out := runToEnd(t, s3Quick(t, local)...)
	dir := runDirOf(t, out)
	want := ckpttest.FinalParams(t, dir)
	wantPy, wantRust := series(t, dir, tbwriter.PythonPurge), series(t, dir, tbwriter.RustPurge)
	return dir, func(t *testing.T, s3dir string) {
		t.Helper()
		ckpttest.Same(t, "weights", ckpttest.FinalParams(t, s3dir), want)
		sameLogs(t, series(t, s3dir, tbwriter.PythonPurge), wantPy)
		sameLogs(t, series(t, s3dir, tbwriter.RustPurge), wantRust)
	}
}

// TestS3MatchesLocal trains the same run to the end on S3 and in a local
// directory: the final weights and every logged value are equal, bit for
// bit.
func TestS3MatchesLocal(t *testing.T) {
	t.Parallel()
	srv, logdir := s3Logdir(t, false)
	_, check := reference(t)
	out := startS3(t, srv, s3Quick(t, logdir)...).runToEnd(t)
	dir := runDirOf(t, out)
	if !strings.HasPrefix(dir, logdir+"/") {
		t.Fatalf("run directory %s is not under %s", dir, logdir)
	}
	check(t, dir)
	runs, err := tbwriter.ReadLogdir(logdir)
	if err != nil {
		t.Fatal(err)
	}
	objects := 0
	for _, r := range runs {
		objects += len(r.Files)
	}
	t.Logf("%d runs (the run and its hparams session), %d event objects, for %d checkpoint commits", len(runs), objects, 3*32/8+1)
}

var (
	markerRe  = regexp.MustCompile(`^tbtrain-test: `)
	commitRe  = regexp.MustCompile(`^tbtrain-test: (commit-begin|flush-begin)`)
	runRe     = regexp.MustCompile(`new run (\S+)`)
	resumedRe = regexp.MustCompile(`^resuming `)
	leaseRe   = regexp.MustCompile(`being trained by host .* \(lease s3://`)
)

// TestS3KillResume SIGKILLs an S3 run at random moments, many of them
// inside a checkpoint PUT or an event upload, and resumes it each time from
// another working directory and HOME with --resume s3://.../<run> (as a new
// machine would): the finished run equals the uninterrupted local one bit
// for bit, every step once. A resume while the killed trainer's lease is
// live is refused, naming the lease; then the first round waits for the
// lease to lapse (a resume takes it over), the others delete it by hand, as
// the refusal tells a user who knows the trainer is gone.
func TestS3KillResume(t *testing.T) {
	t.Parallel()
	srv, logdir := s3Logdir(t, false)
	_, check := reference(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 13))

	// Slow steps (5 ms) leave time to aim; they change no result.
	args := s3Quick(t, logdir, "--step-delay", "5ms", "--lease-ttl", killLeaseTTL.String())
	c := startS3(t, srv, args...)
	line, _ := c.waitLine(runRe, 0, 60*time.Second)
	if line == "" {
		t.Fatalf("no new run line:\n%s", c.output())
	}
	run := runRe.FindStringSubmatch(line)[1]
	// A run killed before its step-0 checkpoint has nothing to resume
	// from (a new run is the remedy, as for local runs); aim after it.
	if l, _ := c.waitLine(regexp.MustCompile(`^tbtrain-test: commit-end `), 0, 60*time.Second); l == "" {
		t.Fatalf("no first commit:\n%s", c.output())
	}
	kills, inCommit, refused := 0, 0, 0
	for round := 0; round < 4; round++ {
		// Kill inside a commit (PUT of a checkpoint or upload of events)
		// or after a random number of markers.
		from := c.count()
		var got string
		switch {
		case round == 0: // during a checkpoint PUT
			got, _ = c.waitLine(regexp.MustCompile(`^tbtrain-test: commit-begin`), from, 60*time.Second)
		case round == 1: // during an event upload
			got, _ = c.waitLine(regexp.MustCompile(`^tbtrain-test: flush-begin`), from, 60*time.Second)
		case rng.IntN(3) > 0:
			got, _ = c.waitLine(commitRe, from, 60*time.Second)
		default:
			n := 1 + rng.IntN(40)
			for i := 0; i < n; i++ {
				got, from = c.waitLine(markerRe, from, 60*time.Second)
				if got == "" {
					break
				}
			}
		}
		if got == "" {
			break // finished before the kill
		}
		c.cmd.Process.Signal(syscall.SIGKILL)
		c.wait(t)
		killed := c.output()
		kills++
		if commitRe.MatchString(got) {
			inCommit++
		}
		// The killed trainer's lease is live for a while: a resume right
		// away is refused, naming it.
		killedAt := time.Now()
		r := startS3(t, srv, append(args, "--resume", run)...)
		code := r.wait(t)
		t.Logf("round %d: the immediate resume ended %s after the kill", round, time.Since(killedAt).Round(time.Millisecond))
		if code == 0 {
			t.Fatalf("round %d: a resume right after the kill was not refused for the live lease:\n%s", round, r.output())
		} else if leaseRe.MatchString(r.output()) {
			refused++
		} else {
			t.Fatalf("round %d: immediate resume exit %d, not refused for the lease:\n%s", round, code, r.output())
		}
		if round == 0 {
			time.Sleep(time.Until(leaseExpiry(t, run)) + 500*time.Millisecond)
		} else {
			st, key, err := storage.For(storage.Join(run, trainer.LeaseName))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(context.Background(), key); err != nil {
				t.Fatal(err)
			}
		}
		// Every form of --resume: the run, the newest checkpoint under
		// --logdir, and a checkpoint file: the last one the killed trainer
		// reported committed (a newer one may exist: it is then set
		// aside), or the newest if it reported none.
		target := run
		switch round % 3 {
		case 1:
			target = "latest"
		case 2:
			target = lastCommitted(killed)
			if target == "" { // the killed session committed none
				_, target, _, _ = ckpt.Newest(run)
			}
		}
		t.Logf("round %d: SIGKILL after %q; resume refused while the lease lived, then --resume %s", round, got, target)
		c = startS3(t, srv, append(args, "--resume", target)...)
		if l, _ := c.waitLine(resumedRe, 0, 60*time.Second); l == "" {
			t.Fatalf("round %d: resume did not start:\n%s", round, c.output())
		}
	}
	c.runToEnd(t)
	t.Logf("%d SIGKILLs (%d right after a checkpoint PUT or event upload began), %d resumes refused for a live lease", kills, inCommit, refused)
	if kills == 0 {
		t.Fatal("the run ended before any kill")
	}
	check(t, run)
}

// TestS3ServerRestart kills the S3 server (one of its own) under a running
// trainer. Down for a few seconds, the trainer's retries ride it out and
// the run ends equal to the local one. Down for longer than the retry
// budget, the run fails naming the bucket and key, the last committed
// checkpoint is intact, and a resume once the server is back ends bit for
// bit equal.
func TestS3ServerRestart(t *testing.T) {
	t.Parallel()
	srv, logdir := s3Logdir(t, true)
	_, check := reference(t)

	t.Run("retried", func(t *testing.T) {
		c := startS3(t, srv, s3Quick(t, logdir+"/a", "--step-delay", "20ms")...)
		line, _ := c.waitLine(runRe, 0, 60*time.Second)
		if line == "" {
			t.Fatalf("no new run:\n%s", c.output())
		}
		run := runRe.FindStringSubmatch(line)[1]
		c.waitLine(regexp.MustCompile(`^tbtrain-test: step 20$`), 0, 60*time.Second)
		srv.Stop(t)
		time.Sleep(3 * time.Second)
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		c.runToEnd(t)
		check(t, run)
	})

	t.Run("failed", func(t *testing.T) {
		args := s3Quick(t, logdir+"/b", "--step-delay", "20ms", "--s3-retry-for", "3s")
		c := startS3(t, srv, args...)
		line, _ := c.waitLine(runRe, 0, 60*time.Second)
		if line == "" {
			t.Fatalf("no new run:\n%s", c.output())
		}
		run := runRe.FindStringSubmatch(line)[1]
		c.waitLine(regexp.MustCompile(`^tbtrain-test: commit-end .*step16`), 0, 60*time.Second)
		start := time.Now()
		srv.Stop(t)
		code := c.wait(t)
		took := time.Since(start)
		out := c.output()
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		if code != 1 {
			t.Fatalf("exit %d with the server down, want 1:\n%s", code, out)
		}
		if !strings.Contains(out, "s3://"+srv.Bucket+"/") || !strings.Contains(out, "attempts") || !strings.Contains(out, "resume with") {
			t.Fatalf("the error does not name the bucket and key, the retries and how to resume:\n%s", out)
		}
		t.Logf("with the server down the trainer failed after %s:\n%s", took.Round(time.Millisecond), lastLines(out, 4))
		// Every checkpoint reported committed is there and verifies.
		for _, l := range strings.Split(out, "\n") {
			if p, ok := strings.CutPrefix(l, "tbtrain-test: commit-end "); ok {
				if _, err := ckpt.Load(p); err != nil {
					t.Fatalf("checkpoint %s was reported committed but: %v", p, err)
				}
			}
		}
		time.Sleep(leaseTTL + 500*time.Millisecond) // the lease lapses
		r := startS3(t, srv, append(args[:len(args)-2], "--resume", run)...)
		r.runToEnd(t)
		check(t, run)
	})
}

// leaseExpiry reads when the lease of the run at dir lapses.
func leaseExpiry(t *testing.T, dir string) time.Time {
	t.Helper()
	st, key, err := storage.For(storage.Join(dir, trainer.LeaseName))
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Get(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatalf("reading the lease of %s: %v", dir, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "expires "); ok {
			ns, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("lease %q: %v", b, err)
			}
			return time.Unix(0, ns)
		}
	}
	t.Fatalf("lease %q has no expiry", b)
	return time.Time{}
}

// lastCommitted returns the last checkpoint a train output reports
// committed.
func lastCommitted(out string) string {
	last := ""
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "tbtrain-test: commit-end "); ok {
			last = p
		}
	}
	return last
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// TestS3LeaseLost replaces the lease of a running S3 trainer with another
// trainer's, as a takeover after a long pause would: the trainer stops at
// its next checkpoint commit at the latest, with exit 1 and a message
// naming the new holder, and leaves the new holder's lease alone; what it
// logged past its last checkpoint does not show in the resumed run.
func TestS3LeaseLost(t *testing.T) {
	t.Parallel()
	srv, logdir := s3Logdir(t, false)
	c := startS3(t, srv, s3Quick(t, logdir, "--step-delay", "5ms")...)
	line, _ := c.waitLine(runRe, 0, 60*time.Second)
	if line == "" {
		t.Fatalf("no new run line:\n%s", c.output())
	}
	run := runRe.FindStringSubmatch(line)[1]
	if l, _ := c.waitLine(regexp.MustCompile(`^tbtrain-test: commit-end .*step8`), 0, 60*time.Second); l == "" {
		t.Fatalf("no commit at step 8:\n%s", c.output())
	}
	st, key, err := storage.For(storage.Join(run, trainer.LeaseName))
	if err != nil {
		t.Fatal(err)
	}
	other := fmt.Sprintf("tbtrain lease 1\nholder host elsewhere pid 4242\ntoken 00ff\nexpires %d\n", time.Now().Add(time.Hour).UnixNano())
	if err := st.Put(context.Background(), key, []byte(other)); err != nil {
		t.Fatal(err)
	}
	from := c.count()
	code := c.wait(t)
	out := c.output()
	if code != 1 || !strings.Contains(out, "lost the run's lease") || !strings.Contains(out, "host elsewhere pid 4242") ||
		!strings.Contains(out, "goes on under that trainer") {
		t.Fatalf("exit %d after the lease was taken over; want 1 and a message naming the new holder:\n%s", code, lastLines(out, 6))
	}
	// A commit whose renewal came before the takeover may still finish;
	// none after it.
	after := 0
	for _, l := range strings.Split(out, "\n")[from:] {
		if strings.HasPrefix(l, "tbtrain-test: commit-end ") {
			after++
		}
	}
	if after > 1 {
		t.Fatalf("%d checkpoints committed after the lease was taken over:\n%s", after, out)
	}
	b, err := st.Get(context.Background(), key, 0, -1)
	if err != nil || string(b) != other {
		t.Fatalf("the new holder's lease is %q, %v after the old trainer stopped", b, err)
	}
	t.Logf("after the takeover: %d commit finished, then %s", after, lastLines(out, 2))

	// The events the stopped trainer uploaded past its last checkpoint
	// (at the Sync of the refused commit, and at its Close) do not show:
	// once the lease is free, a resume from that checkpoint ends equal to
	// an uninterrupted run, every logged value under both purge rules.
	lastCommit := int64(-1)
	if _, newest, _, err := ckpt.Newest(run); err == nil {
		if c, err := ckpt.Load(newest); err == nil {
			lastCommit = c.GetGlobalStep()
		}
	}
	logged := int64(-1)
	for _, p := range series(t, run, tbwriter.PythonPurge)["train/loss_step"] {
		logged = max(logged, p.Step)
	}
	if lastCommit < 0 || logged <= lastCommit {
		t.Fatalf("events reach step %d, the last checkpoint step %d: want events past it to test", logged, lastCommit)
	}
	t.Logf("the stopped trainer logged up to step %d, its last checkpoint is at step %d", logged, lastCommit)
	if err := st.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	_, check := reference(t)
	startS3(t, srv, s3Quick(t, logdir, "--resume", run)...).runToEnd(t)
	check(t, run)
}
