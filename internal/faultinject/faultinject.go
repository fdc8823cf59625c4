package faultinject

import (
	"fmt"
	"sync/atomic"
	"time"
)

// The environment variables read by [FromEnv].
const (
	CommitDelayEnv = "TBTRAIN_TEST_COMMIT_DELAY" // a Go duration: the commit delay
	FlushDelayEnv  = "TBTRAIN_TEST_FLUSH_DELAY"  // a Go duration: the flush delay
	StepDelayEnv   = "TBTRAIN_TEST_STEP_DELAY"   // a Go duration: sleep after every training step
	MarkersEnv     = "TBTRAIN_TEST_MARKERS"      // "1": print test markers on stderr
)

var commitDelay, flushDelay atomic.Int64

// CommitDelay returns the pause ckpt.Save makes half-way through writing a
// temp file; 0 means none.
func CommitDelay() time.Duration { return time.Duration(commitDelay.Load()) }

// FlushDelay returns the pause a new tbwriter.Writer makes half-way through
// each write of buffered records; 0 means none.
func FlushDelay() time.Duration { return time.Duration(flushDelay.Load()) }

// SetCommitDelay sets the commit delay and returns a function that restores
// the previous value (for t.Cleanup).
func SetCommitDelay(d time.Duration) (restore func()) { return set(&commitDelay, d) }

// SetFlushDelay sets the flush delay and returns a function that restores
// the previous value (for t.Cleanup).
func SetFlushDelay(d time.Duration) (restore func()) { return set(&flushDelay, d) }

func set(v *atomic.Int64, d time.Duration) func() {
	old := v.Swap(int64(max(d, 0)))
	return func() { v.Store(old) }
}

// Hooks are the settings [FromEnv] read.
type Hooks struct {
	CommitDelay time.Duration // installed: see CommitDelay
	FlushDelay  time.Duration // installed: see FlushDelay
	StepDelay   time.Duration // for the caller: sleep after every training step
	Markers     bool          // for the caller: print test markers
}

// FromEnv reads the TBTRAIN_TEST_* variables through getenv (os.Getenv in
// cmd/train), installs the commit and flush delays, and returns all four
// settings. An unset or empty variable means off. A value that does not
// parse (a duration that is not a non-negative Go duration, markers other
// than "0" or "1") is an error naming the variable, and nothing is
// installed: a test that sets a hook wrongly must not silently test nothing.
func FromEnv(getenv func(string) string) (Hooks, error) {
	var h Hooks
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{CommitDelayEnv, &h.CommitDelay}, {FlushDelayEnv, &h.FlushDelay}, {StepDelayEnv, &h.StepDelay}} {
		s := getenv(d.env)
		if s == "" {
			continue
		}
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			return Hooks{}, fmt.Errorf("%s=%q: want a non-negative Go duration such as 25ms", d.env, s)
		}
		*d.dst = v
	}
	switch s := getenv(MarkersEnv); s {
	case "", "0":
	case "1":
		h.Markers = true
	default:
		return Hooks{}, fmt.Errorf("%s=%q: want 1 or 0", MarkersEnv, s)
	}
	SetCommitDelay(h.CommitDelay)
	SetFlushDelay(h.FlushDelay)
	return h, nil
}
