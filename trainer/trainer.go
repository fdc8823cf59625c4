package trainer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/model"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// ModelName is the Checkpoint.model of every checkpoint the trainer writes.
const ModelName = "lenet5-mnist"

// FormatVersion is the Checkpoint.format_version the trainer writes.
const FormatVersion = 1

// evalBatch is the number of test images per Eval call; any value gives the
// same sums because the per-image losses are added in test-set order.
const evalBatch = 500

// maxMisclassified caps the image grid of misclassified test digits, which
// has gridCols columns (8×8).
const (
	maxMisclassified = 64
	gridCols         = 8
)

// DefaultFlushInterval is how often a running session writes its buffered
// events to the file, so that TensorBoard shows the per-step loss while an
// epoch runs (tbwriter's own default, 120 s like TensorBoard's, is long for
// that). Events are also synced before every checkpoint.
const DefaultFlushInterval = 10 * time.Second

// Options are the hooks and knobs of a Trainer that are not part of the
// run's config. The zero value is ready to use.
type Options struct {
	// EpochStart, if set, is called when an epoch starts or resumes:
	// batch is the index of the first batch this session trains in it.
	EpochStart func(epoch, batch, batches int64)
	// Step, if set, is called after every optimizer step.
	Step func(StepInfo)
	// EpochEnd, if set, is called after each epoch's checkpoint is committed.
	EpochEnd func(EpochInfo)
	// Commit, if set, is called at each stage of a checkpoint commit, with
	// the checkpoint's path and global step (tests use it to aim kills).
	Commit func(stage CommitStage, path string, step int64)
	// SetAside, if set, is called when a resumed session renames the valid
	// checkpoints of its directory that are newer than the one it resumed
	// from (see Run), with their old and new paths.
	SetAside func(from, to string)
	// Events are the options of the event writer; StartStep is set by the
	// trainer (0 for a new run, global step + 1 on resume), and a zero
	// FlushInterval means DefaultFlushInterval.
	Events tbwriter.Options
	// Now returns the wall time (run directory names, epoch seconds,
	// checkpoint time stamps); nil means time.Now.
	Now func() time.Time
	// LeaseTTL is how long the lease of a run on an object store lasts
	// unless renewed (see Run); 0 means DefaultLeaseTTL.
	LeaseTTL time.Duration
}

// CommitStage names a stage of a checkpoint commit, in the order they happen.
type CommitStage int

const (
	SyncBegin CommitStage = iota // before the event writer's Sync
	SyncEnd                      // events are on disk
	SaveBegin                    // before ckpt.Save
	SaveEnd                      // the checkpoint is committed (pruning follows)
)

// StepInfo describes one optimizer step.
type StepInfo struct {
	Epoch   int64   // 0-based epoch
	Batch   int64   // batches of Epoch done, including this one
	Batches int64   // batches per epoch
	Step    int64   // global step after this step (first = 1)
	Loss    float32 // mean loss of the batch
	Images  int64   // images in the batch
}

// EpochInfo describes a finished epoch.
type EpochInfo struct {
	Epoch      int64   // 0-based
	Step       int64   // global step that ended the epoch
	TrainLoss  float64 // mean batch loss over the epoch
	TestLoss   float64 // mean per-image test loss
	TestAcc    float64 // fraction of test images classified right
	LR         float64 // learning rate used during the epoch
	Seconds    float64 // wall time of the epoch (this session's part of it, if resumed)
	Checkpoint string  // the epoch-end checkpoint file
}

// Trainer runs one session of a training run. Create it with New or Resume,
// then call Run once. A Trainer is not safe for concurrent use; the hooks in
// Options are called from the goroutine that calls Run.
type Trainer struct {
	cfg   Config
	dir   string
	opts  Options
	now   func() time.Time
	train *mnist.Set // already limited to cfg.LimitTrain
	test  *mnist.Set // already limited to cfg.LimitTest

	net    *model.LeNet5
	params []model.Param
	opt    *SGD

	epoch        int64
	step         int64
	batchInEpoch int64
	epochLossSum float64
	history      []*ckptpb.EpochMetrics
	batches      int64 // per epoch
	fresh        bool  // first session of the run
	runID        string
	lastCommit   string // the checkpoint this session committed last
	// committedNano is the commit time (unix_nano) of the newest
	// checkpoint: the one restored, then each this session commits.
	committedNano int64
	hpRun         string // the hparams session directory (see hpsession.go)
	// lastCommitAt is when this session last committed (or started):
	// --save-every counts from it.
	lastCommitAt time.Time
	lease        *lease // held while Run runs, for a run on an object store
	// seen holds the commit time (unix_nano) of each valid checkpoint of
	// the directory when Resume read it, by file name (nil for a new run
	// or a run continued from PyTorch): setAside refuses to set aside a
	// checkpoint committed after that (see ErrRunChanged).
	seen map[string]int64
	// runCfg is the config that the step-0 tags (config, hparams) show: the
	// session's own in a new run, the checkpoint's when resuming, so that a
	// session re-logging step 0 writes what the first session wrote.
	runCfg Config
	// convention is the step axis of the epoch-end tags, firstEpoch the
	// first epoch trained by tbtrain (both from a PyTorch checkpoint for a
	// run continued from one; see pytorch.go), anchor the PyTorch schedule
	// the learning rate continues (nil: the closed form).
	convention ckptpb.StepConvention
	firstEpoch int64
	anchor     *lrAnchor

	w *tbwriter.Writer
}

// New starts a new run in a new directory <logdir>/<YYYY-MM-DD_HH-MM-SS>
// (local time; a suffix -2, -3, ... is added if that directory exists).
// Run first commits the step-0 checkpoint there, so the run can be resumed
// from any point. train and test are the full data sets; the config's limits
// are applied here.
func New(logdir string, cfg Config, train, test *mnist.Set, opts Options) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := newTrainer(cfg, train, test, opts)
	if err != nil {
		return nil, err
	}
	if storage.IsURL(logdir) {
		if err := t.claimRun(logdir); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(logdir, 0o755); err != nil {
		return nil, fmt.Errorf("trainer: log directory: %w", err)
	}
	stamp := t.now().Format("2006-01-02_15-04-05")
	for i := 1; t.dir == ""; i++ {
		name := stamp
		if i > 1 {
			name = fmt.Sprintf("%s-%d", stamp, i)
		}
		dir := filepath.Join(logdir, name) // local: claimRun named S3 runs
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			t.dir = dir
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("trainer: run directory: %w", err)
		}
	}
	t.fresh = true
	t.runCfg = cfg
	if t.runID, err = newRunID(); err != nil {
		return nil, err
	}
	return t, nil
}

// Resume continues the run of checkpoint c, read from path, in the directory
// that holds path. cfg is the config to continue with (see ResumeConfig);
// a setting that may not change on resume and differs from the checkpoint's
// is a *ConflictError. The checkpoint must match the model, cfg and the
// data: Resume checks the parameter names and shapes, the momentum buffers,
// the position in the epoch and the stored RNG state, and names what does
// not match. cfg.Epochs below the epochs the checkpoint has completed or
// begun is an error (it would drop trained steps), as in ResumeConfig.
//
// The directory must hold checkpoints of c's run only (same run ID):
// otherwise Resume returns an *OtherRunsError and touches nothing (see the
// package doc, "Run identity").
func Resume(path string, c *ckptpb.Checkpoint, cfg Config, train, test *mnist.Set, opts Options) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := conflict(ConfigOf(c), cfg, path, func(string) bool { return true }); err != nil {
		return nil, err
	}
	if err := checkEpochs(c, path, cfg.Epochs); err != nil {
		return nil, err
	}
	t, err := newTrainer(cfg, train, test, opts)
	if err != nil {
		return nil, err
	}
	t.dir = storage.Dir(path)
	list, err := listOneRun(t.dir, path, c.GetRunId())
	if err != nil {
		return nil, err
	}
	t.seen = map[string]int64{}
	for _, e := range list {
		if e.Valid() {
			t.seen[storage.Base(e.Path)] = e.UnixNano
		}
	}
	t.runCfg = ConfigOf(c)
	if err := t.restore(c); err != nil {
		return nil, fmt.Errorf("trainer: cannot resume from %s: %w", path, err)
	}
	return t, nil
}

func newTrainer(cfg Config, train, test *mnist.Set, opts Options) (*Trainer, error) {
	t := &Trainer{cfg: cfg, opts: opts, now: opts.Now}
	if t.now == nil {
		t.now = time.Now
	}
	var err error
	if t.train, err = limit(train, cfg.LimitTrain, "training"); err != nil {
		return nil, err
	}
	if t.test, err = limit(test, cfg.LimitTest, "test"); err != nil {
		return nil, err
	}
	t.batches = int64(t.train.Len()) / cfg.BatchSize
	if t.batches == 0 {
		return nil, fmt.Errorf("trainer: %d training images make no full batch of --batch-size %d",
			t.train.Len(), cfg.BatchSize)
	}
	t.net = model.NewLeNet5(initRNG(cfg.Seed))
	t.params = t.net.Params()
	sizes := make([]int, len(t.params))
	for i, p := range t.params {
		sizes[i] = len(p.Data)
	}
	t.opt = NewSGD(cfg.Momentum, sizes)
	return t, nil
}

// limit returns the first n images of s (all if n is 0).
func limit(s *mnist.Set, n int64, what string) (*mnist.Set, error) {
	if s == nil || s.Len() == 0 {
		return nil, fmt.Errorf("trainer: no %s images", what)
	}
	if n == 0 || n >= int64(s.Len()) {
		return s, nil
	}
	return &mnist.Set{Images: s.Images[:n*784], Labels: s.Labels[:n]}, nil
}

// Dir returns the run directory.
func (t *Trainer) Dir() string { return t.dir }

// RunID returns the run's identity, stored in each of its checkpoints: 32
// hex digits made by New and kept by every resume; "" for a run started
// before run IDs existed.
func (t *Trainer) RunID() string { return t.runID }

// Config returns the config of this session.
func (t *Trainer) Config() Config { return t.cfg }

// Position returns the epoch to train next, the global step and the batches
// of that epoch already done.
func (t *Trainer) Position() (epoch, step, batchInEpoch int64) {
	return t.epoch, t.step, t.batchInEpoch
}

// Numerics describes what the bits of the results depend on besides the
// inputs (model shards and chunks and the canonical arithmetic of the kern
// package, which every processor and kern code path computes; see model's
// Numerics). It is stored as the checkpoint's kernel: a run resumed with
// another value continues, but not bit for bit.
func (t *Trainer) Numerics() string { return t.net.Numerics() }

// Done reports whether every epoch of the config has been trained.
func (t *Trainer) Done() bool { return t.epoch >= t.cfg.Epochs }

// History returns the metrics of the completed epochs.
func (t *Trainer) History() []EpochInfo {
	out := make([]EpochInfo, len(t.history))
	for i, h := range t.history {
		out[i] = EpochInfo{Epoch: h.GetEpoch(), Step: h.GetStep(), TrainLoss: h.GetTrainLoss(),
			TestLoss: h.GetTestLoss(), TestAcc: h.GetTestAcc(), LR: h.GetLr(), Seconds: h.GetSeconds()}
	}
	return out
}

// Run trains until the last epoch of the config is done or ctx is cancelled.
//
// A new session opens a new event file in the run directory (StartStep 0 for
// a new run, global step + 1 on resume). After each epoch it logs the epoch's
// scalars, weight histograms and misclassified digits at the global step that
// ended the epoch, then Syncs the events and commits LenetMnist<epoch>.ckpt;
// every --save-every-steps steps, and after a step that ends --save-every of
// wall time since the last commit (or the session's start), it does the same
// with a mid-epoch LenetMnist<epoch>-step<step>.ckpt. Each commit is
// followed by pruning to the --keep newest checkpoints of the run plus its
// --keep-best best epoch-end ones (ckpt.Prune).
//
// A resumed session first removes the temp files of an unfinished commit
// (ckpt.CleanTemp) or projector file (tbwriter.CleanTemp), also when it has
// nothing left to train, and renames the valid checkpoints of the run directory
// whose global step is beyond the one it resumes from to <name>.abandoned:
// they belong to the timeline this session replaces (the user named an older
// checkpoint), and a later --resume DIR or latest, which picks the highest
// step, must not jump back to it. Files that do not verify are left alone.
//
// Run first takes the lock of the run directory (the file LockName: flock on
// Unix, LockFileEx on Windows; released when Run returns or the process
// dies): if another trainer holds it, Run returns a *LockedError naming
// the holder's PID before writing anything.
//
// When ctx is cancelled Run finishes the current step, commits a mid-epoch
// checkpoint (unless the step ended an epoch, whose checkpoint is already
// committed), closes the event file and returns an *InterruptedError that
// names the checkpoint to resume from.
func (t *Trainer) Run(ctx context.Context) (err error) {
	if !storage.IsURL(t.dir) {
		// One trainer per run directory, before anything is written.
		l, err := lockDir(t.dir)
		if err != nil {
			return err
		}
		defer func() {
			if uerr := l.release(); uerr != nil && err == nil {
				err = uerr
			}
		}()
	}
	if storage.IsURL(t.dir) {
		// One trainer per run: on an object store, a lease (New took it
		// for a new run).
		if t.lease == nil {
			if t.lease, err = newLease(t.dir, t.opts.LeaseTTL, t.now); err != nil {
				return err
			}
			if err := t.lease.acquire(context.Background()); err != nil {
				t.lease = nil
				return err
			}
		}
		t.lease.keep()
		defer func() {
			if rerr := t.lease.release(); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	if t.Done() {
		return t.finish()
	}
	if !t.fresh {
		// Temp files of a commit, or of a projector file, the previous
		// session did not finish.
		if err := t.cleanTemp(); err != nil {
			return err
		}
		if err := t.setAside(); err != nil {
			return err
		}
		if err := t.dropReplacedEmbeddings(); err != nil {
			return err
		}
	}
	if t.cfg.SaveEvery > 0 {
		t.lastCommitAt = t.now()
	}
	// Before the first commit: every checkpoint names the session.
	if t.hpRun, err = t.chooseHPRun(t.hpRun); err != nil {
		return err
	}
	if t.fresh {
		// The step-0 checkpoint comes before any event file: a run
		// directory holds a checkpoint as soon as it holds events, so a
		// session killed before this commit leaves no run for
		// TensorBoard to show and nothing for --resume to miss.
		if _, err := t.commit(); err != nil {
			return err
		}
	}
	if err := t.startHPSession(); err != nil {
		return err
	}
	if err := t.openEvents(); err != nil {
		return err
	}
	defer func() {
		if cerr := t.w.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("trainer: closing events: %w", cerr)
		}
	}()
	if t.startStep() == t.firstStep() {
		if err := t.logRunOnce(); err != nil {
			return err
		}
	}

	B := int(t.cfg.BatchSize)
	x := make([]float32, B*784)
	labels := make([]uint8, B)
	perm := make([]int, t.train.Len())
	fill := &batchFiller{set: t.train}
	for t.epoch < t.cfg.Epochs {
		e := t.epoch
		lr := t.lr(e)
		permute(perm, epochRNG(t.cfg.Seed, e))
		start := t.now()
		if t.opts.EpochStart != nil {
			t.opts.EpochStart(e, t.batchInEpoch, t.batches)
		}
		for t.batchInEpoch < t.batches {
			b := t.batchInEpoch
			// The shards gather their own images (fill), and the SGD
			// step is applied inside the model, part by part as the
			// shards' gradients are summed, unless the loss is not
			// finite.
			fill.idx = perm[b*int64(B) : (b+1)*int64(B)]
			t.train.BatchLabels(labels, fill.idx)
			t.opt.BeginStep(lr)
			loss := t.net.TrainStepFill(x, labels, fill, t.opt)
			if !finite(float64(loss)) {
				// TrainStep did not update: the weights stay those of
				// the last finite step, and nothing is committed.
				return &DivergedError{What: "training loss", Loss: float64(loss), Step: t.step + 1, Epoch: e,
					Batch: t.batchInEpoch + 1, Batches: t.batches, Checkpoint: t.lastCommit}
			}
			t.opt.EndStep()
			t.step++
			t.batchInEpoch++
			t.epochLossSum += float64(loss)
			if err := t.logStep(loss); err != nil {
				return err
			}
			if t.opts.Step != nil {
				t.opts.Step(StepInfo{Epoch: e, Batch: t.batchInEpoch, Batches: t.batches, Step: t.step, Loss: loss, Images: int64(B)})
			}
			if t.batchInEpoch == t.batches {
				break // the epoch-end checkpoint follows
			}
			if ctx.Err() != nil {
				path, err := t.commit()
				if err != nil {
					return err
				}
				return &InterruptedError{Checkpoint: path, Dir: t.dir, Step: t.step}
			}
			if t.cfg.SaveEverySteps > 0 && t.step%t.cfg.SaveEverySteps == 0 ||
				t.cfg.SaveEvery > 0 && t.now().Sub(t.lastCommitAt) >= t.cfg.SaveEvery {
				if _, err := t.commit(); err != nil {
					return err
				}
			}
		}
		info, err := t.endEpoch(lr, start)
		if err != nil {
			return err
		}
		if t.opts.EpochEnd != nil {
			t.opts.EpochEnd(info)
		}
		if ctx.Err() != nil && !t.Done() {
			return &InterruptedError{Checkpoint: info.Checkpoint, Dir: t.dir, Step: t.step}
		}
	}
	// The last epoch is committed: only now is the extent's end certain.
	return t.endHPSession()
}

// finish is Run for a session that starts with every epoch of its config
// done. If the config ends the run at fewer epochs than the checkpoint's
// (--epochs lowered to exactly the epochs done), the run ends here: the
// checkpoint is committed again at the same position with the new config,
// after setting aside any newer checkpoint of the run (they belong to the
// longer timeline), the projector entries of that timeline are removed and
// the epoch that now ends the run gets its projector entry, so that a later
// plain resume does not train on. Otherwise, if --embed changed, the
// projector entry of the last epoch is written again with the new number of
// test images. Either way the temp files a killed session left are removed
// and the hparams session of the extent gets its end if a kill left it
// without one.
func (t *Trainer) finish() error {
	// Temp files of a commit or of a projector file that a killed session
	// left: removed whether or not anything is left to train.
	if err := t.cleanTemp(); err != nil {
		return err
	}
	if t.runCfg.Epochs != t.cfg.Epochs {
		if err := t.setAside(); err != nil {
			return err
		}
		// Nothing is trained, so nothing else would drop the longer
		// timeline's later points from TensorBoard's curves.
		if err := t.endCurvesHere(); err != nil {
			return err
		}
		// The longer timeline's projector entries go, and the new end
		// gets its own.
		if err := t.dropReplacedEmbeddings(); err != nil {
			return err
		}
		if err := t.embedAtEnd(); err != nil {
			return err
		}
		var err error
		if t.hpRun, err = t.chooseHPRun(t.hpRun); err != nil {
			return err
		}
		if _, err := t.commit(); err != nil {
			return err
		}
	} else if t.cfg.Embed != t.runCfg.Embed {
		// --embed changed for a finished run: its Projector entry shows
		// the new number of test images.
		if err := t.embedAtEnd(); err != nil {
			return err
		}
	}
	return t.endHPSession()
}

// cleanTemp removes the temp files of a commit (ckpt.CleanTemp) and of
// projector files (tbwriter.CleanTemp) that a previous session did not
// finish.
func (t *Trainer) cleanTemp() error {
	if err := ckpt.CleanTemp(t.dir); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := tbwriter.CleanTemp(t.dir); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// lr returns the learning rate of epoch e: the closed-form cosine, or for a
// run continued from PyTorch its scheduler's recursion from the anchor.
func (t *Trainer) lr(e int64) float64 {
	if a := t.anchor; a != nil && e >= a.epoch {
		return pytorchCosineLR(t.cfg.LR, t.cfg.EtaMin, t.cfg.Epochs, a.epoch, a.lr, e)
	}
	return CosineLR(t.cfg.LR, t.cfg.EtaMin, t.cfg.Epochs, e)
}

// lastLR returns the learning rate of the last step taken (the initial one
// before the first step).
func (t *Trainer) lastLR() float64 {
	switch {
	case t.step == 0:
		return t.lr(0)
	case t.batchInEpoch == 0:
		return t.lr(t.epoch - 1)
	}
	return t.lr(t.epoch)
}

// endEpoch evaluates, logs the epoch-end tags at the current step, moves to
// the next epoch and commits its checkpoint.
func (t *Trainer) endEpoch(lr float64, start time.Time) (EpochInfo, error) {
	e := t.epoch
	embed := 0
	if e == t.cfg.Epochs-1 {
		embed = int(t.cfg.Embed) // the projector shows the model that ends the run
	}
	tp := t.evaluate(embed)
	testLoss, testAcc := tp.loss, tp.acc
	if !finite(testLoss) {
		return EpochInfo{}, &DivergedError{What: "test loss", Loss: testLoss, Step: t.step, Epoch: e,
			Batch: t.batches, Batches: t.batches, Checkpoint: t.lastCommit}
	}
	info := EpochInfo{
		Epoch:     e,
		Step:      t.step,
		TrainLoss: t.epochLossSum / float64(t.batches),
		TestLoss:  testLoss,
		TestAcc:   testAcc,
		LR:        lr,
		Seconds:   t.now().Sub(start).Seconds(),
	}
	s := t.step
	if err := t.logEpoch(info, tp); err != nil {
		return info, err
	}
	t.history = append(t.history, &ckptpb.EpochMetrics{
		Epoch: e, Step: s, TrainLoss: info.TrainLoss, TestLoss: testLoss, TestAcc: testAcc, Lr: lr, Seconds: info.Seconds,
	})
	t.epoch++
	t.batchInEpoch = 0
	t.epochLossSum = 0
	path, err := t.commit()
	info.Checkpoint = path
	return info, err
}

// testPass is what one pass over the test set yields: the epoch's test
// metrics and what the epoch-end TensorBoard tags show of it.
type testPass struct {
	loss, acc float64
	wrong     []misclassified // the first maxMisclassified misclassified images
	conf      confusion
	labels    []uint8   // true digit of each test image
	pred      []uint8   // predicted digit of each test image
	probs     []float32 // softmax probabilities, NumClasses per test image
	feats     []float32 // penultimate activations of the first embed images, FeatureSize each
}

// evaluate runs the model over the test set once, in order, and returns the
// mean test loss, the accuracy, the misclassified images, the confusion
// matrix and each image's class probabilities; and, if embed > 0, the
// penultimate activations of the first min(embed, test images) images.
func (t *Trainer) evaluate(embed int) *testPass {
	n := t.test.Len()
	nb := min(evalBatch, n)
	embed = min(embed, n)
	x := make([]float32, nb*784)
	idx := make([]int, nb)
	r := &testPass{
		labels: make([]uint8, n),
		pred:   make([]uint8, n),
		probs:  make([]float32, n*model.NumClasses),
		feats:  make([]float32, embed*model.FeatureSize),
	}
	var feats []float32
	if embed > 0 {
		feats = make([]float32, nb*model.FeatureSize)
	}
	var sum float64
	correct := 0
	for lo := 0; lo < n; lo += nb {
		k := min(nb, n-lo)
		for i := range k {
			idx[i] = lo + i
		}
		labels := r.labels[lo : lo+k]
		t.test.Batch(x[:k*784], labels, idx[:k])
		out := model.EvalOutputs{Pred: r.pred[lo : lo+k], Probs: r.probs[lo*model.NumClasses : (lo+k)*model.NumClasses]}
		if lo < embed {
			out.Features = feats[:k*model.FeatureSize]
		}
		sum += t.net.EvalTo(x[:k*784], labels, out)
		if out.Features != nil {
			copy(r.feats[lo*model.FeatureSize:], out.Features)
		}
		for i, y := range labels {
			p := out.Pred[i]
			r.conf[y][p]++
			if p == y {
				correct++
			} else if len(r.wrong) < maxMisclassified {
				r.wrong = append(r.wrong, misclassified{index: lo + i, label: y, pred: p})
			}
		}
	}
	r.loss, r.acc = sum/float64(n), float64(correct)/float64(n)
	return r
}

// claimRun picks the run directory of a new run on an object store, where
// directories do not exist: the first of <stamp>, <stamp>-2, ... whose lease
// object this session creates (If-None-Match: *), which both names the run
// and makes this session its one trainer.
func (t *Trainer) claimRun(logdir string) error {
	stamp := t.now().Format("2006-01-02_15-04-05")
	for i := 1; i < 1000; i++ {
		name := stamp
		if i > 1 {
			name = fmt.Sprintf("%s-%d", stamp, i)
		}
		dir := storage.Join(logdir, name)
		l, err := newLease(dir, t.opts.LeaseTTL, t.now)
		if err != nil {
			return err
		}
		ok, err := l.create(context.Background())
		if err != nil {
			return err
		}
		if ok {
			t.dir, t.lease = dir, l
			return nil
		}
	}
	return fmt.Errorf("trainer: no free run name under %s", logdir)
}
