package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/internal/selfexec"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// Fixtures written by real PyTorch 1.13 (see their README.md files).
const (
	ptRun    = "../../testdata/pytorch-run/run"
	ptSplitB = "../../testdata/pytorch-run/split-b"
	tbPurge  = "../../testdata/tensorboard/torch-1.13/purge"
	damaged  = "../../testdata/tensorboard/damaged"
)

const asCommand = "TBMERGE_TEST_AS_COMMAND"

// TestMain re-executes the test binary as the command when asCommand=1.
func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

// hashTree returns the SHA-256 of every file under the dirs, to prove that
// inputs are not modified.
func hashTree(t *testing.T, dirs ...string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if !e.IsDir() {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				out[p] = sha256.Sum256(b)
			}
			return nil
		})
	}
	return out
}

// payloads returns the record payloads of the event files, in order.
func payloads(t *testing.T, files ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		rr := tbwriter.NewRecordReader(fh)
		for {
			p, err := rr.Next()
			if err != nil {
				break
			}
			out = append(out, append([]byte(nil), p...))
		}
		fh.Close()
	}
	return out
}

func eventFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*tfevents*"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no event files in %s", dir)
	}
	return m
}

// seriesOnce checks that under every purge rule each tag of the merged run
// has the steps want, each exactly once, and returns the PythonPurge series.
func seriesOnce(t *testing.T, out string, tags []string, want []int64) map[string][]tbwriter.Point {
	t.Helper()
	runs, err := tbwriter.ReadLogdir(out)
	if err != nil || len(runs) != 1 || runs[0].Err != nil {
		t.Fatalf("merged run: %v runs, err %v", len(runs), err)
	}
	var python map[string][]tbwriter.Point
	for _, rule := range []tbwriter.PurgeRule{tbwriter.NoPurge, tbwriter.PythonPurge, tbwriter.RustPurge} {
		series := runs[0].Series(rule)
		for _, tag := range tags {
			var got []int64
			for _, p := range series[tag] {
				got = append(got, p.Step)
			}
			if !equalSteps(got, want) {
				t.Errorf("%v: tag %s has steps %v, want %v (each once)", rule, tag, got, want)
			}
		}
		if rule == tbwriter.PythonPurge {
			python = series
		}
	}
	return python
}

func equalSteps(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func valueAt(t *testing.T, files []string, tag string, step int64) float32 {
	t.Helper()
	for _, p := range payloads(t, files...) {
		ev := new(tbpb.Event)
		if proto.Unmarshal(p, ev) != nil || ev.GetStep() != step {
			continue
		}
		for _, v := range ev.GetSummary().GetValue() {
			if v.GetTag() == tag {
				return v.GetSimpleValue()
			}
		}
	}
	t.Fatalf("%s@%d not in %v", tag, step, files)
	return 0
}

var demoTags = []string{"train/loss", "learning_rate", "test/acc", "test/loss"}

// TestMergeSplitRun merges the PyTorch run that was resumed into a new
// directory (epochs 0-2, then 2-4): one run, epochs 0-4 once each in every
// loader, epoch 2 from the later session, every record copied byte for
// byte, inputs untouched. The inputs are given newest first: the order
// comes from the wall times.
func TestMergeSplitRun(t *testing.T) {
	before := hashTree(t, ptRun, ptSplitB)
	out := filepath.Join(t.TempDir(), "merged")
	stdout, stderr, err := runCmd(t, "-o", out, ptSplitB, ptRun)
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	if !strings.Contains(stdout, "session 1  "+filepath.Join(ptRun, "")) || !strings.Contains(stdout, "drops 4 summary events, steps 2..2: replaced by session 2") {
		t.Errorf("plan:\n%s", stdout)
	}
	series := seriesOnce(t, out, demoTags, []int64{0, 1, 2, 3, 4})
	a, b := eventFiles(t, ptRun), eventFiles(t, ptSplitB)
	for _, tag := range demoTags {
		if got, want := series[tag][2].Value.GetSimpleValue(), valueAt(t, b, tag, 2); got != want {
			t.Errorf("%s@2 = %v, want the later session's %v", tag, got, want)
		}
		if got, want := series[tag][1].Value.GetSimpleValue(), valueAt(t, a, tag, 1); got != want {
			t.Errorf("%s@1 = %v, want %v", tag, got, want)
		}
	}
	// Byte for byte: every output payload is an input payload, in order.
	in := map[string]bool{}
	for _, p := range payloads(t, append(a, b...)...) {
		in[string(p)] = true
	}
	outs := payloads(t, eventFiles(t, out)...)
	for i, p := range outs {
		if !in[string(p)] {
			t.Errorf("output record %d is not an input record", i)
		}
	}
	if len(outs) != 21 { // 1 file_version + 8 (epochs 0-1) + 12 (epochs 2-4)
		t.Errorf("%d records, want 21", len(outs))
	}
	if after := hashTree(t, ptRun, ptSplitB); len(after) != len(before) {
		t.Error("input directories changed")
	} else {
		for p, h := range before {
			if after[p] != h {
				t.Errorf("%s changed", p)
			}
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".merged.tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temp dirs left: %v", leftovers)
	}
}

// TestMergePurgeStep repairs PyTorch's purge_step run (TensorBoard shows
// steps 50-99 twice): one curve 0-149, 50-99 from the second session.
func TestMergePurgeStep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "merged")
	if _, _, err := runCmd(t, "-o", out, tbPurge); err != nil {
		t.Fatal(err)
	}
	want := make([]int64, 150)
	for i := range want {
		want[i] = int64(i)
	}
	series := seriesOnce(t, out, []string{"x"}, want)
	files := eventFiles(t, tbPurge)
	if got, w := series["x"][70].Value.GetSimpleValue(), valueAt(t, files[1:], "x", 70); got != w {
		t.Errorf("x@70 = %v, want the second session's %v", got, w)
	}
	if got, w := series["x"][30].Value.GetSimpleValue(), valueAt(t, files[:1], "x", 30); got != w {
		t.Errorf("x@30 = %v, want %v", got, w)
	}
}

// TestMergeOrderGiven: --order=given overrides the wall times; the split
// run given newest first then lets the older session replace everything
// from step 0.
func TestMergeOrderGiven(t *testing.T) {
	out := filepath.Join(t.TempDir(), "merged")
	stdout, _, err := runCmd(t, "--order=given", "-o", out, ptSplitB, ptRun)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "session 1  "+filepath.Join(ptSplitB, "")) {
		t.Errorf("plan:\n%s", stdout)
	}
	series := seriesOnce(t, out, demoTags, []int64{0, 1, 2})
	if got, want := series["test/acc"][2].Value.GetSimpleValue(), valueAt(t, eventFiles(t, ptRun), "test/acc", 2); got != want {
		t.Errorf("test/acc@2 = %v, want session 2's %v", got, want)
	}
}

// TestMergeDamaged uses the readable part of a torn file, reports the
// damage with its byte offset and the bytes not used, and returns the
// damagedError of exit status 3 — after writing OUT, in a dry run too —
// unless --allow-damaged accepts it.
func TestMergeDamaged(t *testing.T) {
	in := filepath.Join(damaged, "cut_mid_payload")
	good := payloads(t, eventFiles(t, in)...)
	for _, allow := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "merged")
		args := []string{"-o", out, in}
		if allow {
			args = append([]string{"--allow-damaged"}, args...)
		}
		stdout, stderr, err := runCmd(t, args...)
		var de *damagedError
		if allow && err != nil || !allow && !errors.As(err, &de) {
			t.Fatalf("allow-damaged %v: err = %v", allow, err)
		}
		if !strings.Contains(stderr, "offset 2286") || !strings.Contains(stderr, "truncated record") ||
			!strings.Contains(stderr, "not the last 17 bytes") || !strings.Contains(stdout, "the last 17 bytes not") {
			t.Errorf("stderr %q, stdout %q do not report the damage, its offset and the bytes not used", stderr, stdout)
		}
		if got := payloads(t, eventFiles(t, out)...); len(got) != len(good) || len(got) == 0 {
			t.Errorf("%d records written, %d readable", len(got), len(good))
		}
	}
	out := filepath.Join(t.TempDir(), "dry")
	if _, _, err := runCmd(t, "--dry-run", "-o", out, in); !errors.As(err, new(*damagedError)) {
		t.Errorf("dry run of a damaged input: err = %v, want a damagedError", err)
	}
}

// TestMergeRefuses: an existing OUT, an OUT inside an input, no input, a
// dry run (writes nothing).
func TestMergeRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"exists":       {"-o", dir, ptRun},
		"inside input": {"-o", filepath.Join(ptRun, "merged"), ptRun},
		"no input":     {"-o", filepath.Join(dir, "x")},
		"bad order":    {"--order=random", "-o", filepath.Join(dir, "x"), ptRun},
		"twice":        {"-o", filepath.Join(dir, "x"), ptRun, ptRun},
	} {
		if _, _, err := runCmd(t, args...); !errors.As(err, new(usageError)) {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
	out := filepath.Join(dir, "dry")
	if stdout, _, err := runCmd(t, "--dry-run", "-o", out, ptRun, ptSplitB); err != nil || !strings.Contains(stdout, "merged: 21 records") {
		t.Errorf("dry run: %v\n%s", err, stdout)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dry run created %s", out)
	}
}

// TestExitStatus runs the binary: 0, 2 for usage, 1 for a missing input, 3
// for a damaged one (0 with --allow-damaged).
func TestExitStatus(t *testing.T) {
	selfexec.Require(t)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"-o", filepath.Join(dir, "a"), ptRun}, 0},
		{[]string{ptRun}, 2},
		{[]string{"-o", filepath.Join(dir, "b"), filepath.Join(dir, "missing")}, 1},
		{[]string{"-o", filepath.Join(dir, "c"), filepath.Join(damaged, "cut_mid_payload")}, 3},
		{[]string{"--allow-damaged", "-o", filepath.Join(dir, "d"), filepath.Join(damaged, "bad_data_crc")}, 0},
	} {
		cmd := exec.Command(os.Args[0], c.args...)
		cmd.Env = append(os.Environ(), asCommand+"=1")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Errorf("tbmerge %v: exit %d, want %d", c.args, code, c.code)
		}
	}
}

// TestMergeKeepsEveryKind merges single real PyTorch sessions holding every
// summary kind torch.utils.tensorboard writes — scalars (NaN and Inf
// among them), a histogram, an image, text (torch-1.13/basic), a graph,
// run metadata, audio, PR curves, meshes and the custom-scalars layout
// (pytorch-writer/run): nothing is dropped, so the output must hold the
// input's records byte for byte and in order.
func TestMergeKeepsEveryKind(t *testing.T) {
	for _, in := range []string{
		filepath.Join("..", "..", "testdata", "tensorboard", "torch-1.13", "basic"),
		filepath.Join("..", "..", "testdata", "pytorch-writer", "run"),
	} {
		out := filepath.Join(t.TempDir(), "merged")
		if _, stderr, err := runCmd(t, "-o", out, in); err != nil || stderr != "" {
			t.Fatalf("%s: %v %s", in, err, stderr)
		}
		want, got := payloads(t, eventFiles(t, in)...), payloads(t, eventFiles(t, out)...)
		if len(got) != len(want) || len(want) < 5 {
			t.Fatalf("%s: %d records written, %d in the input", in, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: record %d differs", in, i)
			}
		}
	}
}
