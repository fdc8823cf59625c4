//go:build (!unix || aix) && !windows

package trainer

import (
	"errors"
	"os"
)

// errLockHeld is never returned here.
var errLockHeld = errors.New("lock held")

// lockFile does nothing on systems without flock or LockFileEx (AIX,
// Plan 9, WebAssembly): there, keeping one trainer per run directory is up
// to the user.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
