package model

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

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
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		last, since := progress.Load(), time.Now()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			if p := progress.Load(); p != last {
				last, since = p, time.Now()
			} else if time.Since(since) > time.Minute {
				panic(fmt.Sprintf("TestTeamHandshake: job %d not finished after a minute (a lost wake-up)", p))
			}
		}
	}()
	for _, size := range []int{2, 3} {
		tm := newTeam(size)
		var counts [7]atomic.Int32
		var j job
		j.fn = func(p, task int) { counts[task].Add(1) }
		for i := range jobs {
			n := 2 + i%6
			tm.run(&j, n)
			progress.Add(1)
			for task := range n {
				if c := counts[task].Swap(0); c != 1 {
					t.Fatalf("team of %d, job %d: task %d ran %d times", size, i, task, c)
				}
			}
			// busy pauses from 0 to 2×spinFor in steps of spinFor/32 (a
			// sleep would overshoot), so that the next post meets a helper
			// spinning, going to sleep or asleep
			d := time.Duration(i%65) * spinFor / 32
			for start := time.Now(); time.Since(start) < d; {
			}
		}
		tm.stop()
	}
}
