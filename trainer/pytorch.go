package trainer

// This file continues a PyTorch run (a checkpoint dict of the MNIST demo
// recipe, read by package ptfile) and exports a tbtrain checkpoint as one.

import (
	"fmt"
	"math"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/kern"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/ptfile"
	"github.com/tbtrain/tbtrain/storage"
)

// lrAnchor is where a schedule continued from PyTorch starts: the rate of
// epoch `epoch` is lr, the rate PyTorch's scheduler had set.
type lrAnchor struct {
	epoch int64
	lr    float64
}

// pytorchCosineLR returns the learning rate of epoch e >= e0 of a
// CosineAnnealingLR whose rate at epoch e0 was lr0, stepping the recursion
// of torch.optim.lr_scheduler.CosineAnnealingLR.get_lr (torch 1.13) once
// per epoch, in its order of operations:
//
//	if (k-1-T) % 2T == 0:  lr_k = lr_{k-1} + (base-eta)·(1 - cos(π/T))/2
//	else:                  lr_k = (1 + cos(π·k/T)) / (1 + cos(π·(k-1)/T)) · (lr_{k-1} - eta) + eta
//
// A PyTorch run resumed by its own script continues this way (the optimizer
// restores lr_{e0}, the scheduler steps from it), so the Go continuation
// keeps PyTorch's rates: lr(e0) = lr0 exactly, later epochs to the last
// bits of kern.Cos against the C library's cos (kern.Cos rather than
// math.Cos, so that the rates are the same on every processor).
func pytorchCosineLR(base, eta float64, tMax, e0 int64, lr0 float64, e int64) float64 {
	lr := lr0
	T := float64(tMax)
	for k := e0 + 1; k <= e; k++ {
		// The float64() conversions keep the compiler from fusing a
		// product and a sum into one FMA, which Python does not do.
		if (k-1-tMax)%(2*tMax) == 0 {
			lr = lr + float64(float64(base-eta)*float64(1-kern.Cos(math.Pi/T)))/2
			continue
		}
		ratio := (1 + kern.Cos(math.Pi*float64(k)/T)) / (1 + kern.Cos(math.Pi*float64(k-1)/T))
		lr = float64(ratio*(lr-eta)) + eta
	}
	return lr
}

// PyTorchConfig returns the config a run continued from the PyTorch
// checkpoint pc (read from path) trains with, and warnings for the caller to
// show. From the file: --lr (the scheduler's base_lrs[0]), --momentum,
// --eta-min and --epochs (the scheduler's T_max, so the PyTorch schedule
// continues unchanged; an --epochs flag replaces it, as for a tbtrain run).
// From req: --batch-size (the file does not hold it), --seed (the order of
// the images from here on), the limits, --keep, --save-every-steps, --data.
// set reports which flags were given (nil: none); --lr, --momentum or
// --eta-min given with another value than the file's is a *ConflictError.
//
// A file without optimizer state gets a warning and continues with --lr
// and --momentum and no momentum buffers (as PyTorch would with a fresh
// optimizer); one without scheduler state gets a warning and continues with
// the closed-form cosine over --epochs from --lr to --eta-min. Options the
// trainer's SGD does not implement (weight_decay, dampening, nesterov,
// maximize) are errors.
func PyTorchConfig(pc *ptfile.Checkpoint, path string, req Config, set func(flag string) bool) (Config, []string, error) {
	if set == nil {
		set = func(string) bool { return false }
	}
	var warn []string
	cfg := req
	if o := pc.Optimizer; o != nil {
		switch {
		case o.WeightDecay != 0:
			return Config{}, nil, fmt.Errorf("trainer: %s: SGD weight_decay %v is not supported (only 0)", path, o.WeightDecay)
		case o.Dampening != 0:
			return Config{}, nil, fmt.Errorf("trainer: %s: SGD dampening %v is not supported (only 0)", path, o.Dampening)
		case o.Nesterov:
			return Config{}, nil, fmt.Errorf("trainer: %s: Nesterov momentum is not supported", path)
		case o.Maximize:
			return Config{}, nil, fmt.Errorf("trainer: %s: SGD maximize is not supported", path)
		}
		cfg.Momentum = o.Momentum
	} else {
		warn = append(warn, fmt.Sprintf("%s holds no optimizer state: continuing with --momentum %v and no momentum buffers (a fresh SGD)", path, req.Momentum))
	}
	if s := pc.Scheduler; s != nil {
		if len(s.BaseLRs) != 1 {
			return Config{}, nil, fmt.Errorf("trainer: %s: scheduler has %d base learning rates, want 1 (one param group)", path, len(s.BaseLRs))
		}
		cfg.LR, cfg.EtaMin = s.BaseLRs[0], s.EtaMin
		if !set("epochs") {
			cfg.Epochs = s.TMax
		}
		if s.LastEpoch != pc.StartEpoch {
			warn = append(warn, fmt.Sprintf("%s: start_epoch %d but the scheduler's last_epoch is %d; training continues at epoch %d",
				path, pc.StartEpoch, s.LastEpoch, pc.StartEpoch))
		}
	} else {
		cfg.LR, cfg.EtaMin = req.LR, req.EtaMin
		if o := pc.Optimizer; o != nil && o.InitialLR != 0 {
			cfg.LR = o.InitialLR
		}
		warn = append(warn, fmt.Sprintf("%s holds no scheduler state: continuing with a cosine from lr %v to --eta-min %v over --epochs %d",
			path, cfg.LR, cfg.EtaMin, cfg.Epochs))
	}
	if err := conflict(cfg, req, path, func(f string) bool {
		return (f == "lr" || f == "momentum" || f == "eta-min") && set(f)
	}); err != nil {
		return Config{}, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, nil, err
	}
	return cfg, warn, nil
}

// ResumePyTorch continues the run of the PyTorch checkpoint pc, read from
// path, in the directory that holds path, with cfg (see PyTorchConfig).
// The weights must match the model by name and shape (every difference is
// listed in a *ptfile.MismatchError); they, the momentum buffers and the
// learning rate of the next epoch are taken from the file bit for bit. The
// run keeps PyTorch's step axis: epoch-end tags at step = epoch, in the
// same directory as PyTorch's event file, and its checkpoints,
// LenetMnist<epoch>.ckpt beside the .pt files, record that axis for every
// later resume.
//
// The directory's tbtrain checkpoints, if any, must come from earlier
// continuations of the same PyTorch run (one run ID); the run keeps that ID,
// so that going back to an older .pt sets aside the later checkpoints
// (see Run). Checkpoints of any other run are an *OtherRunsError.
func ResumePyTorch(path string, pc *ptfile.Checkpoint, cfg Config, train, test *mnist.Set, opts Options) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := newTrainer(cfg, train, test, opts)
	if err != nil {
		return nil, err
	}
	t.dir = storage.Dir(path)
	t.runCfg = cfg
	t.convention = ckptpb.StepConvention_STEP_CONVENTION_EPOCH
	t.epoch, t.firstEpoch = pc.StartEpoch, pc.StartEpoch
	t.step = t.epoch * t.batches
	if t.runID, err = continuedRunID(t.dir, path); err != nil {
		return nil, err
	}
	if err := t.restorePyTorch(pc); err != nil {
		return nil, fmt.Errorf("trainer: cannot resume from %s: %w", path, err)
	}
	return t, nil
}

// continuedRunID returns the run ID of the tbtrain checkpoints in dir that
// continue a PyTorch run, or a new one when there are none.
func continuedRunID(dir, path string) (string, error) {
	list, err := ckpt.List(dir)
	if err != nil {
		return "", fmt.Errorf("trainer: %w", err)
	}
	for _, e := range list {
		if !e.Valid() {
			continue
		}
		c, err := ckpt.Load(e.Path)
		if err != nil || c.GetStepConvention() != ckptpb.StepConvention_STEP_CONVENTION_EPOCH || c.GetFirstEpoch() == 0 {
			continue
		}
		return c.GetRunId(), checkOneRun(dir, path, c.GetRunId())
	}
	id, err := newRunID()
	if err != nil {
		return "", err
	}
	return id, checkOneRun(dir, path, id)
}

func (t *Trainer) restorePyTorch(pc *ptfile.Checkpoint) error {
	want := make([]ptfile.Spec, len(t.params))
	for i, p := range t.params {
		want[i] = ptfile.Spec{Name: p.Name, Shape: p.Shape}
	}
	weights, err := ptfile.Match(pc.Model, want)
	if err != nil {
		return err
	}
	if t.epoch > t.cfg.Epochs {
		return fmt.Errorf("start_epoch %d is beyond --epochs %d", t.epoch, t.cfg.Epochs)
	}
	var bufs [][]float32
	if o := pc.Optimizer; o != nil {
		if len(o.Params) != len(t.params) {
			return fmt.Errorf("optimizer state covers %d parameters, the model has %d", len(o.Params), len(t.params))
		}
		for i, id := range o.Params {
			if id != int64(i) {
				return fmt.Errorf("optimizer parameter %d has id %d, want the state_dict order", i, id)
			}
			b := o.MomentumBuffers[i]
			switch {
			case b == nil && bufs != nil, b != nil && i > 0 && bufs == nil:
				return fmt.Errorf("optimizer state has momentum buffers for some parameters only")
			case b == nil:
				continue
			case b.Data == nil || fmt.Sprint(b.Shape) != fmt.Sprint(t.params[i].Shape):
				return fmt.Errorf("momentum buffer of %s is %s %v, the parameter %v", t.params[i].Name, b.DType, b.Shape, t.params[i].Shape)
			}
			bufs = append(bufs, b.Data)
		}
	}
	for i, p := range t.params {
		copy(p.Data, weights[i].Data)
	}
	if bufs != nil {
		if err := t.opt.SetBuffers(bufs); err != nil {
			return err
		}
	}
	// The rate of the next epoch is the optimizer's: PyTorch's scheduler
	// set it when it stepped after the last epoch, and the script's
	// optimizer.load_state_dict restores it.
	switch {
	case pc.Optimizer != nil && pc.Scheduler != nil:
		t.anchor = &lrAnchor{epoch: t.epoch, lr: pc.Optimizer.LR}
	case pc.Scheduler != nil && len(pc.Scheduler.LastLR) == 1:
		t.anchor = &lrAnchor{epoch: t.epoch, lr: pc.Scheduler.LastLR[0]}
	}
	return nil
}

// ToPyTorch returns the checkpoint c as the PyTorch demo recipe's
// checkpoint dict (see ptfile.Checkpoint), for ckptinfo --export: the
// recipe's torch.load and load_state_dict calls resume it at the same
// epoch with the same weights, momentum buffers and schedule. Only a
// checkpoint at an epoch boundary can be exported: the recipe resumes at
// epoch starts.
func ToPyTorch(c *ckptpb.Checkpoint) (*ptfile.Checkpoint, error) {
	if c.GetBatchInEpoch() != 0 {
		return nil, fmt.Errorf("trainer: a checkpoint inside epoch %d (batch %d): PyTorch's recipe resumes at epoch starts; export an epoch-end checkpoint (LenetMnist<e>.ckpt)",
			c.GetEpoch(), c.GetBatchInEpoch())
	}
	cfg := ConfigOf(c)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg}
	if s := c.GetScheduler(); s.GetHasAnchor() {
		t.anchor = &lrAnchor{epoch: s.GetAnchorEpoch(), lr: s.GetAnchorLr()}
	}
	e := c.GetEpoch()
	lr := t.lr(e)
	out := &ptfile.Checkpoint{
		StartEpoch: e,
		Optimizer:  &ptfile.SGD{LR: lr, Momentum: cfg.Momentum, InitialLR: cfg.LR},
		Scheduler: &ptfile.CosineAnnealingLR{TMax: cfg.Epochs, EtaMin: cfg.EtaMin, BaseLRs: []float64{cfg.LR},
			LastEpoch: e, StepCount: e + 1, LastLR: []float64{lr}},
	}
	o := c.GetOptimizer()
	for i, p := range c.GetParams() {
		shape := make([]int, len(p.GetShape()))
		for j, d := range p.GetShape() {
			shape[j] = int(d)
		}
		out.Model = append(out.Model, ptfile.NamedTensor{Name: p.GetName(),
			Tensor: &ptfile.Tensor{DType: "float32", Shape: shape, Data: p.GetData()}})
		out.Optimizer.Params = append(out.Optimizer.Params, int64(i))
		var buf *ptfile.Tensor
		if o.GetHasBuffers() {
			if i >= len(o.GetMomentumBuffer()) {
				return nil, fmt.Errorf("trainer: checkpoint has %d momentum buffers for %d parameters", len(o.GetMomentumBuffer()), len(c.GetParams()))
			}
			buf = &ptfile.Tensor{DType: "float32", Shape: shape, Data: o.GetMomentumBuffer()[i].GetData()}
		}
		out.Optimizer.MomentumBuffers = append(out.Optimizer.MomentumBuffers, buf)
	}
	return out, nil
}
