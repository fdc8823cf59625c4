//go:build unix

package cputime

import (
	"syscall"
	"time"
)

// Process returns the user+system CPU time used so far by all threads of the
// current process (getrusage RUSAGE_SELF).
func Process() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
