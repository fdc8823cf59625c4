package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/internal/kern"
	"github.com/tbtrain/tbtrain/internal/version"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/ptfile"
	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/storage/s3store"
	"github.com/tbtrain/tbtrain/trainer"
)

// Exit codes.
const (
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130 // 128 + SIGINT, the shell's convention
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first SIGINT or SIGTERM asks the trainer to stop at a checkpoint;
	// a second one kills at once instead of waiting for it. Both arrive on
	// one buffered channel, so a second signal sent before this goroutine
	// has run is still seen as the second (restoring the default handler
	// from the goroutine would lose it in that window).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		sig := <-sigs
		killSelf(sig)
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, pflag.ErrHelp):
	case errors.Is(err, trainer.ErrInterrupted):
		if !errors.As(err, new(*trainer.InterruptedError)) { // run printed how to resume
			fmt.Fprintln(os.Stderr, "train:", err)
		}
		os.Exit(exitInterrupted)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(exitUsage)
	default:
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(exitError)
	}
}

// killSelf ends the process the way sig does by default (so a shell sees
// "killed by SIGINT"); where a process cannot signal itself it exits with
// the interrupted status.
func killSelf(sig os.Signal) {
	signal.Reset(sig)
	if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(sig) == nil {
		time.Sleep(time.Second) // the signal ends the process
	}
	os.Exit(exitInterrupted)
}

// errBeforeStart is returned for a signal that arrives before training starts.
var errBeforeStart = fmt.Errorf("interrupted before training started: %w", trainer.ErrInterrupted)

// usageError is a problem with the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

const usageHead = `train trains LeNet-5 on MNIST (SGD with momentum, cosine learning rate) and
writes TensorBoard event files and checkpoints into one run directory,
<logdir>/<YYYY-MM-DD_HH-MM-SS>/. Stop it any way (Ctrl-C, kill -9, a crash)
and resume: the run continues in the same directory, bit for bit, and
TensorBoard draws one curve.

Examples:
  train                                      # 20 epochs on real MNIST (fetched with the Go module)
  train --epochs 5 --logdir /tmp/runs        # a shorter run elsewhere
  train --limit-train 2048 --limit-test 512 --epochs 2   # a quick smoke run
  train --resume runs/2026-11-29_12-00-00/LenetMnist9.ckpt   # continue from that checkpoint
  train --resume runs/2026-11-29_12-00-00    # newest valid checkpoint of that run
  train --resume latest                      # newest valid checkpoint under --logdir
  train --resume latest --epochs 30          # extend a finished run to 30 epochs
  train --save-every 10m --keep-best 3       # also a checkpoint every 10 minutes; keep the 3 best epochs
  train --resume best                        # the newest run's checkpoint with the best test accuracy
  train --resume log/2022-08-15_21-22-40/LenetMnist9.pt --batch-size 16   # continue a PyTorch run
  tensorboard --logdir runs                  # watch it
  train --logdir s3://bucket/prefix          # keep the run in S3 (or MinIO, SeaweedFS, ...)
  train --resume s3://bucket/prefix/2026-11-29_12-00-00   # resume it on any machine
  S3_ENDPOINT=http://host:8333 tensorboard --logdir s3://bucket/prefix   # watch it there

S3: --logdir and --resume take s3://bucket/prefix locations. Credentials and
server come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and
AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or TensorBoard's S3_ENDPOINT (path-style
addressing with an endpoint). A checkpoint is one verified PUT; events are
uploaded as a new object at every checkpoint and at most once a minute
between; a lease object (.tbtrain-lease) keeps one trainer per run. A server
that stays unreachable for a minute fails the run; the last checkpoint stays.

A PyTorch checkpoint (--resume FILE.pt, the demo recipe's torch.save dict) is
read without running any code from it. Its weights, momentum buffers,
learning rate and schedule (T_max becomes --epochs unless given) are used;
the batch size is not in the file and comes from --batch-size. The run goes
on in the .pt's directory with PyTorch's step axis (epoch tags at step =
epoch), writing LenetMnist<epoch>.ckpt beside the .pt files.

Resuming: the run's settings come from the checkpoint. --epochs (not below
the epochs done or begun), --keep, --keep-best, --save-every-steps,
--save-every, --limit-test, --data and --embed may change on resume; a new
--epochs recomputes the cosine schedule of the remaining epochs with T_max = the
new --epochs, and --epochs equal to the epochs done ends the run there.
--batch-size, --lr, --momentum, --eta-min, --seed and --limit-train may not:
giving one with another value than the checkpoint's is an error. --resume best
takes the checkpoint with the best test accuracy of the newest run (keep it with
--keep-best). Ctrl-C or SIGTERM finishes the current step, writes a checkpoint
and prints the command that resumes; a second Ctrl-C kills at once.

One trainer per run directory: a second train on a run that is training exits
1 at once, naming the PID that holds it (ckptinfo and tbdump still read it).
A run's checkpoints carry its run ID; resuming a checkpoint whose directory
also holds another run's checkpoints is refused (nothing is changed).

Environment: TBTRAIN_KERN=avx512|avx2|neon|generic makes the numeric kernels use
that code path instead of the fastest one this CPU has (for comparisons; every
path computes the same bits, so a run may stop on one and resume on another).

Exit status: 0 when training is done, 130 after Ctrl-C or SIGTERM (a checkpoint
was written), 2 for a bad command line, 1 for any other error.

Flags:
`

// run is the whole command; main only wires signals and exit codes.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	def := trainer.DefaultConfig()
	var (
		cfg        trainer.Config
		logdir     string
		resume     string
		workers    int
		noBar      bool
		stepDelay  time.Duration
		cpuProfile string
	)
	fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Int64Var(&cfg.Epochs, "epochs", def.Epochs, "total number of epochs (cosine T_max)")
	fs.Int64Var(&cfg.BatchSize, "batch-size", def.BatchSize, "images per optimizer step (the last partial batch of an epoch is dropped); also for --resume FILE.pt, whose file does not hold it")
	fs.Float64Var(&cfg.LR, "lr", def.LR, "initial learning rate")
	fs.Float64Var(&cfg.Momentum, "momentum", def.Momentum, "SGD momentum")
	fs.Float64Var(&cfg.EtaMin, "eta-min", def.EtaMin, "learning rate at the end of the cosine schedule")
	fs.Uint64Var(&cfg.Seed, "seed", def.Seed, "seed of the initial weights and of every epoch's order")
	fs.StringVar(&logdir, "logdir", "runs", "directory (or s3://bucket/prefix) that holds the run directories")
	fs.StringVar(&resume, "resume", "", "resume from `PATH`: a checkpoint file, a run directory (either may be s3://...), \"latest\" or \"best\"")
	fs.StringVar(&cfg.Data, "data", def.Data, "directory with the 4 MNIST IDX files (.gz or plain); default: the GoMNIST Go module")
	fs.Int64Var(&cfg.Keep, "keep", def.Keep, "checkpoints kept in the run directory (0 = all); the newest valid one is never deleted")
	fs.Int64Var(&cfg.KeepBest, "keep-best", def.KeepBest, "also keep the N epoch-end checkpoints with the best test accuracy, whatever --keep says")
	fs.Int64Var(&cfg.SaveEverySteps, "save-every-steps", def.SaveEverySteps, "also checkpoint every N global steps inside an epoch (0 = only at epoch ends)")
	fs.DurationVar(&cfg.SaveEvery, "save-every", def.SaveEvery, "also checkpoint inside an epoch once this much wall time (e.g. 10m) has passed since the last checkpoint (0 = off)")
	fs.Int64Var(&cfg.LimitTrain, "limit-train", def.LimitTrain, "use only the first N training images (0 = all 60000)")
	fs.Int64Var(&cfg.LimitTest, "limit-test", def.LimitTest, "evaluate on the first N test images only (0 = all 10000)")
	fs.Int64Var(&cfg.Embed, "embed", def.Embed, "after the last epoch, show the first N test images in TensorBoard's projector (0 = off)")
	fs.IntVar(&workers, "workers", 0, "threads (GOMAXPROCS) to use, 0 = all CPUs; results do not depend on it")
	fs.BoolVar(&noBar, "no-progress", false, "print plain progress lines even on a terminal")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the training to `FILE` (go tool pprof)")
	showVersion := fs.Bool("version", false, "print the module version and VCS revision of this binary and exit")
	// --step-delay slows training down so that tests can send signals in
	// the middle of an epoch; it changes no result.
	fs.DurationVar(&stepDelay, "step-delay", 0, "sleep this long after every step (for tests)")
	_ = fs.MarkHidden("step-delay")
	// --lease-ttl shortens the lease of an S3 run so that tests can resume
	// soon after killing a trainer; it changes no result.
	var leaseTTL time.Duration
	fs.DurationVar(&leaseTTL, "lease-ttl", 0, "lease of an s3:// run: lapses this long after its holder stops renewing it (default 1m)")
	_ = fs.MarkHidden("lease-ttl")
	// --s3-retry-for shortens how long an S3 request is retried before the
	// run fails, so that tests need not wait out a minute.
	var retryFor time.Duration
	fs.DurationVar(&retryFor, "s3-retry-for", 0, "give up an S3 request that keeps failing after this long (default 1m)")
	_ = fs.MarkHidden("s3-retry-for")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Line("train"))
		return nil
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))}
	}
	if workers < 0 {
		return usageError{fmt.Errorf("--workers %d: want 0 (all CPUs) or more", workers)}
	}
	if workers > 0 {
		runtime.GOMAXPROCS(workers)
	}
	if v := os.Getenv(kernEnv); v != "" {
		if err := kern.SetPath(v); err != nil {
			return usageError{fmt.Errorf("%s=%s: %w", kernEnv, v, err)}
		}
	}

	// s3:// locations, configured from the environment the AWS tools and
	// TensorBoard read.
	storage.Register("s3", s3store.Opener(os.Getenv, s3store.Retry{For: retryFor}))

	p := newProgress(stdout, !noBar && isTerminal(stdout))
	opts := trainer.Options{EpochStart: p.epochStart, Step: p.step, EpochEnd: p.epochEnd,
		SetAside: func(from, to string) {
			fmt.Fprintf(stderr, "train: note: %s is newer than the checkpoint resumed from; renamed to %s\n", from, storage.Base(to))
		}, LeaseTTL: leaseTTL}
	// The crash tests' hooks (internal/chaos sets them in this command's
	// environment); only this command reads them, and none changes a result.
	hooks, herr := faultinject.FromEnv(os.Getenv)
	if herr != nil {
		return herr
	}
	if stepDelay == 0 {
		stepDelay = hooks.StepDelay
	}
	mark := markers(stderr, hooks.Markers)
	if stepDelay > 0 || mark != nil {
		opts.Step = func(s trainer.StepInfo) {
			p.step(s)
			if mark != nil {
				mark("step %d", s.Step)
			}
			time.Sleep(stepDelay)
		}
	}
	if mark != nil {
		note := opts.SetAside
		opts.SetAside = func(from, to string) {
			note(from, to)
			mark("setaside %s", from)
		}
		opts.Commit = func(stage trainer.CommitStage, path string, step int64) {
			switch stage {
			case trainer.SyncBegin:
				mark("flush-begin %d", step)
			case trainer.SyncEnd:
				mark("flush-end %d", step)
			case trainer.SaveBegin:
				mark("commit-begin %s", path)
			case trainer.SaveEnd:
				mark("commit-end %s", path)
			}
		}
	}

	var t *trainer.Trainer
	embedChanged := false // --embed differs from the checkpoint's
	if resume == "" {
		if err := cfg.Validate(); err != nil {
			return usageError{err}
		}
		train, test, err := loadData(cfg.Data)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return errBeforeStart
		}
		if t, err = trainer.New(logdir, cfg, train, test, opts); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new run %s (%s, kernels %s), run ID %s\n", t.Dir(), t.Numerics(), kern.Impl(), t.RunID())
		if mark != nil {
			mark("fresh")
		}
	} else if strings.HasSuffix(resume, ".pt") || strings.HasSuffix(resume, ".pth") {
		pc, err := ptfile.ReadCheckpoint(resume)
		if err != nil {
			return err
		}
		rcfg, warnings, err := trainer.PyTorchConfig(pc, resume, cfg, fs.Changed)
		if err != nil {
			return usageError{err}
		}
		for _, w := range warnings {
			fmt.Fprintf(stderr, "train: warning: %s\n", w)
		}
		train, test, err := loadData(rcfg.Data)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return errBeforeStart
		}
		if t, err = trainer.ResumePyTorch(resume, pc, rcfg, train, test, opts); err != nil {
			return err
		}
		e, _, _ := t.Position()
		fmt.Fprintf(stdout, "continuing the PyTorch run in %s from %s: epoch %d of %d, batch size %d (from --batch-size), "+
			"epoch tags at step = epoch; run ID %s\n", t.Dir(), resume, e, rcfg.Epochs, rcfg.BatchSize, trainer.RunLabel(t.RunID()))
	} else {
		c, path, skipped, err := trainer.Locate(resume, logdir)
		for _, s := range skipped {
			fmt.Fprintf(stderr, "train: warning: skipping checkpoint: %v\n", s)
		}
		if err != nil {
			return err
		}
		rcfg, err := trainer.ResumeConfig(c, path, cfg, fs.Changed)
		if err != nil {
			return usageError{err} // a flag the checkpoint does not allow
		}
		embedChanged = rcfg.Embed != trainer.ConfigOf(c).Embed
		if rcfg.Epochs != trainer.ConfigOf(c).Epochs {
			fmt.Fprintf(stderr, "train: note: --epochs %d (was %d): the cosine schedule of the remaining epochs now uses T_max = %d\n",
				rcfg.Epochs, trainer.ConfigOf(c).Epochs, rcfg.Epochs)
		}
		train, test, err := loadData(rcfg.Data)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return errBeforeStart
		}
		if t, err = trainer.Resume(path, c, rcfg, train, test, opts); err != nil {
			return err
		}
		if k := c.GetKernel(); k != t.Numerics() {
			fmt.Fprintf(stderr, "train: warning: %s was computed with %q, this binary computes with %q: "+
				"training continues but will not match an uninterrupted run bit for bit\n", path, k, t.Numerics())
		}
		e, step, b := t.Position()
		fmt.Fprintf(stdout, "resuming %s from %s: epoch %d, batch %d, global step %d; run ID %s\n", t.Dir(), path, e, b, step, trainer.RunLabel(t.RunID()))
		if mark != nil {
			mark("resume %s step %d", path, step)
		}
	}
	if t.Done() {
		// Run only closes what a finished run may lack: the checkpoint's
		// --epochs when it was lowered to the epochs done, the projector
		// entry of its end when --epochs was lowered or --embed changed,
		// the hparams session end when a kill came between the last commit
		// and it.
		if err := t.Run(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "the run in %s has finished all %d epochs; pass --epochs N to extend it\n", t.Dir(), t.Config().Epochs)
		if n := t.Config().Embed; embedChanged && n > 0 {
			fmt.Fprintf(stdout, "its projector entry now shows the first %d test images\n", n)
		}
		return nil
	}
	if storage.IsURL(t.Dir()) {
		fmt.Fprintf(stdout, "watch it with: S3_ENDPOINT=<server> tensorboard --logdir %s\n", storage.Dir(t.Dir()))
	} else {
		fmt.Fprintf(stdout, "watch it with: tensorboard --logdir %s\n", filepath.Dir(t.Dir()))
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	err := t.Run(ctx)
	p.finish()
	var ie *trainer.InterruptedError
	if errors.As(err, &ie) {
		fmt.Fprintf(stderr, "train: interrupted at global step %d; checkpoint %s\nresume with: go run ./cmd/train --resume %s\n",
			ie.Step, ie.Checkpoint, ie.Checkpoint)
		return err
	}
	if err != nil {
		// Nothing committed is lost: say where the run can continue from
		// once the cause (a full disk, a read-only directory...) is fixed.
		if errors.Is(err, trainer.ErrDiverged) || errors.Is(err, trainer.ErrLocked) {
			// Both say what to do: resuming would repeat the divergence;
			// the other trainer holds the run.
			return err
		}
		if errors.As(err, new(*trainer.LeaseHeldError)) || errors.Is(err, trainer.ErrNoSafeTakeover) {
			return err // it says who holds the run and until when, or what to do
		}
		if errors.Is(err, trainer.ErrLeaseLost) {
			// Another trainer took the run over: a resume here would only
			// be refused while it trains.
			return fmt.Errorf("%w\nthe run goes on under that trainer; its checkpoints are in %s", err, t.Dir())
		}
		if errors.Is(err, trainer.ErrRunChanged) {
			// Another trainer moved the run on while this one started.
			return fmt.Errorf("%w\nresume with: go run ./cmd/train --resume %s", err, t.Dir())
		}
		if storage.IsURL(t.Dir()) {
			// Listing would wait out the retries again when the server is
			// down; every checkpoint reported committed is there.
			return fmt.Errorf("%w\nthe checkpoints committed so far are in %s\nonce the cause is fixed (the server reachable again), resume with: go run ./cmd/train --resume %s",
				err, t.Dir(), t.Dir())
		}
		if _, newest, _, nerr := ckpt.Newest(t.Dir()); nerr == nil {
			return fmt.Errorf("%w\nnewest valid checkpoint: %s\nonce the cause is fixed, resume with: go run ./cmd/train --resume %s",
				err, newest, t.Dir())
		}
		return err
	}
	h := t.History()
	if len(h) > 0 {
		last := h[len(h)-1]
		fmt.Fprintf(stdout, "done: %d epochs, test accuracy %.2f%%, run directory %s\n", len(h), 100*last.TestAcc, t.Dir())
	}
	return nil
}

// kernEnv forces a code path of the numeric kernels (kern.SetPath): a
// user setting, documented in --help. It is read here and nowhere else.
const kernEnv = "TBTRAIN_KERN"

// markerPrefix starts the lines the test markers print on stderr (with
// faultinject.MarkersEnv=1): one per step, per commit stage and at the start
// of a session, for internal/chaos to aim its kills.
const markerPrefix = "tbtrain-test: "

// markers returns a printer of test markers, or nil when they are off.
func markers(stderr io.Writer, on bool) func(format string, args ...any) {
	if !on {
		return nil
	}
	return func(format string, args ...any) {
		fmt.Fprintf(stderr, markerPrefix+format+"\n", args...)
	}
}

func loadData(dir string) (train, test *mnist.Set, err error) {
	if dir == "" {
		return mnist.LoadDefault()
	}
	return mnist.Load(dir)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress renders a bar per epoch on a terminal, plain lines otherwise, and
// one summary line per epoch either way.
type progress struct {
	out       io.Writer
	tty       bool
	bar       *progressbar.ProgressBar
	batches   int64
	start     time.Time
	startStep int64 // batch index at which this session's part of the epoch began
	images    int64
}

func newProgress(out io.Writer, tty bool) *progress { return &progress{out: out, tty: tty} }

func (p *progress) epochStart(epoch, batch, batches int64) {
	p.batches, p.start, p.startStep, p.images = batches, time.Now(), batch, 0
	if !p.tty {
		return
	}
	p.bar = progressbar.NewOptions64(batches,
		progressbar.OptionSetWriter(p.out),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d", epoch)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	_ = p.bar.Set64(batch)
}

func (p *progress) step(s trainer.StepInfo) {
	p.images += s.Images
	rate := float64(p.images) / time.Since(p.start).Seconds()
	if p.tty && p.bar != nil {
		p.bar.Describe(fmt.Sprintf("epoch %d loss %.4f %5.0f img/s", s.Epoch, s.Loss, rate))
		_ = p.bar.Set64(s.Batch)
		return
	}
	// Plain lines: one at each tenth of the epoch; the summary line ends it.
	if s.Batch == s.Batches || s.Batch*10/s.Batches == (s.Batch-1)*10/s.Batches {
		return
	}
	now := time.Now()
	done := s.Batch - p.startStep
	eta := time.Duration(float64(now.Sub(p.start)) / float64(done) * float64(s.Batches-s.Batch))
	fmt.Fprintf(p.out, "epoch %d  batch %d/%d  step %d  loss %.4f  %.0f img/s  ETA %s\n",
		s.Epoch, s.Batch, s.Batches, s.Step, s.Loss, rate, eta.Round(time.Second))
}

func (p *progress) epochEnd(e trainer.EpochInfo) {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
	secs := time.Since(p.start).Seconds()
	fmt.Fprintf(p.out, "epoch %d  step %d  train loss %.4f  test loss %.4f  test acc %.2f%%  lr %.6f  %.1f s  %.0f img/s  -> %s\n",
		e.Epoch, e.Step, e.TrainLoss, e.TestLoss, 100*e.TestAcc, e.LR, secs, float64(p.images)/secs, e.Checkpoint)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Exit()
		p.bar = nil
		fmt.Fprintln(p.out)
	}
}
