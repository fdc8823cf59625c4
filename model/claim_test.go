package model

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestClaimExclusive has as many goroutines as the team has participants
// claim and release buffer sets concurrently: no set may be held by two of
// them at once, and every claim must succeed. Each holds its set across a
// yield, so that another goroutine claims on the same processor meanwhile.
func TestClaimExclusive(t *testing.T) {
	m := NewLeNet5With(rand.New(rand.NewPCG(1, 2)), Options{Shards: 4, Workers: 4})
	n := m.team.size()
	holders := make(map[*shard]*atomic.Int32)
	for _, s := range m.shards[:n] {
		holders[s] = new(atomic.Int32)
	}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for p := range n {
		wg.Go(func() {
			for range 20000 {
				s := m.claim(p)
				h, ok := holders[s]
				if !ok || h.Add(1) != 1 {
					bad.Add(1)
				}
				runtime.Gosched() // let another goroutine claim on this processor
				if ok {
					h.Add(-1)
				}
				m.release(s)
			}
		})
	}
	wg.Wait()
	if b := bad.Load(); b != 0 {
		t.Fatalf("%d claims returned a set outside the participant sets or one already held", b)
	}
}
