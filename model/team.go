package model

import (
	"sync"
	"sync/atomic"
)

// job is a set of tasks 0..n-1 run by a team: each participant p (0 is the
// calling goroutine) takes the next task number until none is left and calls
// fn(p, t). Which participant runs a task never matters to the result: a
// task only writes memory owned by the task (or by participant p's buffers,
// whose contents do not survive the task).
type job struct {
	fn   func(p, t int)
	n    int
	next atomic.Int64
	wg   sync.WaitGroup
}

func (j *job) work(p int) {
	for {
		t := int(j.next.Add(1)) - 1
		if t >= j.n {
			return
		}
		j.fn(p, t)
	}
}

// team is a fixed set of helper goroutines, each fed through its own
// channel, so running a job allocates nothing.
type team struct {
	chans    []chan *job // helper i is participant i+1
	stopOnce sync.Once
}

func newTeam(size int) *team {
	t := &team{chans: make([]chan *job, size-1)}
	for i := range t.chans {
		c := make(chan *job)
		t.chans[i] = c
		go helper(c, i+1)
	}
	return t
}

func helper(c chan *job, p int) {
	for j := range c {
		j.work(p)
		j.wg.Done()
	}
}

// size is the number of participants, the caller included.
func (t *team) size() int { return len(t.chans) + 1 }

// run runs tasks 0..n-1 of j and returns when all are done.
func (t *team) run(j *job, n int) {
	j.n = n
	j.next.Store(0)
	helpers := min(len(t.chans), n-1)
	j.wg.Add(helpers)
	for _, c := range t.chans[:helpers] {
		c <- j
	}
	j.work(0)
	j.wg.Wait()
}

// stop ends the helper goroutines; the team must not be used afterwards.
func (t *team) stop() {
	t.stopOnce.Do(func() {
		for _, c := range t.chans {
			close(c)
		}
	})
}
