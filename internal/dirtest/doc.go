// Package dirtest reads directories for tests that check what an operation
// left in one: [Files] takes a directory's files with their content, to
// compare before and after (trainer's lock and run-ID tests, internal/chaos's
// lock and damaged-checkpoint tests); [ProjectorFiles] takes a run's projector config and the files
// its entries name, to compare a run with a straight one (trainer's and
// internal/chaos's resume tests).
//
// # Concurrency
//
// Both only read; they are safe for concurrent use, and see whatever the
// directory holds while they read.
package dirtest
