package selfexec

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
)

var (
	once     sync.Once
	probeErr error
)

// Err returns nil if the running executable can be started again, or the
// error of trying (wrapping syscall.ENOEXEC under a user-mode emulator). The
// probe starts the executable with -test.run=^$, so in a test binary the
// child runs no test.
func Err() error {
	once.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			probeErr = err
			return
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Run(); err != nil && errors.Is(err, syscall.ENOEXEC) {
			probeErr = fmt.Errorf("cannot start %s again: %w", exe, err)
		}
	})
	return probeErr
}

// Require skips t when the test binary cannot start itself because the
// system cannot execute it (a user-mode emulator without binfmt_misc); any
// other failure is left to the test, which will report it.
func Require(t testing.TB) {
	t.Helper()
	if err := Err(); errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("this test starts its own binary, which this system cannot execute (%v): "+
			"the binary runs under a user-mode emulator such as qemu-user without binfmt_misc", err)
	}
}
