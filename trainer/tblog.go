package trainer

// This file holds everything the trainer writes to TensorBoard: the event
// file of a session, the per-step and epoch-end tags, and the run-once tags
// (config, hparams). Run and endEpoch say when; these functions say what.

import (
	"fmt"
	"image"
	"strings"

	"github.com/tbtrain/tbtrain/internal/version"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// openEvents opens this session's event file in the run directory.
func (t *Trainer) openEvents() error {
	eo := t.opts.Events
	if eo.FlushInterval == 0 {
		eo.FlushInterval = DefaultFlushInterval
	}
	eo.StartStep = t.startStep()
	w, err := tbwriter.Create(t.dir, eo)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	t.w = w
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		// PyTorch's SummaryWriter writes no SessionLog START, and
		// TensorBoard's Python loader ignores the first START of a run:
		// the START above may be that first one. A second START at the
		// same step is the one that purges the PyTorch epochs this
		// session replaces (one more START purges nothing new).
		start := &tbpb.Event{Step: eo.StartStep, What: &tbpb.Event_SessionLog{
			SessionLog: &tbpb.SessionLog{Status: tbpb.SessionLog_START}}}
		if err := w.AddEvent(start); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	return nil
}

// startStep is the step of this session's SessionLog START: everything the
// run logged at it and later is replaced by this session.
//
// With the global-step axis, step g's events were synced before the
// checkpoint at g was committed, so a session resuming at g > 0 starts at
// g+1. At step 0 nothing is safe yet: the session starts at 0 and logs the
// run-once tags again (the START at 0 purges whatever an earlier session
// wrote). With PyTorch's epoch axis the session starts at the epoch it
// trains first: its epoch-end tags are not logged yet (they come when it
// ends), and later epochs logged by PyTorch or an abandoned timeline go.
func (t *Trainer) startStep() int64 {
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		return t.epoch
	}
	if t.step > 0 {
		return t.step + 1
	}
	return 0
}

// firstStep is the step of the run-once tags (config, hparams): 0, or the
// first epoch tbtrain trained for a run continued from PyTorch. A session
// starting there logs them.
func (t *Trainer) firstStep() int64 {
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		return t.firstEpoch
	}
	return 0
}

// tagStep is the step of the epoch-end tags of the epoch that just ended
// (t.epoch, before it advances): the global step, or the epoch itself on
// PyTorch's axis.
func (t *Trainer) tagStep() int64 {
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		return t.epoch
	}
	return t.step
}

// logStep writes the tags of every optimizer step at the current step
// (none on PyTorch's epoch axis: a per-step tag there would mix two axes,
// and each session's START would purge it).
func (t *Trainer) logStep(loss float32) error {
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		return nil
	}
	if err := t.w.AddScalar("train/loss_step", t.step, loss); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// logEpoch writes the epoch-end tags of info at the current step, the global
// step that ended epoch info.Epoch; tp is the epoch's test pass.
func (t *Trainer) logEpoch(info EpochInfo, tp *testPass) error {
	s := t.tagStep()
	scalars := []struct {
		tag string
		v   float64
	}{
		{"train/loss", info.TrainLoss},
		{"learning_rate", info.LR},
		{"test/acc", info.TestAcc},
		{"test/loss", info.TestLoss},
		{"epoch", float64(info.Epoch)},
	}
	for _, sc := range scalars {
		if err := t.w.AddScalar(sc.tag, s, float32(sc.v)); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	for _, p := range t.params {
		if err := t.w.AddHistogram("weights/"+p.Name, s, p.Data); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	wrong := tp.wrong
	if len(wrong) > 0 {
		imgs := make([]image.Image, len(wrong))
		for i, w := range wrong {
			imgs[i] = digit(t.test, w.index)
		}
		if err := t.w.AddImage("test/misclassified", s, tbwriter.ImageGrid(imgs, gridCols)); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
		if err := t.w.AddText("test/misclassified_labels", s, misclassifiedText(wrong, gridCols)); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	if err := t.logTestPass(info, tp); err != nil {
		return err
	}
	if info.Epoch == t.cfg.Epochs-1 {
		if err := t.endHParams(s); err != nil {
			return err
		}
	}
	return nil
}

// Tags of the confusion matrix: the picture (Images tab) and the same
// numbers as a markdown table (Text tab).
const (
	tagConfusion      = "test/confusion"
	tagConfusionTable = "test/confusion_table"
)

// logTestPass writes what the epoch's test pass shows besides its scalars:
// the confusion matrix as an image and as a table.
func (t *Trainer) logTestPass(info EpochInfo, tp *testPass) error {
	s := t.tagStep()
	title := fmt.Sprintf("%s  epoch %d  step %d  accuracy %.2f%%", tagConfusion, info.Epoch, s, 100*tp.acc)
	if err := t.w.AddImage(tagConfusion, s, paletted(tp.conf.image(title))); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := t.w.AddText(tagConfusionTable, s, tp.conf.markdown()); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// misclassified is a test image the model got wrong.
type misclassified struct {
	index       int
	label, pred uint8
}

// misclassifiedText renders the labels of the image grid as a markdown
// table with the grid's layout: "true→predicted" per digit.
func misclassifiedText(wrong []misclassified, cols int) string {
	var b strings.Builder
	b.WriteString("true→predicted, in the layout of test/misclassified\n\n|")
	for range cols {
		b.WriteString(" |")
	}
	b.WriteString("\n|")
	for range cols {
		b.WriteString("---|")
	}
	for i, w := range wrong {
		if i%cols == 0 {
			b.WriteString("\n|")
		}
		fmt.Fprintf(&b, " %d→%d |", w.label, w.pred)
	}
	b.WriteString("\n")
	return b.String()
}

// digit returns test image i as a 28×28 grey image (white digit on black).
func digit(s *mnist.Set, i int) image.Image {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	copy(img.Pix, s.Images[i*784:(i+1)*784])
	return img
}

// configText is the run's config as a markdown table, followed by the build
// of tbtrain that started the run (see internal/version; each checkpoint
// also records the build that wrote it).
func configText(c Config) string {
	return c.Markdown() + "\nbuilt by: " + version.Current().String() + "\n"
}

// logRunOnce writes the run-once tags at firstStep (sessions that start there).
func (t *Trainer) logRunOnce() error {
	s := t.firstStep()
	if err := t.w.AddText("config", s, configText(t.runCfg)); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	// Not AddHParams: its Close would write the session end at step 0 from
	// whichever session closes first; see endHParams.
	values, err := tbwriter.HParamsValues(t.hparams(), t.now())
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := t.w.AddSummary(s, values...); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// endHParams writes the hparams session end (status SUCCESS) at step, the
// global step that ends the last epoch. It is written by the session that
// finishes the run, before that epoch's checkpoint, so a session that dies
// before the commit has it purged with its other events at that step, and a
// finished run has exactly one.
func (t *Trainer) endHParams(step int64) error {
	v := tbwriter.HParamsSessionEndValue(tbpb.Status_STATUS_SUCCESS, t.now())
	if err := t.w.AddSummary(step, v); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// hparams returns the hyperparameters shown in TensorBoard's HParams tab; its
// metric columns are the epoch-end scalars, so the tab shows their last
// (final) values, among them the final test accuracy.
func (t *Trainer) hparams() tbwriter.HParams {
	c := t.runCfg
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
		Metrics: []string{"test/acc", "test/loss", "train/loss"},
	}
}
