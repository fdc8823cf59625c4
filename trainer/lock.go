package trainer

// This file holds the lock that keeps one trainer per local run directory:
// an OS lock on the file LockName in the run directory (flock on Unix,
// LockFileEx on Windows; lock_*.go), which the kernel releases when the
// holder exits or is killed, so a kill -9 never leaves a stale lock. Readers
// (ckptinfo, tbdump, Locate) never take it. A run on an object store has a
// lease instead (lease.go).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockName is the file in a run directory that a training session locks.
// It holds the PID and host of the last session that took the lock; the
// lock itself, not the file's presence, is what counts.
const LockName = ".tbtrain-lock"

// lockHeader opens the content of the lock file.
const lockHeader = "tbtrain lock 1"

// ErrLocked is wrapped by the error Run returns when another trainer holds
// the run directory's lock; the error is a *LockedError.
var ErrLocked = errors.New("trainer: the run directory is in use by another trainer")

// LockedError reports a run directory locked by another trainer. Run
// returns it before writing anything.
type LockedError struct {
	Dir  string
	PID  int    // the holder's process ID as it recorded it; 0 if unknown
	Host string // the holder's host name as it recorded it; "" if unknown
}

func (e *LockedError) Error() string {
	who := "another process (its PID is not recorded yet)"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
		if e.Host != "" {
			who += " on " + e.Host
		}
	}
	return fmt.Sprintf("trainer: the run directory %s is in use by another trainer, %s: one trainer per run directory; "+
		"nothing was changed. Wait for it to end (or stop it), then resume", e.Dir, who)
}

// Unwrap lets errors.Is(err, ErrLocked) succeed.
func (e *LockedError) Unwrap() error { return ErrLocked }

// dirLock is a held run-directory lock.
type dirLock struct{ f *os.File }

// lockDir takes the lock of the run directory dir without waiting: if
// another process (or another Trainer of this one) holds it, the result is
// a *LockedError naming the holder recorded in the lock file.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("trainer: cannot lock the run directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLockHeld) {
			le := &LockedError{Dir: dir}
			b := make([]byte, 512)
			n, _ := f.ReadAt(b, 0)
			le.PID, le.Host = parseLock(string(b[:n]))
			return nil, le
		}
		return nil, fmt.Errorf("trainer: cannot lock the run directory: %s: %w", path, err)
	}
	host, _ := os.Hostname()
	rec := fmt.Sprintf("%s\npid %d\nhost %s\n", lockHeader, os.Getpid(), host)
	// A failed write only loses the holder's name in a second trainer's
	// message; the lock is held either way.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(rec), 0)
	}
	return &dirLock{f: f}, nil
}

// parseLock returns the PID and host recorded in a lock file.
func parseLock(s string) (pid int, host string) {
	lines := strings.Split(s, "\n")
	if len(lines) == 0 || lines[0] != lockHeader {
		return 0, ""
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		switch k {
		case "pid":
			pid, _ = strconv.Atoi(v)
		case "host":
			host = v
		}
	}
	return pid, host
}

// release drops the lock. The file stays: removing it would let a trainer
// that opened it before the removal lock a file no one else sees.
func (l *dirLock) release() error {
	if err := unlockFile(l.f); err != nil {
		l.f.Close()
		return fmt.Errorf("trainer: unlocking the run directory: %w", err)
	}
	return l.f.Close()
}
