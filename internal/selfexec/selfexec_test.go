package selfexec

import "testing"

// TestErr: a test binary run natively can start itself.
func TestErr(t *testing.T) {
	Require(t) // under qemu-user the probe fails with ENOEXEC and this skips
	if err := Err(); err != nil {
		t.Fatalf("Err() = %v on a system that runs this binary natively", err)
	}
}
