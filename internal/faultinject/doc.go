// Package faultinject is the one seam through which tests widen the windows
// of tbtrain's crash-sensitive operations, so that a test that kills the
// process can aim inside them. Nothing else in the module changes behaviour
// for tests.
//
// # Hooks
//
//   - The commit delay ([CommitDelay]): ckpt.Save writes the first half of
//     its temp file, sleeps this long, then writes the rest, widening the
//     window in which a SIGKILL leaves a torn temp file; ckpt.SetAside
//     sleeps as long between its renames, widening the window in which a
//     SIGKILL leaves a set-aside half done.
//   - The flush delay ([FlushDelay]): a tbwriter.Writer created while it is
//     set writes each batch of records in two halves with this pause
//     between, widening the window in which a SIGKILL leaves a torn record.
//   - The step delay and markers ([Hooks].StepDelay, [Hooks].Markers): used
//     by cmd/train only, to sleep after every step and to print where it is
//     ("tbtrain-test: step 12", commit stages, set-aside renames, session
//     start).
//
// None of them changes any result; all are off (zero) unless set.
//
// # Who sets them
//
// The library packages (ckpt, tbwriter) read the commit and flush delays from
// this package and never read the environment. Only cmd/train calls
// [FromEnv], which reads the TBTRAIN_TEST_* variables ([CommitDelayEnv],
// [FlushDelayEnv], [StepDelayEnv], [MarkersEnv]) at start-up; internal/chaos
// sets them in the environment of the cmd/train child it kills. Tests inside
// the module call [SetCommitDelay] and [SetFlushDelay] directly. Because the
// package is internal, a program that imports tbtrain's libraries cannot
// reach it, and its environment changes nothing in them.
//
// # Concurrency
//
// The setters and getters are safe for concurrent use (atomics); a value set
// while an operation runs is seen by the next operation.
package faultinject
