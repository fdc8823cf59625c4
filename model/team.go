package model

import (
	"runtime"
	"sync/atomic"
	"time"
)

// job is a set of tasks 0..n-1 run by a team of P participants (0 is the
// calling goroutine), optionally followed by a second phase of tasks
// 0..n2-1 that may start only once every task of the first phase has
// finished. In each phase participant p first runs its own tasks p, p+P,
// p+2P, ..., then any task still left, from the last one down, claiming
// each task with an atomic flag, and calls fn(p, t) (then(p, t) in the
// second phase) for each. Which participant runs a task never matters to
// the result: a task only writes memory owned by the task (or by
// participant p's buffers, whose contents do not survive the task). It
// matters to the speed: task t of every job runs on the same goroutine
// (and mostly the same core) step after step unless that goroutine is
// late, so a shard's buffers and a part of the gradient and optimizer
// vectors stay in one core's cache instead of moving to the other core's
// at every step.
//
// Between the phases: whoever finishes the last task of the first phase
// (counted in trained) calls between, once, and then opens the second
// phase (open); a participant that has found no first-phase task left
// waits for open (see team.awaitOpen), calling ahead meanwhile to do what
// second-phase work the finished first-phase tasks (ended) allow. The barrier counts tasks, not
// participants, so a participant that has not started the job (a helper
// not yet woken, or descheduled) is never waited for: the others run
// its tasks, both phases' (TestTeamLateHelper).
type job struct {
	fn      func(p, t int)
	n       int
	then    func(p, t int) // the second phase's task (nil if n2 is 0)
	n2      int
	between func() // run once between the phases (nil: nothing)
	// ahead, if not nil, is called by participant p of P while it waits
	// for the second phase, again and again between checks of open: it
	// may do a piece of the second phase's work that the first-phase
	// tasks finished so far allow (see ended), and must keep the second
	// phase's tasks right whoever runs them.
	ahead func(p, parts int)
	parts int // P
	// ended[t]: first-phase task t has finished (its writes are visible
	// to whoever loads true)
	ended []atomic.Bool
	// taken[t]: task t is claimed; taken[n+t]: the second phase's task t
	taken []atomic.Bool

	trained atomic.Int32 // first-phase tasks finished
	open    atomic.Bool  // the second phase may start

	// pending counts the helpers still working on the job (its low bits)
	// and holds waitBit while the caller of run may sleep on done; the
	// caller waits for the count to reach 0, spinning first, then asleep
	// (see team.wait).
	pending atomic.Int32
	done    chan struct{}
}

// work runs participant p's share of j.
func (t *team) work(j *job, p int) {
	t.phase(j, p, j.fn, j.taken[:j.n], j.n2 > 0)
	if j.n2 == 0 {
		return
	}
	if !j.open.Load() {
		t.awaitOpen(j, p)
	}
	t.phase(j, p, j.then, j.taken[j.n:j.n+j.n2], false)
}

// phase runs participant p's share of one phase of j, whose tasks are
// claimed in taken and run by fn. In the first phase of a two-phase job
// (first), the participant that finishes its last task opens the second
// (see finished).
func (t *team) phase(j *job, p int, fn func(p, t int), taken []atomic.Bool, first bool) {
	n := len(taken)
	for i := p; i < n; i += j.parts {
		if taken[i].CompareAndSwap(false, true) {
			fn(p, i)
			if first {
				t.finished(j, p, i)
			}
		}
	}
	for i := n - 1; i >= 0; i-- {
		if i%j.parts != p && !taken[i].Load() && taken[i].CompareAndSwap(false, true) {
			fn(p, i)
			if first {
				t.finished(j, p, i)
			}
		}
	}
}

// finished records first-phase task task of j as ended (run by
// participant p) and counts it; the last one runs j.between and opens the second phase, waking the
// participants asleep in awaitOpen (none if the job was not posted). Its write of open is a read-modify-write
// followed by the reads of the sleeping flags, the other half of
// awaitOpen's handshake (see team).
func (t *team) finished(j *job, p, task int) {
	j.ended[task].Store(true)
	if int(j.trained.Add(1)) != j.n {
		return
	}
	if j.between != nil {
		j.between()
	}
	j.open.Swap(true)
	for q := range j.parts {
		if h := t.part(q); q != p && h.sleeping.CompareAndSwap(1, 0) {
			h.wake <- struct{}{}
		}
	}
}

// spinFor is how long an idle participant polls for the next event (a new
// job for a helper, the second phase of a job, the helpers' completion for
// the caller) before it goes to sleep. A training step (TrainStepFill)
// posts one two-phase job, and the next step's job follows after a few µs
// of the caller's work, so during training the helpers rarely sleep and a
// job starts without the wake-up of a parked thread (a futex call, 10-50
// µs on a VM: as much as a tenth of a step at batch 16). The wait that
// matters most is at the barrier between a step's phases: a participant
// whose train task ended first waits there for the other's, tens of µs
// when the two differ by a few per cent. With 20 µs the waiter fell asleep
// in many steps and the wake-up left a core idle: at batch 16 on the
// 2-core VM of docs/speed.md the step ran at 52,000-58,000 img/s with 30.4
// CPU-µs/img, against 67,000-71,000 and 28.6 with 200 µs (batch 64:
// 77,400 -> 79,900 img/s; 100 to 1,000 µs measured alike). Outside
// training an idle helper polls for spinFor after its last job, then
// sleeps. Polling yields the processor (runtime.Gosched) at every check,
// so a spinning helper never delays a goroutine that has work.
const spinFor = 200 * time.Microsecond

// poll reports whether done returns true within spinFor, asking it again
// after yielding the processor (runtime.Gosched) each time.
func poll(done func() bool) bool {
	start := time.Now()
	for i := 0; ; i++ {
		if done() {
			return true
		}
		runtime.Gosched()
		if i%16 == 15 && time.Since(start) > spinFor {
			return false
		}
	}
}

// team is a fixed set of helper goroutines. A job is posted by storing it
// in cur and incrementing seq; every helper takes part in every posted job
// (one with fewer tasks than participants in each phase is run by the
// caller alone, and not posted). Helpers poll seq for spinFor, then sleep
// on their wake channel. Running a job allocates nothing.
//
// Going to sleep is a handshake between two flags: the sleeper sets its
// flag (helper.sleeping) and then reads the other side's value (seq,
// job.open); the other side changes its value and then reads the flag. Sequential consistency guarantees that at least one
// of them sees the other's write, so a wake-up is never lost. Both sides
// write with a read-modify-write (Swap, Add, CompareAndSwap), not a Store:
// a read-modify-write orders the following load on every implementation,
// while a Store followed by a Load of another variable is reordered by
// qemu-user running arm64 code on an x86 host (Go's STLR then LDAR become
// a plain store and load with no fence between them; a litmus test saw it
// in 43 % of two million tries), which lost a wake-up and hung the arm64
// tests. TestTeamHandshake reproduces it.
type team struct {
	helpers []*helper // helper i is participant i+1
	caller  helper    // participant 0's sleeping state (in awaitOpen)
	cur     atomic.Pointer[job]
	seq     atomic.Uint64
	stopped atomic.Bool

	// late, if not nil, is called by helper p once it has seen a post and
	// before it works on the job (tests hold a helper back with it).
	late func(p int)
}

// helper is one participant's sleeping state: sleeping is 1 while it may
// be asleep on wake; whoever changes it from 1 to 0 owns the wake-up (the
// poster or the opener of a second phase sends on wake, or the participant
// itself goes on without sleeping).
type helper struct {
	sleeping atomic.Int32
	wake     chan struct{}
}

func newTeam(size int) *team {
	t := &team{helpers: make([]*helper, size-1)}
	t.caller.wake = make(chan struct{}, 1)
	for i := range t.helpers {
		h := &helper{wake: make(chan struct{}, 1)}
		t.helpers[i] = h
		go t.loop(h, i+1)
	}
	return t
}

// part returns participant p's sleeping state.
func (t *team) part(p int) *helper {
	if p == 0 {
		return &t.caller
	}
	return t.helpers[p-1]
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
		if t.late != nil {
			t.late(p)
		}
		t.work(j, p)
		// the last touch of j unless the caller sleeps: then it waits
		// for the send
		if j.pending.Add(-1) == waitBit {
			j.done <- struct{}{}
		}
	}
}

// awaitPost returns the post number once it differs from last (or the
// team is stopped): it polls for spinFor, then sleeps until woken.
func (t *team) awaitPost(h *helper, last uint64) uint64 {
	for {
		var s uint64
		if poll(func() bool { s = t.seq.Load(); return s != last || t.stopped.Load() }) {
			return s
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

// awaitOpen returns once the second phase of j is open: participant p
// polls for spinFor, calling j.ahead at every check, then sleeps until
// the opener wakes it (finished).
func (t *team) awaitOpen(j *job, p int) {
	h := t.part(p)
	ready := j.open.Load
	if j.ahead != nil {
		ready = func() bool {
			if j.open.Load() {
				return true
			}
			j.ahead(p, j.parts)
			return j.open.Load()
		}
	}
	for {
		if poll(ready) {
			return
		}
		h.sleeping.Swap(1) // not Store: see team
		if j.open.Load() {
			if h.sleeping.CompareAndSwap(1, 0) {
				return
			}
			// the opener took the wake-up: consume its send
		}
		<-h.wake
	}
}

// size is the number of participants, the caller included.
func (t *team) size() int { return len(t.helpers) + 1 }

// run runs tasks 0..n-1 of j with j.fn, then, if n2 > 0, tasks 0..n2-1
// with j.then (after j.between), and returns when all are done.
func (t *team) run(j *job, n, n2 int) {
	j.n, j.n2 = n, n2
	j.parts = t.size()
	if len(j.taken) < n+n2 {
		j.taken = make([]atomic.Bool, n+n2) // buffers only grow: no allocation in steady state
	}
	if len(j.ended) < n {
		j.ended = make([]atomic.Bool, n)
	}
	for i := range j.taken[:n+n2] {
		j.taken[i].Store(false)
	}
	for i := range j.ended[:n] {
		j.ended[i].Store(false)
	}
	j.trained.Store(0)
	j.open.Store(n == 0)
	if n == 0 && n2 > 0 && j.between != nil {
		j.between()
	}
	if max(n, n2) < 2 || len(t.helpers) == 0 {
		j.parts = 1 // not posted: the caller is the only participant
		t.work(j, 0)
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
	t.work(j, 0)
	t.wait(j)
	t.cur.Store(nil) // the team must not keep the job's model alive
}

// waitBit is the flag in job.pending of a caller that may be asleep.
const waitBit = 1 << 30

// wait returns once every helper has finished j: it polls for spinFor,
// then sleeps until the last helper wakes it. The count and the caller's
// flag share one word, so the helper whose decrement ends the job learns
// from that decrement alone whether to wake the caller, and no helper
// touches j once the caller may have returned. (With a separate flag, a
// helper descheduled between its decrement and its test of the flag let
// the caller return, post the job again and go to sleep, then took that
// sleep for its own job's: it woke the caller while the new job's helper
// was still working, and the race detector caught TestTeamHandshake's
// caller writing a job a helper was reading.)
func (t *team) wait(j *job) {
	if poll(func() bool { return j.pending.Load() == 0 }) {
		return
	}
	if j.pending.Add(waitBit) == waitBit {
		j.pending.Add(-waitBit) // every helper had finished: no send comes
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
