//go:build darwin

package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFile flushes f to stable storage. On macOS fsync(2) only hands the data
// to the drive, which may cache it; fcntl F_FULLFSYNC asks the drive to
// flush too (fsync(2) and fcntl(2) man pages). Falls back to fsync where the
// file system does not support it.
func syncFile(f *os.File) error {
	if _, err := unix.FcntlInt(f.Fd(), unix.F_FULLFSYNC, 0); err == nil {
		return nil
	}
	return f.Sync()
}
