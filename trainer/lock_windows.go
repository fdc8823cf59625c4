//go:build windows

package trainer

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// errLockHeld means another handle holds the lock.
var errLockHeld = errors.New("lock held")

// lockOffset is where the locked byte lies: far beyond the holder's record
// at the start of the file, because Windows locks are mandatory and a
// second trainer must still read the record to name the holder.
const lockOffset = 1 << 40

// lockFile takes an exclusive LockFileEx lock on one byte of f without
// waiting. Windows releases it when the handle closes or the process ends.
func lockFile(f *os.File) error {
	ol := &windows.Overlapped{Offset: lockOffset & 0xffffffff, OffsetHigh: lockOffset >> 32}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLockHeld
	}
	return err
}

func unlockFile(f *os.File) error {
	ol := &windows.Overlapped{Offset: lockOffset & 0xffffffff, OffsetHigh: lockOffset >> 32}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}
