//go:build unix

package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// TestWriterHammer is the event writer's concurrency contract at the system
// level: many goroutines add scalars to one Writer while others call Flush and Sync, and Close
// races with all of them. Every Add that returned nil must be in the file
// exactly once with its value; every Add that failed must have failed with
// ErrClosed (Close came first) and must not be in the file. Run it under
// -race to check the writer's locking as well.
func TestWriterHammer(t *testing.T) {
	const (
		adders    = 16
		perAdder  = 400
		flushers  = 3
		queueSize = 4 // small, so adders block on a full queue while Close runs
	)
	type tcase struct {
		closeAfter int
		flushDelay time.Duration // faultinject.SetFlushDelay: split every file write in two
	}
	var cases []tcase
	for _, d := range []time.Duration{0, 100 * time.Microsecond} {
		for _, ca := range []int{0, perAdder / 4, perAdder / 2, perAdder} {
			cases = append(cases, tcase{ca, d})
		}
	}
	for round, tc := range cases {
		closeAfter := tc.closeAfter
		name := fmt.Sprintf("close-after-%d", closeAfter)
		if tc.flushDelay != 0 {
			name += "/split-writes-" + tc.flushDelay.String()
		}
		t.Run(name, func(t *testing.T) {
			t.Cleanup(faultinject.SetFlushDelay(tc.flushDelay))
			dir := t.TempDir()
			w, err := tbwriter.Create(dir, tbwriter.Options{QueueSize: queueSize, FlushInterval: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			path := w.Path()

			// ok[g][i] is set when adder g's i-th AddScalar returned nil.
			var ok [adders][perAdder]atomic.Bool
			var added atomic.Int64
			closeNow := make(chan struct{})
			var closeOnce sync.Once
			startClose := func() { closeOnce.Do(func() { close(closeNow) }) }

			var wg sync.WaitGroup
			errs := make(chan error, adders+flushers+1)
			for g := range adders {
				wg.Go(func() {
					for i := range perAdder {
						err := w.AddScalar(fmt.Sprintf("g%02d", g), int64(i), float32(g*perAdder+i))
						switch {
						case err == nil:
							ok[g][i].Store(true)
						case errors.Is(err, tbwriter.ErrClosed):
						default:
							errs <- fmt.Errorf("adder %d, step %d: %v", g, i, err)
							return
						}
						if added.Add(1) >= int64(closeAfter*adders) {
							startClose()
						}
					}
				})
			}
			stopFlush := make(chan struct{})
			var fwg sync.WaitGroup
			for f := range flushers {
				fwg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(round), uint64(f)))
					for {
						select {
						case <-stopFlush:
							return
						default:
						}
						var err error
						if rng.IntN(2) == 0 {
							err = w.Flush(context.Background())
						} else {
							err = w.Sync()
						}
						if err != nil && !errors.Is(err, tbwriter.ErrClosed) {
							errs <- fmt.Errorf("flusher %d: %v", f, err)
							return
						}
					}
				})
			}
			wg.Go(func() {
				<-closeNow
				if err := w.Close(); err != nil {
					errs <- fmt.Errorf("Close: %v", err)
				}
			})
			if closeAfter == perAdder {
				// Close only after every adder is done: nothing may fail.
				go func() {
					for added.Load() < adders*perAdder {
						time.Sleep(time.Millisecond)
					}
					startClose()
				}()
			}
			wg.Wait()
			close(stopFlush)
			fwg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if err := w.Close(); err != nil { // idempotent
				t.Errorf("second Close: %v", err)
			}

			events, err := tbwriter.ReadFile(path)
			if err != nil {
				t.Fatalf("ReadFile(%s): %v", path, err)
			}
			var seen [adders][perAdder]int
			for _, ev := range events {
				for _, v := range ev.GetSummary().GetValue() {
					var g int
					if _, err := fmt.Sscanf(v.GetTag(), "g%02d", &g); err != nil || g < 0 || g >= adders {
						t.Errorf("unexpected tag %q at step %d", v.GetTag(), ev.GetStep())
						continue
					}
					i := ev.GetStep()
					if i < 0 || i >= perAdder {
						t.Errorf("tag %s: unexpected step %d", v.GetTag(), i)
						continue
					}
					seen[g][i]++
					if got, want := scalarOf(v), float32(g*perAdder+int(i)); got != want {
						t.Errorf("tag %s step %d: value %v, want %v", v.GetTag(), i, got, want)
					}
				}
			}
			var nOK, nFailed int
			for g := range adders {
				for i := range perAdder {
					switch {
					case ok[g][i].Load() && seen[g][i] != 1:
						t.Errorf("g%02d step %d: Add returned nil, found %d times in the file, want 1", g, i, seen[g][i])
					case !ok[g][i].Load() && seen[g][i] != 0:
						t.Errorf("g%02d step %d: Add failed, found %d times in the file, want 0", g, i, seen[g][i])
					}
					if ok[g][i].Load() {
						nOK++
					} else {
						nFailed++
					}
				}
			}
			if closeAfter == perAdder && nFailed != 0 {
				t.Errorf("%d adds failed although Close came after all of them", nFailed)
			}
			t.Logf("%d adds succeeded and are in the file once each, %d failed with ErrClosed and are absent", nOK, nFailed)
		})
	}
}
