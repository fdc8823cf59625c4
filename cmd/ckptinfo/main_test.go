package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/s3test"
	"github.com/tbtrain/tbtrain/internal/selfexec"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// asCommand makes the test binary run main instead of the tests (TestMain),
// so the end-to-end tests can check exit codes.
const asCommand = "CKPTINFO_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	s3test.Stop()
	os.Exit(code)
}

// fixture returns a valid checkpoint at the given position.
func fixture(epoch, step, batch int64) *ckptpb.Checkpoint {
	c := &ckptpb.Checkpoint{
		FormatVersion: ckpt.FormatVersion,
		Model:         "lenet5-mnist",
		Epoch:         epoch,
		GlobalStep:    step,
		BatchInEpoch:  batch,
		Params: []*ckptpb.Tensor{
			{Name: "lineNet.5.weight", Shape: []int64{2, 3}, Data: []float32{0.5, -1.5, 0.25, 2, 0, -0.75}},
			{Name: "lineNet.5.bias", Shape: []int64{2}, Data: []float32{0.125, -0.125}},
		},
		Optimizer: &ckptpb.SGD{Lr: 0.009, Momentum: 0.9, HasBuffers: true, MomentumBuffer: []*ckptpb.Tensor{
			{Name: "lineNet.5.weight", Shape: []int64{2, 3}, Data: []float32{0.01, 0.02, 0.03, 0.04, 0.05, 0.06}},
			{Name: "lineNet.5.bias", Shape: []int64{2}, Data: []float32{-0.5, 0.5}},
		}},
		Scheduler: &ckptpb.CosineSchedule{BaseLr: 0.01, EtaMin: 1e-4, TMax: 20, LastEpoch: epoch},
		RngState:  []byte("pcg-state-bytes!"),
		Config: &ckptpb.Config{Epochs: 20, BatchSize: 64, Lr: 0.01, Momentum: 0.9, EtaMin: 1e-4, Seed: 1, LimitTrain: 640, SaveEverySteps: 5, Keep: 3,
			SaveEveryNanos: int64(10 * time.Minute), KeepBest: 2, Embed: 1000},
		Kernel: "avx2",
		RunId:  "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		Build: &ckptpb.Build{ModuleVersion: "v0.0.0-20261118093000-0123456789ab", VcsRevision: "0123456789abcdef0123456789abcdef01234567",
			VcsTime: "2026-11-18T09:30:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"},
		UnixNano: 1_795_000_000_000_000_000 + step*1_000_000_000, // 2026-11-18T...
	}
	for e := range epoch {
		c.History = append(c.History, &ckptpb.EpochMetrics{Epoch: e, Step: (e + 1) * 10, TrainLoss: 0.5 / float64(e+1),
			TestLoss: 0.25 / float64(e+1), TestAcc: 0.9 + 0.01*float64(e), Lr: 0.01, Seconds: 1.5})
	}
	c.EpochLossSum = float64(batch) * 0.25
	return c
}

// makeRun creates, in the current directory, run/ with two valid checkpoints,
// a corrupt one, a torn temp file and a foreign file, plus empty/.
func makeRun(t *testing.T) {
	t.Helper()
	if err := os.MkdirAll("run", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("empty", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name               string
		epoch, step, batch int64
	}{{"LenetMnist0.ckpt", 1, 10, 0}, {"LenetMnist1-step15.ckpt", 1, 15, 5}, {"LenetMnist1.ckpt", 2, 20, 0}} {
		if err := ckpt.Save(filepath.Join("run", f.name), fixture(f.epoch, f.step, f.batch)); err != nil {
			t.Fatal(err)
		}
	}
	// Damage the newest: flip a byte in the middle of its payload.
	p := filepath.Join("run", "LenetMnist1.ckpt")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	for name, content := range map[string][]byte{
		"LenetMnist1.ckpt":             b,
		".LenetMnist2.ckpt.tmp-123456": b[:50],
		"events.out.tfevents.1.host":   []byte("x"),
	} {
		if err := os.WriteFile(filepath.Join("run", name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGolden(t *testing.T) {
	golden, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	makeRun(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"file", []string{"run/LenetMnist1-step15.ckpt"}, ""},
		{"file_tensors", []string{"--tensors", "run/LenetMnist0.ckpt"}, ""},
		{"corrupt", []string{"run/LenetMnist1.ckpt"}, "1 of 1 checkpoints failed verification"},
		{"dir", []string{"run"}, "1 of 3 checkpoints failed verification"},
		{"dir_json", []string{"--json", "run"}, "1 of 3 checkpoints failed verification"},
		{"mixed", []string{"run/LenetMnist0.ckpt", "run/missing.ckpt", "empty"}, "empty: no checkpoint files (*.ckpt)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
			if got := errString(err); got != tc.wantErr {
				t.Errorf("run error %q, want %q", got, tc.wantErr)
			}
			path := filepath.Join(golden, tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), stdout.String()); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestJSON checks the JSON report field by field against the checkpoints.
func TestJSON(t *testing.T) {
	t.Chdir(t.TempDir())
	makeRun(t)
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"--json", "--tensors", "run"}, nil, &stdout, &bytes.Buffer{})
	if err == nil {
		t.Fatal("run succeeded on a directory with a corrupt checkpoint")
	}
	var out output
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Dirs) != 1 || len(out.Dirs[0].Checkpoints) != 3 {
		t.Fatalf("got %+v, want one directory with 3 checkpoints", out)
	}
	cs := out.Dirs[0].Checkpoints
	if cs[0].OK || cs[0].Problem != "corrupt" || !strings.Contains(cs[0].Error, "payload CRC-32C") {
		t.Errorf("corrupt entry: %+v", cs[0])
	}
	for i, want := range []*ckptpb.Checkpoint{fixture(1, 10, 0), fixture(1, 15, 5)} {
		r := cs[i+1]
		s := r.Checkpoint
		if !r.OK || s == nil {
			t.Fatalf("entry %d not OK: %+v", i+1, r)
		}
		if s.GlobalStep != want.GlobalStep || s.Epoch != want.Epoch || s.BatchInEpoch != want.BatchInEpoch ||
			s.Config.Seed != want.Config.Seed || s.Config.Keep != want.Config.Keep || s.UnixNano != want.UnixNano ||
			s.Values != 8 || s.Optimizer.MomentumBuffer != 2 || len(s.History) != len(want.History) || float64(s.EpochLossSum) != want.EpochLossSum || s.RunID != want.RunId {
			t.Errorf("entry %d: %+v, want the values of %v", i+1, s, want)
		}
		if len(r.Tensors) != 4 {
			t.Fatalf("entry %d: %d tensor stats, want 4", i+1, len(r.Tensors))
		}
		w := r.Tensors[0] // lineNet.5.weight: 0.5 -1.5 0.25 2 0 -0.75
		if w.Min != -1.5 || w.Max != 2 || w.Mean != 0.5/6 || w.Count != 6 {
			t.Errorf("weight stats %+v", w)
		}
	}
}

// TestStdin reads a checkpoint from standard input.
func TestStdin(t *testing.T) {
	b, err := ckpt.Encode(fixture(3, 30, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"-"}} {
		var stdout bytes.Buffer
		if err := run(context.Background(), args, bytes.NewReader(b), &stdout, &bytes.Buffer{}); err != nil {
			t.Fatalf("run %v: %v", args, err)
		}
		if !strings.Contains(stdout.String(), "global step 30") || !strings.Contains(stdout.String(), "<stdin>") {
			t.Errorf("run %v output:\n%s", args, stdout.String())
		}
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), nil, bytes.NewReader(b[:100]), &stdout, &bytes.Buffer{}); err == nil ||
		!strings.Contains(stdout.String(), "FAILED (truncated)") {
		t.Errorf("truncated stdin: %v\n%s", err, stdout.String())
	}
}

// TestCommand runs the binary end to end and checks exit codes and messages.
func TestCommand(t *testing.T) {
	selfexec.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	makeRun(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"good file", []string{"run/LenetMnist0.ckpt"}, 0, "OK (magic, header and payload CRC-32C", ""},
		{"corrupt file", []string{"run/LenetMnist1.ckpt"}, 1, "FAILED (corrupt)", "ckptinfo: 1 of 1 checkpoints failed verification"},
		{"directory", []string{"run"}, 1, "CORRUPT", "1 of 3 checkpoints failed"},
		{"missing", []string{"nope.ckpt"}, 1, "FAILED (missing)", "failed verification"},
		{"help", []string{"--help"}, 0, "Examples:", ""},
		{"bad flag", []string{"--frobnicate"}, 2, "", "unknown flag: --frobnicate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(exe, tc.args...)
			cmd.Env = append(os.Environ(), asCommand+"=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout containing %q, stderr containing %q",
					code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// endless is an endless stream of one byte that fails the test once more
// than limit bytes have been read from it.
type endless struct {
	t     *testing.T
	b     byte
	n     int
	limit int
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n > e.limit {
		e.t.Errorf("read %d bytes of an endless standard input, more than %d", e.n, e.limit)
		return 0, errors.New("endless: read too far")
	}
	for i := range p {
		p[i] = e.b
	}
	e.n += len(p)
	return len(p), nil
}

// TestStdinEndless checks that an endless standard input (ckptinfo <
// /dev/zero) is read only as far as a checkpoint can reach, and judged.
func TestStdinEndless(t *testing.T) {
	defer func(m int) { maxStdin = m }(maxStdin)
	maxStdin = 1000
	good, err := ckpt.Encode(fixture(3, 30, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(good) >= maxStdin {
		t.Fatalf("fixture of %d bytes, want fewer than %d", len(good), maxStdin)
	}
	for _, tc := range []struct {
		name  string
		stdin io.Reader
		want  string
	}{
		{"zeros", &endless{t: t, limit: 1 << 20}, "FAILED (not_checkpoint)"},
		{"checkpoint then zeros", io.MultiReader(bytes.NewReader(good), &endless{t: t, limit: 1 << 20}), "FAILED (corrupt)"},
	} {
		var stdout bytes.Buffer
		err := run(context.Background(), nil, tc.stdin, &stdout, &bytes.Buffer{})
		if err == nil || !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("%s: %v, want %s in:\n%s", tc.name, err, tc.want, stdout.String())
		}
	}
}

// TestNonFinite reports a checkpoint holding NaN and infinities (a diverged
// run written by an older tbtrain): it verifies, text mode shows the values,
// and --json encodes them as the strings "NaN", "Infinity" and "-Infinity"
// instead of failing.
func TestNonFinite(t *testing.T) {
	c := fixture(2, 20, 0)
	c.RunId = ""
	c.Build = nil
	c.EpochLossSum = math.NaN()
	c.History[1].TestLoss = math.Inf(1)
	c.History[1].TrainLoss = math.Inf(-1)
	c.Params[0].Data[1] = float32(math.NaN())
	path := filepath.Join(t.TempDir(), "nan.ckpt")
	if err := ckpt.Save(path, c); err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := run(context.Background(), []string{path}, nil, &text, &bytes.Buffer{}); err != nil {
		t.Fatalf("text: %v", err)
	}
	for _, want := range []string{"epoch loss sum  NaN", "+Inf", "-Inf", "run             - (written before run IDs)",
		"written by      - (not recorded: written before checkpoints named their build)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := run(context.Background(), []string{"--json", "--tensors", path}, nil, &js, &bytes.Buffer{}); err != nil {
		t.Fatalf("--json: %v\n%s", err, js.String())
	}
	for _, want := range []string{`"epoch_loss_sum": "NaN"`, `"test_loss": "Infinity"`, `"train_loss": "-Infinity"`, `"non_finite": 1`, `"run_id": ""`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("--json output lacks %s", want)
		}
	}
	if strings.Contains(js.String(), `"build"`) {
		t.Errorf("--json output has a build for a checkpoint that records none:\n%s", js.String())
	}
	var out output
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	s := out.Files[0].Checkpoint
	if !math.IsNaN(float64(s.EpochLossSum)) || !math.IsInf(float64(s.History[1].TestLoss), 1) || s.History[0].TestLoss != 0.25 {
		t.Errorf("decoded %+v", s)
	}
}

// TestAside lists a directory whose set-aside was interrupted: the files
// being set aside say so.
func TestAside(t *testing.T) {
	dir := t.TempDir()
	for i, n := range []string{"a.ckpt", "b.ckpt"} {
		if err := ckpt.Save(filepath.Join(dir, n), fixture(1, int64(10*(i+1)), 0)); err != nil {
			t.Fatal(err)
		}
	}
	rec := "tbtrain set-aside 1\nb.ckpt\tb.ckpt.abandoned\n"
	if err := os.WriteFile(filepath.Join(dir, ckpt.AsideRecord), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{dir}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^  aside +20 .*b\.ckpt$`).MatchString(out.String()) || !strings.Contains(out.String(), "1 checkpoint(s) of an abandoned timeline") {
		t.Errorf("listing:\n%s", out.String())
	}
}

// TestTrailingSlash: a run directory named with a trailing slash (as shell
// completion writes it) is listed like the name without it; it was taken for
// a file ("not a checkpoint file: is a directory").
func TestTrailingSlash(t *testing.T) {
	t.Chdir(t.TempDir())
	makeRun(t)
	var want, got, errb bytes.Buffer
	wantErr := run(context.Background(), []string{"run"}, strings.NewReader(""), &want, &errb)
	gotErr := run(context.Background(), []string{"run/"}, strings.NewReader(""), &got, &errb)
	if errString(gotErr) != errString(wantErr) || !strings.Contains(want.String(), "LenetMnist0.ckpt") {
		t.Fatalf("ckptinfo run/: %v; want %v as for run", gotErr, wantErr)
	}
	if diff := cmp.Diff(want.String(), strings.Replace(got.String(), "run/\n", "run\n", 1)); diff != "" {
		t.Errorf("ckptinfo run/ differs from ckptinfo run (-want +got):\n%s", diff)
	}
}

// TestContinuedFromPyTorch: a checkpoint of a run continued from a PyTorch
// .pt shows its step axis, the epoch it was continued at and the anchor of
// its learning-rate schedule, as text and as JSON; a tbtrain run's report
// shows none of them.
func TestContinuedFromPyTorch(t *testing.T) {
	c := fixture(5, 160, 0)
	c.StepConvention = ckptpb.StepConvention_STEP_CONVENTION_EPOCH
	c.FirstEpoch = 3
	c.History = c.History[3:]
	c.Scheduler.HasAnchor, c.Scheduler.AnchorEpoch, c.Scheduler.AnchorLr = true, 3, 0.0035203658778440107
	b, err := ckpt.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := run(context.Background(), nil, bytes.NewReader(b), &text, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"step axis       epoch: the epoch tags at step = epoch",
		"continued       from a PyTorch checkpoint at epoch 3 (epochs 0-2 trained by PyTorch",
		"continues PyTorch's CosineAnnealingLR: lr 0.0035203658778440107 at epoch 3",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := run(context.Background(), []string{"--json"}, bytes.NewReader(b), &js, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var out output
	if err := json.Unmarshal(js.Bytes(), &out); err != nil || len(out.Files) != 1 || out.Files[0].Checkpoint == nil {
		t.Fatalf("%v: %s", err, js.String())
	}
	s := out.Files[0].Checkpoint
	if s.StepConvention != "epoch" || s.FirstEpoch != 3 || s.Scheduler.Anchor == nil ||
		s.Scheduler.Anchor.Epoch != 3 || float64(s.Scheduler.Anchor.LR) != 0.0035203658778440107 {
		t.Errorf("JSON: step_convention %q, first_epoch %d, anchor %+v", s.StepConvention, s.FirstEpoch, s.Scheduler.Anchor)
	}

	b, err = ckpt.Encode(fixture(5, 160, 0))
	if err != nil {
		t.Fatal(err)
	}
	text.Reset()
	if err := run(context.Background(), nil, bytes.NewReader(b), &text, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, not := range []string{"step axis", "continued", "PyTorch"} {
		if strings.Contains(text.String(), not) {
			t.Errorf("a tbtrain run's report mentions %q:\n%s", not, text.String())
		}
	}
}
