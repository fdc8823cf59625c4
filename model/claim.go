package model

import "github.com/tbtrain/tbtrain/internal/kern"

// claim returns a participant buffer set (the activations, scratch and
// lists of a shard that a train or eval task uses within the task alone)
// for a task that participant p starts now, marked busy until release.
// It prefers the set numbered after the processor the task runs on, so
// that a core keeps the set whose lines it holds: participants are
// goroutines, and the Go scheduler now and then swaps two of them between
// the processors, after which a task indexed by participant would find
// its ~0.5-1.5 MB of buffers in the other core's cache (a task of 8
// images took 36-40 µs longer after such a swap, 16 images 47-90 µs;
// swaps hit up to 6 % of the steps). Where the processor is unknown it
// takes set p. Which set a task uses never changes a result: a set's
// contents do not survive the task.
func (m *LeNet5) claim(p int) *shard {
	n := m.team.size() // at most n tasks run at a time
	i := p
	if c := kern.Processor(); c >= 0 {
		i = c % n
	}
	for {
		// at most n-1 other tasks hold a set, but they may release one and
		// claim another while this pass looks: look again until one is free
		for j := range n {
			if s := m.shards[(i+j)%n]; s.busy.CompareAndSwap(false, true) {
				return s
			}
		}
	}
}

// release ends a claim.
func (m *LeNet5) release(s *shard) { s.busy.Store(false) }
