package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/internal/s3test"
	"github.com/tbtrain/tbtrain/internal/selfexec"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/mnist/mnisttest"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/tbwriter/tbtest"
	"github.com/tbtrain/tbtrain/trainer"
)

// asMainEnv makes the test binary behave as the train command (the
// re-exec pattern of golang.org/x/tools/cmd/stringer's end-to-end test).
const asMainEnv = "TBTRAIN_TRAIN_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	s3test.Stop()
	if dataDir != "" {
		os.RemoveAll(dataDir)
	}
	os.Exit(code)
}

// dataDir holds synthetic IDX files shared by the tests of this package.
var dataDir string

func synthData(t *testing.T) string {
	t.Helper()
	if dataDir != "" {
		return dataDir
	}
	dir, err := os.MkdirTemp("", "train-test-data-")
	if err != nil {
		t.Fatal(err)
	}
	if err := mnisttest.WriteIDX(dir, mnist.TrainImages, mnist.TrainLabels, mnisttest.Synth(1024, 1)); err != nil {
		t.Fatal(err)
	}
	if err := mnisttest.WriteIDX(dir, mnist.TestImages, mnist.TestLabels, mnisttest.Synth(256, 2)); err != nil {
		t.Fatal(err)
	}
	dataDir = dir
	return dir
}

// quick are the flags of a fast run: 32 steps of 32 images per epoch.
func quick(t *testing.T, logdir string, extra ...string) []string {
	return append([]string{"--data", synthData(t), "--logdir", logdir, "--batch-size", "32",
		"--lr", "0.05", "--limit-test", "200", "--keep", "0"}, extra...)
}

// child is a running train process.
type child struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr bytes.Buffer
	out    bytes.Buffer // every stdout line, for failure messages
	done   chan struct{}
}

func start(t *testing.T, args ...string) *child {
	t.Helper()
	selfexec.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(exe, args...), lines: make(chan string, 1000), done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), asMainEnv+"=1")
	c.cmd.Stderr = &c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.out.WriteString(sc.Text() + "\n")
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
	}()
	return c
}

// waitFor returns the first stdout line that matches re.
func (c *child) waitFor(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("train exited before printing a line matching %q; stdout:\n%s\nstderr:\n%s", re, c.out.String(), c.stderr.String())
			}
			if rx.MatchString(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line matching %q within 60 s", re)
		}
	}
}

// wait waits for the process and returns its exit code.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	<-c.done
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// runToEnd runs train and fails unless it exits 0.
func runToEnd(t *testing.T, args ...string) string {
	t.Helper()
	c := start(t, args...)
	if code := c.wait(t); code != 0 {
		t.Fatalf("train %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, c.out.String(), c.stderr.String())
	}
	return c.out.String()
}

var runDirRe = regexp.MustCompile(`new run (\S+)`)

func runDirOf(t *testing.T, out string) string {
	t.Helper()
	m := runDirRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no run directory in output:\n%s", out)
	}
	return m[1]
}

// series returns the run's tags under rule with the wall times dropped.
func series(t *testing.T, dir string, rule tbwriter.PurgeRule) map[string][]tbwriter.Point {
	t.Helper()
	runs, err := tbwriter.ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]tbwriter.Point{}
	main := false
	for _, r := range runs {
		if r.Err != nil {
			t.Fatalf("event files of %s/%s: %v", dir, r.Name, r.Err)
		}
		prefix := "" // the run's hparams session directories: "<dir>/<tag>"
		switch {
		case r.Name == ".":
			main = true
		case strings.HasPrefix(r.Name, trainer.HParamsRunPrefix) && !strings.Contains(r.Name, "/"):
			prefix = r.Name + "/"
		default:
			t.Fatalf("ReadLogdir(%s): unexpected run %s", dir, r.Name)
		}
		for tag, pts := range r.Series(rule) {
			out[prefix+tag] = pts
		}
	}
	if !main {
		t.Fatalf("ReadLogdir(%s): no events in the run directory itself", dir)
	}
	return out
}

// sameLogs fails unless both runs logged the same tags at the same steps
// with the same values, and every tag has each step once, increasing.
func sameLogs(t *testing.T, got, want map[string][]tbwriter.Point) {
	t.Helper()
	var gt, wt []string
	for k := range got {
		gt = append(gt, k)
	}
	for k := range want {
		wt = append(wt, k)
	}
	slices.Sort(gt)
	slices.Sort(wt)
	if !slices.Equal(gt, wt) {
		t.Errorf("tags %v, uninterrupted run %v", gt, wt)
	}
	for tag, w := range want {
		g := got[tag]
		for i := 1; i < len(g); i++ {
			if g[i].Step <= g[i-1].Step {
				t.Errorf("tag %s: step %d after step %d", tag, g[i].Step, g[i-1].Step)
			}
		}
		if len(g) != len(w) {
			t.Errorf("tag %s: %d points, uninterrupted run %d", tag, len(g), len(w))
			continue
		}
		for i := range w {
			if g[i].Step != w[i].Step || !proto.Equal(tbtest.Comparable(g[i].Value), tbtest.Comparable(w[i].Value)) {
				t.Errorf("tag %s point %d: step %d %v, uninterrupted run step %d %v", tag, i, g[i].Step, g[i].Value, w[i].Step, w[i].Value)
				break
			}
		}
	}
}

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"--help"}, &out, &errb)
	if !errors.Is(err, pflag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"Examples:", "--resume latest", "--epochs", "--save-every-steps", "--limit-train", "tensorboard --logdir runs"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("--help output lacks %q:\n%s", want, errb.String())
		}
	}
	if strings.Contains(errb.String(), "step-delay") {
		t.Error("--help shows the hidden --step-delay test flag")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--batch-size", "0"},
		{"--lr", "-1"},
		{"--momentum", "1.5"},
		{"--no-such-flag"},
		{"stray-argument"},
		{"--workers", "-2"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb)
		if !errors.As(err, new(usageError)) {
			t.Errorf("train %v: %v, want a usage error", args, err)
		}
	}
}

// TestResumeConflict checks that a fixed flag changed on resume is refused
// with both values named, and that a harmless one is accepted.
func TestResumeConflict(t *testing.T) {
	logdir := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(context.Background(), quick(t, logdir, "--epochs", "1", "--limit-train", "256"), &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	err := run(context.Background(), quick(t, logdir, "--resume", "latest", "--lr", "0.1"), &out, &errb)
	var ce *trainer.ConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--lr 0.1") || !strings.Contains(err.Error(), "--lr 0.05") {
		t.Errorf("resume with --lr 0.1 over 0.05: %v", err)
	}
	if !errors.As(err, new(usageError)) { // exit status 2, a bad command line
		t.Errorf("resume with --lr 0.1 over 0.05: %v is not a usage error", err)
	}
	out.Reset()
	// The run is finished; resuming without --epochs says so and succeeds.
	if err := run(context.Background(), []string{"--logdir", logdir, "--resume", "latest"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "finished all 1 epochs") {
		t.Errorf("resume of a finished run printed:\n%s", out.String())
	}
	// --resume of a missing file names it.
	missing := filepath.Join(logdir, "nope", "LenetMnist3.ckpt")
	err = run(context.Background(), []string{"--resume", missing}, &out, &errb)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("--resume %s: %v", missing, err)
	}
}

// TestProcessStopResume is the end-to-end test of the README's resume
// promise: an uninterrupted run against the same run stopped by SIGTERM in the middle of an epoch,
// resumed by checkpoint path, stopped by SIGKILL, and resumed by "latest"
// (twice if needed). The final weights must be bitwise identical, and the
// event files must read, under both TensorBoard purge rules, as one curve
// with each step once and the same values as the uninterrupted run.
func TestProcessStopResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several processes")
	}
	// 3 epochs of 32 steps; periodic checkpoints every 10 steps.
	flags := []string{"--epochs", "3", "--save-every-steps", "10"}

	refLog := t.TempDir()
	refOut := runToEnd(t, quick(t, refLog, flags...)...)
	refDir := runDirOf(t, refOut)
	// Not a terminal: plain progress lines and one summary line per epoch.
	summary := regexp.MustCompile(`(?m)^epoch \d+  step \d+  train loss \d+\.\d+  test loss \d+\.\d+  test acc \d+\.\d+%  lr [\d.]+  [\d.]+ s  \d+ img/s  -> \S+LenetMnist\d\.ckpt$`)
	if n := len(summary.FindAllString(refOut, -1)); n != 3 {
		t.Errorf("%d epoch summary lines, want 3; stdout:\n%s", n, refOut)
	}
	if strings.Contains(refOut, "\r") || strings.Contains(refOut, "\x1b[") {
		t.Errorf("progress bar escape codes in non-terminal output:\n%q", refOut)
	}

	logdir := t.TempDir()
	slow := append(quick(t, logdir, flags...), "--step-delay", "15ms")

	// Session 1: SIGTERM in the middle of epoch 0.
	c := start(t, slow...)
	c.waitFor(t, `^epoch 0  batch (4|5|6|7)/32`)
	c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.wait(t); code != exitInterrupted {
		t.Fatalf("train exited %d after SIGTERM, want %d; stderr:\n%s", code, exitInterrupted, c.stderr.String())
	}
	m := regexp.MustCompile(`resume with: go run ./cmd/train --resume (\S+)`).FindStringSubmatch(c.stderr.String())
	if m == nil {
		t.Fatalf("no resume instructions after SIGTERM; stderr:\n%s", c.stderr.String())
	}
	path := m[1]
	if !regexp.MustCompile(`LenetMnist0-step\d+\.ckpt$`).MatchString(path) {
		t.Fatalf("SIGTERM in epoch 0 left %s, want a mid-epoch checkpoint of epoch 0", path)
	}
	dir := filepath.Dir(path)
	ck, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if ck.GetBatchInEpoch() == 0 || ck.GetEpoch() != 0 {
		t.Fatalf("SIGTERM checkpoint at epoch %d batch %d, want inside epoch 0", ck.GetEpoch(), ck.GetBatchInEpoch())
	}

	// Session 2: resume by path, SIGKILL in epoch 1 after its first periodic checkpoint.
	c = start(t, append(slow, "--resume", path)...)
	c.waitFor(t, `^resuming .* global step `+fmt.Sprint(ck.GetGlobalStep()))
	c.waitFor(t, `^epoch 1  batch (1[3-9]|2\d)/32`)
	c.cmd.Process.Kill()
	c.wait(t)

	// Session 3+: resume by "latest" until done (without the delay).
	for i := 0; ; i++ {
		if i == 3 {
			t.Fatal("not done after 3 resumes")
		}
		c := start(t, quick(t, logdir, "--resume", "latest")...)
		code := c.wait(t)
		if code != 0 {
			t.Fatalf("resume latest: exit %d\n%s\n%s", code, c.out.String(), c.stderr.String())
		}
		if strings.Contains(c.out.String(), "done: 3 epochs") {
			break
		}
	}

	ckpttest.Same(t, "weights", ckpttest.FinalParams(t, dir), ckpttest.FinalParams(t, refDir))
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		got, want := series(t, dir, rule), series(t, refDir, rule)
		sameLogs(t, got, want)
		// Each step of the per-step loss once, 1..96, and the epoch tags at 32, 64, 96.
		var steps []int64
		for _, p := range got["train/loss_step"] {
			steps = append(steps, p.Step)
		}
		if len(steps) != 96 || steps[0] != 1 || steps[95] != 96 {
			t.Errorf("rule %v: train/loss_step steps %v, want 1..96", rule, steps)
		}
		for _, tag := range []string{"train/loss", "test/acc", "test/loss", "learning_rate", "epoch"} {
			var s []int64
			for _, p := range got[tag] {
				s = append(s, p.Step)
			}
			if !slices.Equal(s, []int64{32, 64, 96}) {
				t.Errorf("rule %v: %s at steps %v, want [32 64 96]", rule, tag, s)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if len(files) < 3 {
		t.Errorf("%d event files, want one per session (>= 3)", len(files))
	}
}

// TestInterruptSignals checks the Ctrl-C contract of main: one SIGINT
// finishes the step, checkpoints and exits 130 with resume instructions; a
// second SIGINT while that is under way kills the process at once.
func TestInterruptSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	// 1 s per step: the signals land inside the sleep after step 1.
	slow := func() []string { return quick(t, t.TempDir(), "--step-delay", "1s") }

	c := start(t, slow()...)
	c.waitFor(t, `^watch it with`)
	time.Sleep(300 * time.Millisecond)
	c.cmd.Process.Signal(os.Interrupt)
	if code := c.wait(t); code != exitInterrupted || !strings.Contains(c.stderr.String(), "resume with: ") {
		t.Errorf("one SIGINT: exit %d, want %d with resume instructions; stderr:\n%s", code, exitInterrupted, c.stderr.String())
	}

	c = start(t, slow()...)
	c.waitFor(t, `^watch it with`)
	time.Sleep(300 * time.Millisecond)
	c.cmd.Process.Signal(os.Interrupt)
	time.Sleep(100 * time.Millisecond)
	c.cmd.Process.Signal(os.Interrupt)
	<-c.done
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("two SIGINTs: %v, want the process killed by SIGINT; stderr:\n%s", err, c.stderr.String())
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("two SIGINTs: %v, want the process killed by SIGINT; stderr:\n%s", err, c.stderr.String())
	}
}

// runIDRe matches the run ID that train prints for a new run.
var runIDRe = regexp.MustCompile(`run ID ([0-9a-f]{32})`)

// TestResumeAmongOtherRunsCheckpoints is the data loss found in review, end
// to end: run 2's mid-epoch checkpoints (steps 0 to 40) and run 1's
// LenetMnist0.ckpt are copied into saved/; resuming run 1's file (or the
// directory), even with --keep 1, must fail at once with exit 1, naming the
// directory and the other run, and leave every file of saved/ as it was (no
// deletion, no rename, no event file).
func TestResumeAmongOtherRunsCheckpoints(t *testing.T) {
	base := t.TempDir()
	out1 := runToEnd(t, quick(t, filepath.Join(base, "runs1"), "--epochs", "2", "--seed", "1", "--limit-train", "256")...)
	out2 := runToEnd(t, quick(t, filepath.Join(base, "runs2"), "--epochs", "3", "--seed", "2", "--limit-train", "480",
		"--save-every-steps", "10", "--keep", "0")...)
	run1, run2 := runDirOf(t, out1), runDirOf(t, out2)
	id1, id2 := runIDRe.FindStringSubmatch(out1), runIDRe.FindStringSubmatch(out2)
	if id1 == nil || id2 == nil || id1[1] == id2[1] {
		t.Fatalf("run IDs %v and %v: want two different ones printed", id1, id2)
	}
	saved := filepath.Join(base, "saved")
	if err := os.Mkdir(saved, 0o755); err != nil {
		t.Fatal(err)
	}
	copyTo := func(from string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(saved, filepath.Base(from)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps, _ := filepath.Glob(filepath.Join(run2, "LenetMnist*-step*.ckpt"))
	if len(steps) != 4 { // steps 0, 10, 20, 40
		t.Fatalf("run 2 has mid-epoch checkpoints %v, want 4", steps)
	}
	for _, p := range steps {
		copyTo(p)
	}
	copyTo(filepath.Join(run1, "LenetMnist0.ckpt"))
	snapshot := func() map[string]string {
		m := map[string]string{}
		ents, err := os.ReadDir(saved)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			b, _ := os.ReadFile(filepath.Join(saved, e.Name()))
			m[e.Name()] = string(b)
		}
		return m
	}
	before := snapshot()
	for _, target := range []string{filepath.Join(saved, "LenetMnist0.ckpt"), saved} {
		for _, keep := range []string{"5", "1"} {
			c := start(t, quick(t, filepath.Join(base, "runs1"), "--resume", target, "--keep", keep)...)
			code := c.wait(t)
			msg := c.stderr.String()
			if code != 1 || !strings.Contains(msg, saved) || !strings.Contains(msg, id2[1]) || !strings.Contains(msg, "nothing was changed") {
				t.Errorf("--resume %s --keep %s: exit %d, stderr:\n%s\nwant exit 1 and a message naming %s and run %s", target, keep, code, msg, saved, id2[1])
			}
			if target == saved {
				continue // the newest checkpoint there is run 2's: the message names run 1 as the other run
			}
			if !strings.Contains(msg, id1[1]) {
				t.Errorf("--resume %s: the message does not name the checkpoint's run %s:\n%s", target, id1[1], msg)
			}
		}
	}
	if diff := cmp.Diff(before, snapshot()); diff != "" {
		t.Errorf("saved/ changed (-before +after):\n%s", diff)
	}
}
