package trainer

import (
	"errors"
	"fmt"
	"strings"
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

// ErrOtherRuns is wrapped by the error Resume returns when the directory of
// the checkpoint also holds checkpoints of another run (another run ID). The
// error is an *OtherRunsError.
var ErrOtherRuns = errors.New("trainer: the directory holds checkpoints of another run")

// OtherRunsError reports a resume refused because the run directory, Dir,
// holds checkpoints of runs other than Run, the run of Checkpoint. Nothing
// was written or changed.
type OtherRunsError struct {
	Dir        string
	Checkpoint string     // the checkpoint asked for
	Run        string     // its run ID ("" before run IDs)
	Others     []OtherRun // sorted by ID
}

// OtherRun describes the checkpoints of one other run in a directory.
type OtherRun struct {
	ID          string // run ID ("" for checkpoints written before run IDs)
	Checkpoints int    // valid checkpoints of that run
	Newest      string // its newest valid checkpoint
}

func (e *OtherRunsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trainer: cannot resume from %s (run %s): %s also holds checkpoints of %d other run(s):",
		e.Checkpoint, RunLabel(e.Run), e.Dir, len(e.Others))
	for _, o := range e.Others {
		fmt.Fprintf(&b, " run %s (%d checkpoints, newest %s);", RunLabel(o.ID), o.Checkpoints, o.Newest)
	}
	b.WriteString(" a run directory holds one run (this session would write its event files there, and TensorBoard" +
		" would draw both runs as one); nothing was changed. Copy the checkpoint into a directory of its own" +
		" (or resume from its run's own directory)")
	return b.String()
}

// Unwrap lets errors.Is(err, ErrOtherRuns) succeed.
func (e *OtherRunsError) Unwrap() error { return ErrOtherRuns }

// ErrRunChanged is returned by Run when another trainer committed a
// checkpoint of the run beyond the one this session resumes from after
// Resume read the run directory and before Run took its lock (the other
// trainer has since exited): going on would set that newer work aside.
// Run then changes nothing; resuming again starts from the newer state.
var ErrRunChanged = errors.New("trainer: another trainer committed to the run after this session read it")

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

// ErrNoSafeTakeover means the store holding a run's lapsed lease cannot
// replace an object conditionally (no storage.Swapper), so the lease cannot
// be taken over without risking two trainers on one run.
var ErrNoSafeTakeover = errors.New("trainer: the store cannot replace the lease conditionally")

// ErrLeaseLost means another trainer took over the lease of the run on an
// object store (this session's lease lapsed: it was paused or cut off from
// the store for longer than the TTL): Run stops before its next checkpoint
// commit, and the run goes on under the other trainer.
var ErrLeaseLost = errors.New("trainer: lost the run's lease")
