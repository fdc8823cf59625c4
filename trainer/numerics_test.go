package trainer_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/internal/kern"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/trainer"
)

var update = flag.Bool("update", false, "rewrite testdata/numerics_run.golden")

// onPath makes kern use the named code path until the test ends.
func onPath(t *testing.T, name string) {
	t.Helper()
	if err := kern.SetPath(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kern.SetPath("") })
}

// runDigest is a SHA-256 of what a finished run's newest checkpoint holds
// that training computed: the weights, the momentum buffers, the learning
// rate and every epoch's metrics except its wall-clock seconds, and the
// numerics the checkpoint records.
func runDigest(t *testing.T, dir string) string {
	t.Helper()
	c, _, _, err := ckpt.Newest(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	put := func(v ...any) {
		for _, x := range v {
			binary.Write(h, binary.LittleEndian, x)
		}
	}
	for _, ts := range [][]*ckptpb.Tensor{c.GetParams(), c.GetOptimizer().GetMomentumBuffer()} {
		for _, p := range ts {
			put(p.GetData())
		}
	}
	put(c.GetOptimizer().GetLr(), c.GetEpochLossSum())
	for _, m := range c.GetHistory() {
		put(m.GetEpoch(), m.GetStep(), m.GetTrainLoss(), m.GetTestLoss(), m.GetTestAcc(), m.GetLr())
	}
	h.Write([]byte(c.GetKernel()))
	return fmt.Sprintf("%x", h.Sum(nil)[:16])
}

// TestAcrossKernPaths trains the same run on every kern code path this
// machine has, and stops on each path and resumes on another one: every
// run ends with the same weights, momentum, history and logged values, bit
// for bit, and every checkpoint records the same numerics (so cmd/train
// has nothing to warn about). It also compares the run with the digest in
// testdata/numerics_run.golden, which makes the same check across builds
// (-tags purego) and processors (arm64 under qemu-aarch64).
func TestAcrossKernPaths(t *testing.T) {
	paths := kern.Paths()
	t.Logf("kern code paths: %v", paths)
	cfg := smallConfig()
	cfg.SaveEverySteps = 5
	straight := map[string]string{} // path -> run directory
	for _, p := range paths {
		logdir := t.TempDir() // outlives the subtest
		t.Run("straight/"+p, func(t *testing.T) {
			onPath(t, p)
			dir, err := runFresh(t, logdir, cfg, 0)
			if err != nil {
				t.Fatal(err)
			}
			straight[p] = dir
		})
	}
	if t.Failed() {
		return
	}
	ref := straight[paths[0]]
	wantParams := ckpttest.FinalParams(t, ref)
	wantLogs := map[tbwriter.PurgeRule]map[string][]point{}
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		wantLogs[rule] = logged(t, ref, rule)
	}
	wantDigest := runDigest(t, ref)
	for _, p := range paths[1:] {
		t.Run("same/"+p, func(t *testing.T) {
			ckpttest.Same(t, "params", ckpttest.FinalParams(t, straight[p]), wantParams)
			for rule, want := range wantLogs {
				compareLogs(t, logged(t, straight[p], rule), want)
			}
			if got := runDigest(t, straight[p]); got != wantDigest {
				t.Errorf("checkpoint digest %s, want %s as on %s", got, wantDigest, paths[0])
			}
		})
	}
	// Each path resumes the run of the next one (the last the first's):
	// with three paths, every path both stops and resumes, towards a
	// faster and towards a slower one.
	for i, from := range paths {
		to := paths[(i+1)%len(paths)]
		if from == to {
			continue
		}
		{
			t.Run("resume/"+from+"->"+to, func(t *testing.T) {
				logdir := t.TempDir()
				kern.SetPath(from)
				dir, err := runFresh(t, logdir, cfg, 7)
				kern.SetPath("")
				var ie *trainer.InterruptedError
				if !errors.As(err, &ie) {
					t.Fatalf("run on %s stopped after step 7: %v", from, err)
				}
				c, _, _, err := trainer.Locate(ie.Checkpoint, logdir)
				if err != nil {
					t.Fatal(err)
				}
				onPath(t, to)
				rcfg, err := trainer.ResumeConfig(c, ie.Checkpoint, trainer.Config{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := trainer.Resume(ie.Checkpoint, c, rcfg, trainSet, testSet, trainer.Options{Now: fixedClock()})
				if err != nil {
					t.Fatal(err)
				}
				// cmd/train warns exactly when these differ.
				if c.GetKernel() != tr.Numerics() {
					t.Errorf("checkpoint written on %s records %q, the run on %s computes %q", from, c.GetKernel(), to, tr.Numerics())
				}
				if err := tr.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				ckpttest.Same(t, "params", ckpttest.FinalParams(t, dir), wantParams)
				for rule, want := range wantLogs {
					compareLogs(t, logged(t, dir, rule), want)
				}
			})
		}
	}

	file := filepath.Join("testdata", "numerics_run.golden")
	rc, _, _, err := ckpt.Newest(ref)
	if err != nil {
		t.Fatal(err)
	}
	header := "numerics " + rc.GetKernel() + "\n"
	if *update {
		if err := os.WriteFile(file, []byte(header+wantDigest+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, ok := strings.CutPrefix(string(data), header)
	if !ok {
		t.Fatalf("%s is not for %s: rewrite it with go test -run TestAcrossKernPaths -update", file, header)
	}
	if strings.TrimSpace(want) != wantDigest {
		t.Errorf("run digest %s, %s records %s (computed elsewhere: this build or processor trains other bits)", wantDigest, file, strings.TrimSpace(want))
	}
}
