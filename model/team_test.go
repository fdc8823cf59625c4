package model

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// watchdog panics the test binary (with every goroutine's stack) if
// progress does not change for a minute: a lost wake-up hangs a job. It
// returns the function that stops it.
func watchdog(name string, progress *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	go func() {
		last, since := progress.Load(), time.Now()
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
			if p := progress.Load(); p != last {
				last, since = p, time.Now()
			} else if time.Since(since) > time.Minute {
				panic(fmt.Sprintf("%s: job %d not finished after a minute (a lost wake-up)", name, p))
			}
		}
	}()
	return func() { close(done) }
}

// busy spins for d (a sleep would overshoot by far more than d).
func busy(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// TestTeamHandshake runs many jobs with pauses around spinFor between them,
// so that helpers and the caller go to sleep at every point of the
// sleep/wake handshake. Every task must run exactly once, and a lost
// wake-up, which hangs a job, panics the test binary after a minute without
// progress (with every goroutine's stack).
func TestTeamHandshake(t *testing.T) {
	jobs := 30000
	if testing.Short() {
		jobs = 10000
	}
	var progress atomic.Int64
	defer watchdog("TestTeamHandshake", &progress)()
	for _, size := range []int{2, 3} {
		tm := newTeam(size)
		var counts [7]atomic.Int32
		var j job
		j.fn = func(p, task int) { counts[task].Add(1) }
		for i := range jobs {
			n := 2 + i%6
			tm.run(&j, n, 0)
			progress.Add(1)
			for task := range n {
				if c := counts[task].Swap(0); c != 1 {
					t.Fatalf("team of %d, job %d: task %d ran %d times", size, i, task, c)
				}
			}
			// busy pauses from 0 to 2×spinFor in steps of spinFor/32, so
			// that the next post meets a helper spinning, going to sleep
			// or asleep
			busy(time.Duration(i%65) * spinFor / 32)
		}
		tm.stop()
	}
}

// TestTeamPhases runs two-phase jobs whose first-phase tasks take from 0
// to 2×spinFor, so that participants reach the barrier between the phases
// at different times and wait there spinning, going to sleep or asleep.
// No second-phase task may start before every first-phase task has
// finished and between has run (once); every task runs exactly once.
func TestTeamPhases(t *testing.T) {
	jobs := 3000
	if testing.Short() {
		jobs = 1000
	}
	var progress atomic.Int64
	defer watchdog("TestTeamPhases", &progress)()
	for _, size := range []int{2, 3} {
		tm := newTeam(size)
		var (
			first, second [6]atomic.Int32
			trained       atomic.Int32 // first-phase tasks finished
			betweens      atomic.Int32
			early         atomic.Int32 // second-phase tasks started too soon
			i, n          int          // the job in progress (read-only during it)
		)
		var j job
		j.fn = func(p, task int) {
			if betweens.Load() != 0 || second[0].Load()+second[1].Load() != 0 {
				early.Add(1)
			}
			busy(time.Duration((i*7+task*13)%9) * spinFor / 4)
			first[task].Add(1)
			trained.Add(1)
		}
		j.between = func() {
			if trained.Load() != int32(n) {
				early.Add(1)
			}
			betweens.Add(1)
		}
		j.then = func(p, task int) {
			if trained.Load() != int32(n) || betweens.Load() != 1 {
				early.Add(1)
			}
			second[task].Add(1)
		}
		for i = range jobs {
			n = 1 + i%5
			n2 := 1 + (i/5)%6
			tm.run(&j, n, n2)
			progress.Add(1)
			if e := early.Swap(0); e != 0 {
				t.Fatalf("team of %d, job %d (%d+%d tasks): %d tasks of the second phase or calls of between before the first phase ended",
					size, i, n, n2, e)
			}
			if b := betweens.Swap(0); b != 1 {
				t.Fatalf("team of %d, job %d: between ran %d times", size, i, b)
			}
			trained.Store(0)
			for task := range 6 {
				want := int32(0)
				if task < n {
					want = 1
				}
				if c := first[task].Swap(0); c != want {
					t.Fatalf("team of %d, job %d: first-phase task %d ran %d times", size, i, task, c)
				}
				want = 0
				if task < n2 {
					want = 1
				}
				if c := second[task].Swap(0); c != want {
					t.Fatalf("team of %d, job %d: second-phase task %d ran %d times", size, i, task, c)
				}
			}
			busy(time.Duration(i%9) * spinFor / 4)
		}
		tm.stop()
	}
}

// TestTeamLateHelper holds every helper back from each posted job until
// the caller has run all of the job's tasks, both phases: the barrier
// between the phases must not wait for a participant that has not
// started, so the caller runs everything (and run returns once the
// helpers, released, have found nothing left).
func TestTeamLateHelper(t *testing.T) {
	var progress atomic.Int64
	defer watchdog("TestTeamLateHelper", &progress)()
	for _, size := range []int{2, 3} {
		tm := newTeam(size)
		gate := make(chan struct{}, size)
		tm.late = func(p int) { <-gate }
		var (
			ran, notCaller atomic.Int32
			total          int32
		)
		task := func(p, _ int) {
			if p != 0 {
				notCaller.Add(1)
			}
			if ran.Add(1) == total {
				for range size - 1 {
					gate <- struct{}{}
				}
			}
		}
		j := job{fn: task, then: task, between: func() {}}
		for i := range 200 {
			n, n2 := 1+i%4, 2+i%3
			total = int32(n + n2)
			tm.run(&j, n, n2)
			progress.Add(1)
			if r := ran.Swap(0); r != total {
				t.Fatalf("team of %d, job %d: %d tasks ran, want %d", size, i, r, total)
			}
			if c := notCaller.Swap(0); c != 0 {
				t.Fatalf("team of %d, job %d: %d tasks ran on a held helper", size, i, c)
			}
		}
		tm.stop()
	}
}
