package trainer

// This file holds the checkpoint side of a session: commit (sync the
// events, save, prune), the snapshot of the position a checkpoint holds, the
// restore of one, and the set-aside of an abandoned timeline's checkpoints.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/version"
	"github.com/tbtrain/tbtrain/model"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/storage"
)

// AbandonedSuffix is appended to the checkpoints a resumed session sets
// aside (see Run); if that name is taken, "-2", "-3", ... follow it, so an
// earlier set-aside checkpoint is never replaced.
const AbandonedSuffix = ".abandoned"

// setAside sets aside the valid checkpoints of this run in the run directory
// that are newer than the position this session resumes from, newest first,
// as one crash-safe decision (ckpt.SetAside records it before renaming, so a
// kill half-way never leaves the abandoned timeline's checkpoints as the
// newest). Files an unfinished earlier set-aside named are included if they
// are newer than this position; checkpoints of other runs are left alone.
func (t *Trainer) setAside() error {
	list, err := ckpt.List(t.dir)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	taken := map[string]bool{}
	var moves []ckpt.Move
	for i := len(list) - 1; i >= 0; i-- { // List orders valid entries oldest to newest
		e := list[i]
		if !e.Valid() || e.RunID != t.runID || e.Step <= t.step {
			continue
		}
		if nano, ok := t.seen[storage.Base(e.Path)]; t.seen != nil && (!ok || nano != e.UnixNano) {
			// Committed by another trainer between Resume and the lock:
			// its work is newer than the checkpoint this session holds.
			return fmt.Errorf("%w: %s (global step %d) was committed after this session read %s, from its global step %d; "+
				"nothing was changed, resume again", ErrRunChanged, e.Path, e.Step, t.dir, t.step)
		}
		// A name already taken holds a checkpoint set aside earlier (the
		// user went back twice); rename would replace it, so number on.
		from := storage.Base(e.Path)
		to := from + AbandonedSuffix
		for i := 2; ; i++ {
			if !exists(storage.Join(t.dir, to)) && !taken[to] {
				break // free (or unknowable: then the rename reports it)
			}
			to = fmt.Sprintf("%s%s-%d", from, AbandonedSuffix, i)
		}
		taken[to] = true
		moves = append(moves, ckpt.Move{From: from, To: to})
	}
	var done func(ckpt.Move)
	if t.opts.SetAside != nil {
		done = func(m ckpt.Move) { t.opts.SetAside(storage.Join(t.dir, m.From), storage.Join(t.dir, m.To)) }
	}
	if err := ckpt.SetAside(t.dir, moves, done); err != nil {
		return fmt.Errorf("trainer: setting aside the checkpoints of an abandoned timeline: %w", err)
	}
	return nil
}

// checkpointName returns the file name of a checkpoint at the current
// position: LenetMnist<e>.ckpt at the end of 0-based epoch e (the position is
// then the start of epoch e+1), LenetMnist<epoch>-step<step>.ckpt otherwise.
func (t *Trainer) checkpointName() string {
	if t.batchInEpoch == 0 && t.epoch > 0 {
		return fmt.Sprintf("LenetMnist%d.ckpt", t.epoch-1)
	}
	return fmt.Sprintf("LenetMnist%d-step%d.ckpt", t.epoch, t.step)
}

// commit Syncs the events, saves a checkpoint of the current position and
// prunes old checkpoints; it returns the checkpoint's path.
func (t *Trainer) commit() (string, error) {
	path := storage.Join(t.dir, t.checkpointName())
	hook := t.opts.Commit
	if hook == nil {
		hook = func(CommitStage, string, int64) {}
	}
	if t.w != nil { // nil for the step-0 commit, made before any event, and for a session that trains nothing
		hook(SyncBegin, path, t.step)
		if err := t.w.Sync(); err != nil {
			return "", fmt.Errorf("trainer: syncing events before a checkpoint: %w", err)
		}
		hook(SyncEnd, path, t.step)
	}
	c, err := t.snapshot()
	if err != nil {
		return "", err
	}
	// Run stops at the first non-finite loss, so this holds; a checkpoint
	// that a resume would refuse is never written.
	if err := checkFinite(c); err != nil {
		return "", fmt.Errorf("trainer: not committing %s: %w", path, err)
	}
	hook(SaveBegin, path, t.step)
	if t.lease != nil {
		if err := t.lease.confirm(context.Background()); err != nil {
			return "", err
		}
	}
	if err := ckpt.Save(path, c); err != nil {
		return "", fmt.Errorf("trainer: %w", err)
	}
	hook(SaveEnd, path, t.step)
	t.lastCommit, t.committedNano = path, c.GetUnixNano()
	t.lastCommitAt = time.Unix(0, c.GetUnixNano())
	if t.cfg.Keep > 0 {
		if err := ckpt.Prune(t.dir, ckpt.PruneOptions{Run: t.runID, Keep: int(t.cfg.Keep), Best: int(t.cfg.KeepBest)}); err != nil {
			return path, fmt.Errorf("trainer: %w", err)
		}
	}
	return path, nil
}

// snapshot returns a checkpoint of the current position.
func (t *Trainer) snapshot() (*ckptpb.Checkpoint, error) {
	rng, err := rngState(t.cfg.Seed, t.epoch, t.train.Len())
	if err != nil {
		return nil, err
	}
	c := &ckptpb.Checkpoint{
		FormatVersion:  FormatVersion,
		Model:          ModelName,
		Epoch:          t.epoch,
		GlobalStep:     t.step,
		BatchInEpoch:   t.batchInEpoch,
		Optimizer:      &ckptpb.SGD{Lr: t.lastLR(), Momentum: t.cfg.Momentum, HasBuffers: t.opt.HasBuffers()},
		Scheduler:      &ckptpb.CosineSchedule{BaseLr: t.cfg.LR, EtaMin: t.cfg.EtaMin, TMax: t.cfg.Epochs, LastEpoch: t.epoch},
		RngState:       rng,
		Config:         t.cfg.proto(),
		History:        t.history,
		Kernel:         t.net.Numerics(),
		UnixNano:       t.now().UnixNano(),
		EpochLossSum:   t.epochLossSum,
		RunId:          t.runID,
		HparamsRun:     t.hpRun,
		StepConvention: t.convention,
		FirstEpoch:     t.firstEpoch,
		Build:          buildProto(),
	}
	if a := t.anchor; a != nil {
		c.Scheduler.HasAnchor, c.Scheduler.AnchorEpoch, c.Scheduler.AnchorLr = true, a.epoch, a.lr
	}
	for i, p := range t.params {
		c.Params = append(c.Params, tensor(p.Name, p.Shape, p.Data))
		if t.opt.HasBuffers() {
			c.Optimizer.MomentumBuffer = append(c.Optimizer.MomentumBuffer, tensor(p.Name, p.Shape, t.opt.Buffers()[i]))
		}
	}
	return c, nil
}

func tensor(name string, shape []int, data []float32) *ckptpb.Tensor {
	s := make([]int64, len(shape))
	for i, d := range shape {
		s[i] = int64(d)
	}
	return &ckptpb.Tensor{Name: name, Shape: s, Data: append([]float32(nil), data...)}
}

// rngState is the checkpoint's rng_state: the binary form of epoch e's
// shuffling PCG after it has drawn that epoch's order. The order is a pure
// function of (seed, e), so the state is a check, not an input: Resume
// recomputes it and refuses a checkpoint whose state differs (a different
// seed, epoch, data size or shuffle algorithm).
func rngState(seed uint64, e int64, n int) ([]byte, error) {
	src := epochRNG(seed, e)
	permute(make([]int, n), src)
	b, err := src.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	return b, nil
}

// restore loads the position, weights and optimizer state of c.
func (t *Trainer) restore(c *ckptpb.Checkpoint) error {
	if err := checkFinite(c); err != nil {
		return err
	}
	want := make([]ckpt.ParamShape, len(t.params))
	for i, p := range t.params {
		want[i] = ckpt.ParamShape{Name: p.Name, Shape: p.Shape}
	}
	if err := ckpt.CheckModel(c, ModelName, want); err != nil {
		return err
	}
	o := c.GetOptimizer()
	if o.GetHasBuffers() {
		if got, want := len(o.GetMomentumBuffer()), len(t.params); got != want {
			return fmt.Errorf("checkpoint holds %d momentum buffers, the model has %d parameters", got, want)
		}
		for i, p := range t.params {
			if err := checkTensor(o.GetMomentumBuffer()[i], p, "momentum buffer"); err != nil {
				return err
			}
		}
	}
	e, step, b := c.GetEpoch(), c.GetGlobalStep(), c.GetBatchInEpoch()
	if e < 0 || b < 0 || b >= t.batches || step != e*t.batches+b {
		return fmt.Errorf("checkpoint position (epoch %d, batch %d, global step %d) does not fit %d batches per epoch",
			e, b, step, t.batches)
	}
	if e > t.cfg.Epochs {
		return fmt.Errorf("checkpoint is at epoch %d, beyond --epochs %d", e, t.cfg.Epochs)
	}
	first := c.GetFirstEpoch()
	if first < 0 || first > e || int64(len(c.GetHistory())) != e-first {
		return fmt.Errorf("checkpoint holds metrics of %d epochs, want %d (epochs %d to %d)", len(c.GetHistory()), e-first, first, e-1)
	}
	// A run continued from PyTorch may start without momentum buffers
	// (a file without optimizer state) at a step above 0.
	if o.GetHasBuffers() != (step > 0) && !(first > 0 && !o.GetHasBuffers()) {
		return fmt.Errorf("checkpoint at global step %d has momentum buffers: %v", step, o.GetHasBuffers())
	}
	rng, err := rngState(t.cfg.Seed, e, t.train.Len())
	if err != nil {
		return err
	}
	if string(rng) != string(c.GetRngState()) {
		return fmt.Errorf("checkpoint RNG state does not match seed %d, epoch %d and %d training images",
			t.cfg.Seed, e, t.train.Len())
	}
	for i, p := range t.params {
		copy(p.Data, c.GetParams()[i].GetData())
	}
	if o.GetHasBuffers() {
		bufs := make([][]float32, len(t.params))
		for i := range bufs {
			bufs[i] = o.GetMomentumBuffer()[i].GetData()
		}
		if err := t.opt.SetBuffers(bufs); err != nil {
			return err
		}
	}
	t.epoch, t.step, t.batchInEpoch = e, step, b
	t.epochLossSum = c.GetEpochLossSum()
	t.history = c.GetHistory()
	t.runID = c.GetRunId()
	t.hpRun, t.committedNano = c.GetHparamsRun(), c.GetUnixNano()
	t.convention, t.firstEpoch = c.GetStepConvention(), first
	if s := c.GetScheduler(); s.GetHasAnchor() {
		t.anchor = &lrAnchor{epoch: s.GetAnchorEpoch(), lr: s.GetAnchorLr()}
	}
	return nil
}

func checkTensor(got *ckptpb.Tensor, p model.Param, what string) error {
	if got.GetName() != p.Name {
		return fmt.Errorf("%s %q in the checkpoint where the model has %q", what, got.GetName(), p.Name)
	}
	shape := make([]int64, len(p.Shape))
	for i, d := range p.Shape {
		shape[i] = int64(d)
	}
	if fmt.Sprint(got.GetShape()) != fmt.Sprint(shape) || len(got.GetData()) != len(p.Data) {
		return fmt.Errorf("%s %s has shape %v (%d values) in the checkpoint, the model wants %v",
			what, p.Name, got.GetShape(), len(got.GetData()), shape)
	}
	return nil
}

// buildProto records the build of tbtrain that is running (module version,
// VCS revision, toolchain, platform: see internal/version) in a checkpoint.
func buildProto() *ckptpb.Build {
	v := version.Current()
	return &ckptpb.Build{ModuleVersion: v.Version, VcsRevision: v.Revision, VcsTime: v.Time,
		VcsModified: v.Modified, GoVersion: v.GoVersion, Platform: v.Platform}
}

// exists reports whether a file (or object) is at loc; an error other than
// "does not exist" counts as existing, so that a name is never reused when
// the store cannot tell.
func exists(loc string) bool {
	if !storage.IsURL(loc) {
		_, err := os.Lstat(loc)
		return err == nil || !errors.Is(err, fs.ErrNotExist)
	}
	_, err := storage.Stat(context.Background(), loc)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
