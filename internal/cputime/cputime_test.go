package cputime

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

// TestProcessAdvances spins until the process's CPU time has grown by 50 ms
// (giving up after 20 s of wall time, which only a broken clock or a
// starved machine would need) and checks that it never grew faster than all
// cores could run.
func TestProcessAdvances(t *testing.T) {
	before, err := Process()
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("%v (%s)", err, runtime.GOOS)
	}
	if err != nil {
		t.Fatal(err)
	}
	const want = 50 * time.Millisecond
	start := time.Now()
	x := 1.0
	for {
		for range 100000 {
			x = x*1.0000001 + 1e-9
		}
		now, err := Process()
		if err != nil {
			t.Fatal(err)
		}
		wall := time.Since(start)
		if used := now - before; used >= want {
			if limit := time.Duration(runtime.NumCPU())*wall + 20*time.Millisecond; used > limit {
				t.Errorf("CPU time grew by %v in %v of wall time, more than %d cores can run (x=%g)", used, wall, runtime.NumCPU(), x)
			}
			return
		}
		if wall > 20*time.Second {
			t.Fatalf("CPU time grew by only %v in %v of spinning", now-before, wall)
		}
	}
}
