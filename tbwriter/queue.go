package tbwriter

import (
	"context"
	"sync"
)

// queue is the bounded, blocking FIFO between the Add methods and the
// background goroutine. Producers append under a mutex; the consumer takes
// everything queued at once by swapping slices, so one wake-up and one lock
// round trip move a whole batch (a channel would cost a send, a receive and
// often a goroutine hand-off per event). It never drops: push waits while
// the queue holds limit items.
type queue struct {
	mu      sync.Mutex
	notFull sync.Cond // signalled when the consumer empties the queue
	items   []item
	limit   int
	closed  bool
	wake    chan struct{} // capacity 1: "items or close pending"
}

func newQueue(limit int) *queue {
	q := &queue{
		items: make([]item, 0, min(limit, DefaultQueueSize)),
		limit: limit,
		wake:  make(chan struct{}, 1),
	}
	q.notFull.L = &q.mu
	return q
}

// push appends it, waiting while the queue is full. It returns ErrClosed
// after close, and ctx.Err() if ctx ends while waiting (a ctx that cannot
// end, such as context.Background(), waits without a watcher).
func (q *queue) push(ctx context.Context, it item) error {
	q.mu.Lock()
	cancellable := ctx.Done() != nil
	if len(q.items) >= q.limit && !q.closed && cancellable {
		// Wake the waiters below when ctx ends (the sync.Cond pattern
		// of the context.AfterFunc documentation).
		stop := context.AfterFunc(ctx, func() {
			q.mu.Lock()
			q.notFull.Broadcast()
			q.mu.Unlock()
		})
		defer stop()
	}
	for len(q.items) >= q.limit && !q.closed {
		if cancellable && ctx.Err() != nil {
			q.mu.Unlock()
			return ctx.Err()
		}
		q.notFull.Wait()
	}
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	q.items = append(q.items, it)
	if len(q.items) == 1 {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	q.mu.Unlock()
	return nil
}

// take swaps the queued items into spare (which it empties first) and
// returns them, with whether the queue is closed.
func (q *queue) take(spare []item) ([]item, bool) {
	q.mu.Lock()
	got := q.items
	q.items = spare[:0]
	closed := q.closed
	q.notFull.Broadcast()
	q.mu.Unlock()
	return got, closed
}

// close makes later pushes fail and wakes everyone. Items already queued are
// still delivered by take.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.notFull.Broadcast()
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}
