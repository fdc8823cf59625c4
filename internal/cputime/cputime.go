package cputime

import "errors"

// ErrUnsupported is returned by [Process] on platforms that offer no way to
// read a process's CPU time.
var ErrUnsupported = errors.New("cputime: process CPU time not available on this platform")
