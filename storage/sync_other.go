//go:build !linux && !darwin

package storage

import "os"

// syncFile flushes f to stable storage with the portable fsync.
func syncFile(f *os.File) error { return f.Sync() }
