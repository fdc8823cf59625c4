// Package chaos holds the system-level crash-safety tests of tbtrain.
// It has no API: everything lives in _test.go files.
//
// The tests build cmd/train once per `go test` invocation (go build -o into a
// temporary directory) and drive it as a child process:
//
//   - TestChaosKill runs an uninterrupted reference run, then the same
//     configuration again while SIGKILLing the child at random moments and
//     restarting it with --resume latest (or the run directory, or the newest
//     valid file, with other --keep and --save-every-steps) until it exits 0. It then checks that
//     the final weights are bitwise equal to the reference run's, that every
//     TensorBoard tag has each step exactly once (no gap) under both purge
//     rules with the reference run's values, that every checkpoint left on
//     disk verifies, that every session resumed from the newest valid
//     checkpoint, and that leftover temp files never confused a later
//     session. The tags include the confusion matrix, the PR curves and the
//     Custom Scalars layout; the graph (step 0, in every event file that
//     holds one) and the projector files (projector_config.pbtxt, the
//     tensors, metadata and sprite of the last epoch's entry) must equal the
//     reference run's too, byte for byte, and no temp file of theirs may be
//     left: some kills are aimed just after the last step, at the test pass,
//     the projector files and the commit that follow.
//     Some sessions resume from an older checkpoint (a new timeline), and
//     some of those are killed inside the set-aside of the newer checkpoints;
//     --resume DIR or latest must never pick one of those afterwards.
//   - TestSetAsideKill resumes a finished run from its oldest checkpoint and
//     SIGKILLs the session after the first, second or third rename of its
//     set-aside; the next --resume latest must continue from the checkpoint
//     the user went back to, finish the set-aside and be bit-exact.
//   - TestOneTrainerPerRun stops a trainer with SIGSTOP mid-epoch: a second
//     --resume on the same run must exit 1 at once naming the run directory
//     and the holder's PID and change nothing, while ckptinfo and tbdump
//     read the run; after the holder is SIGKILLed, the next resume is
//     bit-exact.
//   - TestSigtermResume sends SIGTERM or SIGINT mid-epoch and checks for the
//     mid-epoch checkpoint, the non-zero exit with resume instructions, and a
//     bit-exact resume; a second SIGINT kills at once and --resume latest
//     must still be bit-exact.
//   - TestResumeSkipsDamaged damages the newest checkpoints (a flipped byte,
//     a truncation): naming one is an error that names the file; --resume
//     latest warns, falls back to the newest good one and is bit-exact.
//   - TestDiskFull, TestReadOnlyLogdir and TestReadOnlyFilesystem (EROFS
//     between sessions) inject disk faults at the process
//     level (a small tmpfs filled up, so that a checkpoint commit or an event
//     flush hits ENOSPC; a run directory made read-only for an unprivileged
//     child) and check that the process stops with a clear error, that the
//     previous checkpoints stay intact and loadable, that no temp file is left,
//     and that a resume after the fault is repaired is still bit-exact. They
//     skip, saying why, only where a tmpfs cannot be mounted or a child
//     cannot be started as user nobody.
//   - TestWriterHammer hammers one tbwriter.Writer from many goroutines while
//     Flush, Sync and Close race with the writers, and checks that every event
//     whose Add returned nil is in the file exactly once.
//
// # Modes
//
// The default (and -short) mode does a handful of kills and fits in CI. Full
// mode is selected with the environment:
//
//	TBTRAIN_CHAOS_KILLS=30 go test ./internal/chaos -run Chaos -v
//
// TBTRAIN_CHAOS_SEED=n fixes the seed of the kill schedule (it is otherwise
// derived from the clock and printed, and every failure message names it).
//
// # Test-only hooks
//
// The tests set TBTRAIN_TEST_COMMIT_DELAY, TBTRAIN_TEST_FLUSH_DELAY,
// TBTRAIN_TEST_MARKERS and TBTRAIN_TEST_STEP_DELAY in the child's
// environment to widen the checkpoint-commit and event-flush windows and to
// aim kills inside them. cmd/train alone reads these variables and installs
// them through package internal/faultinject, the one seam the libraries
// consult; the libraries themselves never read the environment.
// TestWriterHammer, which runs tbwriter in this process, sets the flush delay
// with faultinject.SetFlushDelay.
//
// # Platforms
//
// The tests stop the trainer with Unix signals, so they build on Unix
// systems only (//go:build unix); the disk-fault tests (faults_test.go) also
// mount tmpfs file systems and build on Linux only. Elsewhere the package
// holds no tests.
//
// # Concurrency
//
// The tests of this package do not use t.Parallel: each child process
// already uses both cores of the CI machine.
package chaos
