package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/internal/kern"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// TestKernPathResume runs train with TBTRAIN_KERN set to each kern code
// path this machine has: every run ends with the same weights; and a run
// stopped by SIGTERM in the middle of its epoch on one path resumes on the
// next one without a warning, into the same weights and logged values.
func TestKernPathResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	paths := kern.Paths()
	t.Logf("kern code paths: %v", paths)
	defer kern.SetPath("")
	args := func(logdir string, extra ...string) []string {
		return quick(t, logdir, append([]string{"--epochs", "1"}, extra...)...)
	}
	var want string // the run directory of the first path
	for i, p := range paths {
		logdir := t.TempDir() // outlives the subtest
		t.Run(p, func(t *testing.T) {
			t.Setenv(kernEnv, p)
			var out, errb bytes.Buffer
			if err := run(context.Background(), args(logdir), &out, &errb); err != nil {
				t.Fatalf("%v\n%s", err, errb.String())
			}
			if !strings.Contains(out.String(), "kernels "+p) {
				t.Errorf("TBTRAIN_KERN=%s: the run did not report kernels %s:\n%s", p, p, out.String())
			}
			dir := runDirOf(t, out.String())
			if i == 0 {
				want = dir
				return
			}
			ckpttest.Same(t, "weights", ckpttest.FinalParams(t, dir), ckpttest.FinalParams(t, want))

			// Stop a run on the previous path in the middle of its epoch.
			prev := paths[i-1]
			t.Setenv(kernEnv, prev)
			stopLog := t.TempDir()
			c := start(t, args(stopLog, "--step-delay", "15ms")...)
			c.waitFor(t, `^epoch 0  batch (4|5|6|7)/32`)
			c.cmd.Process.Signal(syscall.SIGTERM)
			if code := c.wait(t); code != exitInterrupted {
				t.Fatalf("train on %s exited %d after SIGTERM, want %d; stderr:\n%s", prev, code, exitInterrupted, c.stderr.String())
			}
			// Resume it on this path.
			t.Setenv(kernEnv, p)
			out.Reset()
			errb.Reset()
			if err := run(context.Background(), []string{"--logdir", stopLog, "--data", synthData(t), "--resume", "latest"}, &out, &errb); err != nil {
				t.Fatalf("resume on %s: %v\n%s", p, err, errb.String())
			}
			if !strings.Contains(out.String(), "resuming") {
				t.Fatalf("the run on %s did not resume:\n%s", p, out.String())
			}
			if strings.Contains(errb.String(), "warning") {
				t.Errorf("resume of a %s run on %s warned:\n%s", prev, p, errb.String())
			}
			dir = runDirOf(t, c.out.String())
			ckpttest.Same(t, "weights", ckpttest.FinalParams(t, dir), ckpttest.FinalParams(t, want))
			for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
				sameLogs(t, series(t, dir, rule), series(t, want, rule))
			}
		})
	}
}

func TestKernEnvUsageError(t *testing.T) {
	defer kern.SetPath("")
	for _, v := range []string{"sse9", "AVX2"} {
		t.Setenv(kernEnv, v)
		var out, errb bytes.Buffer
		err := run(context.Background(), quick(t, t.TempDir()), &out, &errb)
		if !errorsAsUsage(err) || !strings.Contains(err.Error(), kernEnv+"="+v) {
			t.Errorf("%s=%s: %v, want a usage error naming it", kernEnv, v, err)
		}
	}
}

func errorsAsUsage(err error) bool { return errors.As(err, new(usageError)) }

// TestOldArithmeticWarns resumes a checkpoint whose numerics name a kern
// code path, as checkpoints written before the canonical arithmetic do:
// training continues, with a warning that it will not match an
// uninterrupted run bit for bit.
func TestOldArithmeticWarns(t *testing.T) {
	logdir := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(context.Background(), quick(t, logdir, "--epochs", "1", "--limit-train", "160", "--save-every-steps", "3"), &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	ents, err := ckpt.List(runDirOf(t, out.String()))
	if err != nil {
		t.Fatal(err)
	}
	path := ents[0].Path
	c, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	const old = "lenet5 shards=4 conv-chunks=4,16 eval-chunk=32 kern=avx2"
	c.Kernel = old
	if err := ckpt.Save(path, c); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if err := run(context.Background(), []string{"--logdir", logdir, "--data", synthData(t), "--resume", path}, &out, &errb); err != nil {
		t.Fatalf("resume of a kern=avx2 checkpoint: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "warning") || !strings.Contains(errb.String(), old) || !strings.Contains(errb.String(), "arith="+kern.Arithmetic) {
		t.Errorf("resume of a kern=avx2 checkpoint printed no warning naming both numerics:\n%s", errb.String())
	}
}
