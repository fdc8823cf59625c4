//go:build unix && !aix

package trainer

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// errLockHeld means another open file description holds the lock.
var errLockHeld = errors.New("lock held")

// lockFile takes an exclusive flock on f without waiting. flock locks
// belong to the open file description, so a second open of the same file,
// even in this process, conflicts; the kernel drops the lock when the last
// descriptor closes, also when the process is killed.
func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return errLockHeld
		}
		return err
	}
}

func unlockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }
