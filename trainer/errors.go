package trainer

import (
	"errors"
	"fmt"
)

// ErrInterrupted is wrapped by the error Run returns when its context was
// cancelled: the current step was finished and a checkpoint was written. The
// error is an *InterruptedError that names the checkpoint to resume from.
var ErrInterrupted = errors.New("trainer: interrupted")

// InterruptedError is returned by Run after a cancellation; Checkpoint is the
// file that was committed and Dir the run directory.
type InterruptedError struct {
	Checkpoint string
	Dir        string
	Step       int64
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("trainer: interrupted after global step %d; checkpoint %s written; resume with --resume %s",
		e.Step, e.Checkpoint, e.Checkpoint)
}

// Unwrap lets errors.Is(err, ErrInterrupted) succeed.
func (e *InterruptedError) Unwrap() error { return ErrInterrupted }

// ConflictError reports a setting given on resume that differs from the one
// stored in the checkpoint and may not change (see Config).
type ConflictError struct {
	Flag       string // the command-line flag name, e.g. "batch-size"
	Checkpoint string // the value in the checkpoint
	Requested  string // the value asked for
	Path       string // the checkpoint file
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("trainer: --%s %s conflicts with the checkpoint %s, which was trained with --%s %s; "+
		"this setting cannot change on resume (drop the flag, or start a new run)",
		e.Flag, e.Requested, e.Path, e.Flag, e.Checkpoint)
}

func errBufferCount(got, want int) error {
	return fmt.Errorf("trainer: %d momentum buffers, want %d", got, want)
}

func errBufferSize(i, got, want int) error {
	return fmt.Errorf("trainer: momentum buffer %d has %d values, want %d", i, got, want)
}
