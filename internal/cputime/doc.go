// Package cputime reports the CPU time the current process has used, for
// benchmarks that report throughput per CPU second as well as per wall-clock
// second (on a shared machine other processes disturb the first much less).
//
// It is one file per platform family: getrusage(2) on Unix systems,
// GetProcessTimes on Windows, and an error elsewhere. [Process] is safe for
// concurrent use.
package cputime
