//go:build windows

package cputime

import (
	"syscall"
	"time"
)

// Process returns the user+kernel CPU time used so far by all threads of the
// current process (GetProcessTimes).
func Process() (time.Duration, error) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, err
	}
	var creation, exit, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return 0, err
	}
	// For the kernel and user times a FILETIME is a duration in
	// 100-nanosecond units (not a date: Filetime.Nanoseconds would subtract
	// the 1601 epoch).
	ticks := func(f syscall.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration(100 * (ticks(kernel) + ticks(user))), nil
}
