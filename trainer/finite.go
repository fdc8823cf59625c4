package trainer

import (
	"errors"
	"fmt"
	"math"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

// ErrDiverged is wrapped by the error Run returns when the training loss
// (or the test loss) is NaN or infinite: the run has diverged and stopped
// without committing anything after the last finite step. It is also wrapped
// by the reason a checkpoint holding non-finite values (written by a
// diverged run of an older tbtrain) is refused.
var ErrDiverged = errors.New("trainer: training diverged (non-finite loss)")

// DivergedError reports the first non-finite loss of a run. Nothing after
// the previous step was committed; Checkpoint is the newest checkpoint this
// session committed ("" if none).
type DivergedError struct {
	What       string  // "training loss" or "test loss"
	Loss       float64 // NaN, +Inf or -Inf
	Step       int64   // the global step whose batch gave the loss (for the test loss: the step ending the epoch)
	Epoch      int64   // 0-based
	Batch      int64   // 1-based batch of Epoch (for the test loss: the last)
	Batches    int64   // batches per epoch
	Checkpoint string
}

func (e *DivergedError) Error() string {
	where := "no checkpoint was committed in this session"
	if e.Checkpoint != "" {
		where = "the newest checkpoint, " + e.Checkpoint + ", holds finite values"
	}
	return fmt.Sprintf("trainer: the %s is %v at global step %d (epoch %d, batch %d of %d): training diverged and stopped; "+
		"nothing after it was committed (%s). Training is deterministic: resuming repeats the same steps; start a new run "+
		"with a lower --lr", e.What, e.Loss, e.Step, e.Epoch, e.Batch, e.Batches, where)
}

// Unwrap lets errors.Is(err, ErrDiverged) succeed.
func (e *DivergedError) Unwrap() error { return ErrDiverged }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkFinite returns an error wrapping ErrDiverged naming the first
// non-finite value of c that training would use or report: the epoch's loss
// sum, the metrics of a finished epoch, a parameter or a momentum buffer.
func checkFinite(c *ckptpb.Checkpoint) error {
	bad := func(what string, v float64) error {
		return fmt.Errorf("%w: the checkpoint's %s is %v (written by a run that diverged; resume from an earlier checkpoint or start a new run)",
			ErrDiverged, what, v)
	}
	if v := c.GetEpochLossSum(); !finite(v) {
		return bad("epoch_loss_sum", v)
	}
	for _, h := range c.GetHistory() {
		for _, m := range []struct {
			name string
			v    float64
		}{{"train loss", h.GetTrainLoss()}, {"test loss", h.GetTestLoss()}, {"test accuracy", h.GetTestAcc()}} {
			if !finite(m.v) {
				return bad(fmt.Sprintf("%s of epoch %d", m.name, h.GetEpoch()), m.v)
			}
		}
	}
	tensors := func(what string, ts []*ckptpb.Tensor) error {
		for _, t := range ts {
			for i, v := range t.GetData() {
				if !finite(float64(v)) {
					return bad(fmt.Sprintf("%s %s[%d]", what, t.GetName(), i), float64(v))
				}
			}
		}
		return nil
	}
	if err := tensors("parameter", c.GetParams()); err != nil {
		return err
	}
	return tensors("momentum buffer", c.GetOptimizer().GetMomentumBuffer())
}
