package trainer

// This file holds the run's TensorBoard hparams sessions (see the package
// doc, "HParams sessions"): each extent of a run (to a given --epochs, on one
// timeline) has its own session in a subdirectory of the run directory,
// because TensorBoard keeps the first value ever written for each _hparams_/*
// tag of a run, even after a purge drops it.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// HParamsRunPrefix starts the name of the subdirectory of a run directory
// that holds an hparams session: HParamsRunPrefix + --epochs, then "-2",
// "-3", ... when that name holds a finished session or one with other
// hyperparameters.
const HParamsRunPrefix = "hparams-epochs"

// hparamsMetrics are the metric columns of the HParams tab: the epoch-end
// scalars of the same names, copied into the session's directory at the step
// that ends it.
var hparamsMetrics = []string{"test/acc", "test/loss", "train/loss"}

// hparams returns the hyperparameters of this session's extent.
func (t *Trainer) hparams() tbwriter.HParams {
	c := t.cfg
	return tbwriter.HParams{
		Values: map[string]any{
			"epochs":      c.Epochs,
			"batch_size":  c.BatchSize,
			"lr":          c.LR,
			"momentum":    c.Momentum,
			"eta_min":     c.EtaMin,
			"seed":        float64(c.Seed), // the plugin stores numbers as float64
			"limit_train": c.LimitTrain,
		},
		Metrics: hparamsMetrics,
	}
}

// hpSession is what an hparams session directory holds, as TensorBoard
// reads it: the first session start and whether a session end exists.
type hpSession struct {
	start *tbpb.SessionStartInfo
	end   bool
}

// readHPSession reads the session in dir (none if dir does not exist). An
// error means dir is not a session this trainer can use (not a directory,
// or an event file damaged other than by a torn tail).
func readHPSession(dir string) (hpSession, error) {
	var s hpSession
	if !storage.IsURL(dir) {
		st, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		if !st.IsDir() {
			return s, fmt.Errorf("%s is not a directory", dir)
		}
	}
	r, err := tbwriter.ReadRun(dir) // the session's own files, not the directories below
	if err != nil {
		return s, err
	}
	if r.Err != nil && !errors.Is(r.Err, io.ErrUnexpectedEOF) {
		return s, r.Err
	}
	for _, ev := range r.Events { // in the loaders' file order
		for _, v := range ev.GetSummary().GetValue() {
			d, ok := tbwriter.HParamsOf(v)
			switch {
			case !ok:
			case v.GetTag() == tbwriter.HParamsSessionStartTag && s.start == nil:
				s.start = d.GetSessionStartInfo()
			case v.GetTag() == tbwriter.HParamsSessionEndTag:
				s.end = true
			}
		}
	}
	return s, nil
}

// hpStart returns the session start info of this session's extent.
func (t *Trainer) hpStart() (*tbpb.SessionStartInfo, []*tbpb.Summary_Value, error) {
	values, err := tbwriter.HParamsValues(t.hparams(), t.now())
	if err != nil {
		return nil, nil, fmt.Errorf("trainer: %w", err)
	}
	for _, v := range values {
		if d, ok := tbwriter.HParamsOf(v); ok && d.GetSessionStartInfo() != nil {
			return d.GetSessionStartInfo(), values, nil
		}
	}
	return nil, nil, errors.New("trainer: tbwriter.HParamsValues wrote no session start")
}

// hpUsable reports whether the session directory name can hold this
// session's extent: it does not exist yet, or holds no session end and no
// session start with other hyperparameters (a session of the same extent
// that died before its first commit).
func (t *Trainer) hpUsable(name string, want *tbpb.SessionStartInfo) bool {
	if !plainName(name) {
		return false
	}
	s, err := readHPSession(storage.Join(t.dir, name))
	if err != nil || s.end {
		return false
	}
	if s.start == nil {
		return true
	}
	if s.start.GetGroupName() != want.GetGroupName() || len(s.start.GetHparams()) != len(want.GetHparams()) {
		return false
	}
	for k, v := range want.GetHparams() {
		if !proto.Equal(s.start.GetHparams()[k], v) {
			return false
		}
	}
	return true
}

// plainName reports whether name is a plain directory name (a checkpoint
// from elsewhere must not make the trainer write outside the run directory).
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`+"\x00")
}

// chooseHPRun returns the session directory of this session's extent: prev
// (the checkpoint's) if usable, else the first usable of
// hparams-epochs<N>, hparams-epochs<N>-2, ...
func (t *Trainer) chooseHPRun(prev string) (string, error) {
	want, _, err := t.hpStart()
	if err != nil {
		return "", err
	}
	if prev != "" && t.hpUsable(prev, want) {
		return prev, nil
	}
	base := fmt.Sprintf("%s%d", HParamsRunPrefix, t.cfg.Epochs)
	for k := 1; k <= 1000; k++ {
		name := base
		if k > 1 {
			name = fmt.Sprintf("%s-%d", base, k)
		}
		if t.hpUsable(name, want) {
			return name, nil
		}
	}
	return "", fmt.Errorf("trainer: no free hparams session directory %s-N in %s", base, t.dir)
}

// writeHP writes values at step into the session directory in a new event
// file whose SessionLog START is at startStep, and syncs it.
func (t *Trainer) writeHP(startStep int64, batches ...hpBatch) error {
	eo := t.opts.Events
	eo.StartStep = startStep
	eo.FlushInterval = -1
	w, err := tbwriter.Create(storage.Join(t.dir, t.hpRun), eo)
	if err != nil {
		return fmt.Errorf("trainer: hparams session: %w", err)
	}
	for _, b := range batches {
		if err := w.AddSummary(b.step, b.values...); err != nil {
			w.Close()
			return fmt.Errorf("trainer: hparams session: %w", err)
		}
	}
	if err := w.Sync(); err != nil {
		w.Close()
		return fmt.Errorf("trainer: hparams session: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("trainer: hparams session: %w", err)
	}
	return nil
}

type hpBatch struct {
	step   int64
	values []*tbpb.Summary_Value
}

// startHPSession writes the experiment and session start of this session's
// extent at step 0 of its directory, unless it holds them already.
func (t *Trainer) startHPSession() error {
	s, err := readHPSession(storage.Join(t.dir, t.hpRun))
	if err != nil {
		return fmt.Errorf("trainer: hparams session: %w", err)
	}
	if s.start != nil {
		return nil
	}
	_, values, err := t.hpStart()
	if err != nil {
		return err
	}
	return t.writeHP(0, hpBatch{0, values})
}

// endHPSession writes, once the last epoch of the extent is committed, its
// final metrics (copies of the last epoch's test/acc, test/loss and
// train/loss) and its session end (SUCCESS, ended when that checkpoint was
// committed) at the step of the last epoch's tags, unless the directory
// holds a session end already. A session killed before it leaves a finished
// run without one; the next session that finds the run done writes it.
func (t *Trainer) endHPSession() error {
	if t.hpRun == "" || len(t.history) == 0 {
		return nil // a run whose session is in the run directory itself (written before these sessions)
	}
	s, err := readHPSession(storage.Join(t.dir, t.hpRun))
	if err != nil {
		return fmt.Errorf("trainer: hparams session: %w", err)
	}
	if s.end {
		return nil
	}
	last := t.history[len(t.history)-1]
	step := t.step
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		step = last.GetEpoch()
	}
	end := hpBatch{step: step, values: []*tbpb.Summary_Value{
		tbwriter.ScalarValue("test/acc", float32(last.GetTestAcc())),
		tbwriter.ScalarValue("test/loss", float32(last.GetTestLoss())),
		tbwriter.ScalarValue("train/loss", float32(last.GetTrainLoss())),
		tbwriter.HParamsSessionEndValue(tbpb.Status_STATUS_SUCCESS, time.Unix(0, t.committedNano)),
	}}
	if s.start != nil {
		return t.writeHP(step, end)
	}
	_, values, err := t.hpStart()
	if err != nil {
		return err
	}
	return t.writeHP(0, hpBatch{0, values}, end)
}
