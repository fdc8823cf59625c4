package model

import (
	"runtime"
	"sync/atomic"
	"time"
)

// job is a set of tasks 0..n-1 run by a team of P participants (0 is the
// calling goroutine): participant p first runs its own tasks p, p+P,
// p+2P, ..., then any task still left, from the last one down, claiming
// each task with an atomic flag, and calls fn(p, t) for each. Which
// participant runs a task never matters to the result: a task only writes
// memory owned by the task (or by participant p's buffers, whose contents
// do not survive the task). It matters to the speed: task t of every job
// runs on the same goroutine (and mostly the same core) step after step
// unless that goroutine is late, so a shard's buffers and a part of the
// gradient and optimizer vectors stay in one core's cache instead of
// moving to the other core's at every step.
type job struct {
	fn    func(p, t int)
	n     int
	parts int           // P
	taken []atomic.Bool // taken[t]: task t is claimed

	// pending counts the helpers still working on the job; the caller of
	// run waits for it to reach 0, spinning first, then asleep on done
	// (waiting is 1 while it may sleep; see team.wait).
	pending atomic.Int32
	waiting atomic.Int32
	done    chan struct{}
}

func (j *job) work(p int) {
	for t := p; t < j.n; t += j.parts {
		if j.taken[t].CompareAndSwap(false, true) {
			j.fn(p, t)
		}
	}
	for t := j.n - 1; t >= 0; t-- {
		if t%j.parts != p && !j.taken[t].Load() && j.taken[t].CompareAndSwap(false, true) {
			j.fn(p, t)
		}
	}
}

// spinFor is how long an idle participant polls for the next event (a new
// job for a helper, the helpers' completion for the caller) before it goes
// to sleep. A training step (TrainStepFill) posts two jobs back to back,
// and the next step's first job follows after a few µs of the caller's
// work, so during training the helpers rarely sleep and a job starts
// without the wake-up of a parked thread (a futex call, 10-50 µs on a VM:
// as much as a tenth of a step at batch 16). Outside training the helpers
// sleep after spinFor. Polling yields the processor (runtime.Gosched) at
// every check, so a spinning helper never delays a goroutine that has work.
const spinFor = 20 * time.Microsecond

// team is a fixed set of helper goroutines. A job is posted by storing it
// in cur and incrementing seq; every helper takes part in every posted job
// (one with fewer tasks than participants is run by the caller alone, and
// not posted). Helpers poll seq for spinFor, then sleep on their wake
// channel. Running a job allocates nothing.
//
// Going to sleep is a handshake between two flags: the sleeper sets its
// flag (helper.sleeping, job.waiting) and then reads the other side's
// value (seq, pending); the other side changes its value and then reads
// the flag. Sequential consistency guarantees that at least one of them
// sees the other's write, so a wake-up is never lost. The sleeper sets its
// flag with Swap, not Store: a read-modify-write orders the following load
// on every implementation, while a Store followed by a Load of another
// variable is reordered by qemu-user running arm64 code on an x86 host
// (Go's STLR then LDAR become a plain store and load with no fence between
// them; a litmus test saw it in 43 % of two million tries), which lost a
// wake-up and hung the arm64 tests. TestTeamHandshake reproduces it.
type team struct {
	helpers []*helper // helper i is participant i+1
	cur     atomic.Pointer[job]
	seq     atomic.Uint64
	stopped atomic.Bool
}

// helper is one helper goroutine's sleeping state: sleeping is 1 while it
// may be asleep on wake; whoever changes it from 1 to 0 owns the wake-up
// (the poster sends on wake, or the helper itself goes on without
// sleeping).
type helper struct {
	sleeping atomic.Int32
	wake     chan struct{}
}

func newTeam(size int) *team {
	t := &team{helpers: make([]*helper, size-1)}
	for i := range t.helpers {
		h := &helper{wake: make(chan struct{}, 1)}
		t.helpers[i] = h
		go t.loop(h, i+1)
	}
	return t
}

// loop is helper p's goroutine: it waits for each posted job, works on it
// and reports completion.
func (t *team) loop(h *helper, p int) {
	var last uint64
	for {
		s := t.awaitPost(h, last)
		if t.stopped.Load() {
			return
		}
		last = s
		j := t.cur.Load()
		j.work(p)
		if j.pending.Add(-1) == 0 && j.waiting.CompareAndSwap(1, 0) {
			j.done <- struct{}{}
		}
	}
}

// awaitPost returns the post number once it differs from last (or the
// team is stopped): it polls for spinFor, then sleeps until woken.
func (t *team) awaitPost(h *helper, last uint64) uint64 {
	for {
		start := time.Now()
		for i := 0; ; i++ {
			if s := t.seq.Load(); s != last || t.stopped.Load() {
				return s
			}
			runtime.Gosched()
			if i%16 == 15 && time.Since(start) > spinFor {
				break
			}
		}
		h.sleeping.Swap(1) // not Store: see team
		if s := t.seq.Load(); s != last || t.stopped.Load() {
			if h.sleeping.CompareAndSwap(1, 0) {
				return s
			}
			// the poster took the wake-up: consume its send
		}
		<-h.wake
	}
}

// size is the number of participants, the caller included.
func (t *team) size() int { return len(t.helpers) + 1 }

// run runs tasks 0..n-1 of j and returns when all are done.
func (t *team) run(j *job, n int) {
	j.n = n
	j.parts = t.size()
	if len(j.taken) < n {
		j.taken = make([]atomic.Bool, n) // buffers only grow: no allocation in steady state
	}
	for i := range j.taken[:n] {
		j.taken[i].Store(false)
	}
	if n < 2 || len(t.helpers) == 0 {
		j.work(0)
		return
	}
	if j.done == nil {
		j.done = make(chan struct{}, 1)
	}
	j.pending.Store(int32(len(t.helpers)))
	t.cur.Store(j)
	t.seq.Add(1)
	for _, h := range t.helpers {
		if h.sleeping.CompareAndSwap(1, 0) {
			h.wake <- struct{}{}
		}
	}
	j.work(0)
	t.wait(j)
	t.cur.Store(nil) // the team must not keep the job's model alive
}

// wait returns once every helper has finished j: it polls for spinFor,
// then sleeps until the last helper wakes it.
func (t *team) wait(j *job) {
	start := time.Now()
	for i := 0; ; i++ {
		if j.pending.Load() == 0 {
			return
		}
		runtime.Gosched()
		if i%16 == 15 && time.Since(start) > spinFor {
			break
		}
	}
	j.waiting.Swap(1) // not Store: see team
	if j.pending.Load() == 0 && j.waiting.CompareAndSwap(1, 0) {
		return
	}
	<-j.done
}

// stop ends the helper goroutines; the team must not be used afterwards.
func (t *team) stop() {
	if t.stopped.Swap(true) {
		return
	}
	for _, h := range t.helpers {
		if h.sleeping.CompareAndSwap(1, 0) {
			h.wake <- struct{}{}
		}
	}
}
