// Package ckpttest compares checkpoint tensors bit for bit, for the tests
// that resume, kill or re-run training and must end with exactly the
// weights of a run that went straight through (trainer's, cmd/train's and
// internal/chaos's). [Diff] lists every difference; [Same] fails a test on
// any; [FinalParams] takes the weights a finished run ends with.
//
// # Concurrency
//
// Diff and Same only read their arguments; they are safe for concurrent use.
package ckpttest
