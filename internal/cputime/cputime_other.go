//go:build !unix && !windows

package cputime

import "time"

// Process returns ErrUnsupported on this platform.
func Process() (time.Duration, error) { return 0, ErrUnsupported }
