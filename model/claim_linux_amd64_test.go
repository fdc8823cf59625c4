package model

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tbtrain/tbtrain/internal/kern"
)

// TestClaimFollowsProcessor pins the goroutine to each processor in turn:
// claim must give the set numbered after it (processor mod team size)
// when that set is free, and another one when it is held.
func TestClaimFollowsProcessor(t *testing.T) {
	if kern.Processor() < 0 {
		t.Skip("kern.Processor cannot tell the processor on this build or CPU (no RDTSCP, or purego)")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &old)
	m := NewLeNet5With(rand.New(rand.NewPCG(1, 2)), Options{Shards: 4, Workers: 2})
	n := m.team.size()
	for c := range runtime.NumCPU() {
		if !old.IsSet(c) {
			continue
		}
		var one unix.CPUSet
		one.Set(c)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatal(err)
		}
		want := m.shards[c%n]
		s := m.claim(0)
		if s != want {
			t.Errorf("processor %d: claim gave set %d, want %d", c, index(m, s), c%n)
		}
		s2 := m.claim(0)
		if s2 == s {
			t.Errorf("processor %d: a second claim gave the held set again", c)
		}
		m.release(s2)
		m.release(s)
	}
}

func index(m *LeNet5, s *shard) int {
	for i, v := range m.shards {
		if v == s {
			return i
		}
	}
	return -1
}
