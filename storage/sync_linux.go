//go:build linux

package storage

import (
	"os"
	"syscall"
)

// syncFile flushes f's data, and the metadata needed to read it back (its
// size), to stable storage. fdatasync(2) is enough for that and skips the
// timestamp-only metadata fsync(2) would also write (as etcd's
// fileutil.Fdatasync does on Linux).
func syncFile(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
