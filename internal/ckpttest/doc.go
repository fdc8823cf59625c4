// Package ckpttest compares checkpoint tensors bit for bit, for the tests
// that resume, kill or re-run training and must end with exactly the
// weights of a run that went straight through (trainer's, cmd/train's and
// internal/chaos's). [Diff] lists every difference; [Same] fails a test on
// any.
//
// # Concurrency
//
// Diff only reads its arguments; both are safe for concurrent use.
package ckpttest
