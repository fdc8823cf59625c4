package trainer

// This file holds the lease that keeps one trainer per run on an object
// store, where there is no directory to create exclusively and no lock to
// hold: a lease object in the run's prefix, created with a conditional PUT
// (storage.Store.PutNew: If-None-Match: * on S3) and renewed while the
// session runs.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tbtrain/tbtrain/storage"
)

// LeaseName is the object in an S3 run's prefix that names the trainer
// training it.
const LeaseName = ".tbtrain-lease"

// DefaultLeaseTTL is how long a lease lasts unless renewed (Options.LeaseTTL
// 0). The holder renews it every third of that; a trainer killed without
// releasing it blocks a resume of the run for at most this long.
const DefaultLeaseTTL = 60 * time.Second

// leaseHeader opens every lease object.
const leaseHeader = "tbtrain lease 1"

// LeaseHeldError means another trainer holds the lease of the run.
type LeaseHeldError struct {
	Lease   string    // the lease object's location
	Holder  string    // "host <h> pid <p>"
	Expires time.Time // when it lapses unless renewed
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("trainer: the run is being trained by %s (lease %s, renewed until %s): "+
		"one trainer per run; if that trainer is gone, resume after %s or delete the lease object",
		e.Holder, e.Lease, e.Expires.Format(time.RFC3339), e.Expires.Format(time.TimeOnly))
}

// lease is a held lease.
type lease struct {
	st    storage.Store
	key   string
	loc   string
	token string
	who   string
	ttl   time.Duration
	now   func() time.Time

	mu   sync.Mutex
	err  error // why the lease is lost; sticky
	stop chan struct{}
	done chan struct{}
}

func (l *lease) content() []byte {
	return fmt.Appendf(nil, "%s\nholder %s\ntoken %s\nexpires %d\n", leaseHeader, l.who, l.token, l.now().Add(l.ttl).UnixNano())
}

// parseLease returns the holder, token and expiry of a lease object.
func parseLease(b []byte) (who, token string, expires time.Time, err error) {
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 || lines[0] != leaseHeader {
		return "", "", time.Time{}, fmt.Errorf("not a tbtrain lease")
	}
	who, _ = strings.CutPrefix(lines[1], "holder ")
	token, _ = strings.CutPrefix(lines[2], "token ")
	ns, err := strconv.ParseInt(strings.TrimPrefix(lines[3], "expires "), 10, 64)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("lease expiry: %v", err)
	}
	return who, token, time.Unix(0, ns), nil
}

// newLease prepares a lease of the run at dir (an object store location).
func newLease(dir string, ttl time.Duration, now func() time.Time) (*lease, error) {
	loc := storage.Join(dir, LeaseName)
	st, key, err := storage.For(loc)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("trainer: lease token: %w", err)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return &lease{st: st, key: key, loc: loc, token: hex.EncodeToString(tok[:]),
		who: fmt.Sprintf("host %s pid %d", host, os.Getpid()), ttl: ttl, now: now}, nil
}

// create takes the lease of a run that has none (a new run's name): false,
// nil when a lease exists (the name is taken).
func (l *lease) create(ctx context.Context) (bool, error) {
	err := l.st.PutNew(ctx, l.key, l.content())
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("trainer: taking the run's lease: %w", err)
	}
	return true, nil
}

// acquire takes the lease of an existing run: it creates the lease object,
// or replaces one that has lapsed (its holder stopped renewing: killed, or
// its machine gone). A live lease of another trainer is a *LeaseHeldError.
//
// What is not guarded: replacing a lapsed lease is a plain PUT, so two
// trainers that find the same lapsed lease at the same moment may both take
// it; each then sees the other's token at its next renewal (within a third
// of the TTL) and the one that finds its token gone stops before its next
// checkpoint commit. Expiry is judged by the clocks of the two machines.
func (l *lease) acquire(ctx context.Context) error {
	for range 3 {
		ok, err := l.create(ctx)
		if err != nil || ok {
			return err
		}
		b, err := l.st.Get(ctx, l.key, 0, 4096)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return fmt.Errorf("trainer: reading the run's lease: %w", err)
		}
		who, _, expires, perr := parseLease(b)
		if perr == nil && l.now().Before(expires) {
			return &LeaseHeldError{Lease: l.loc, Holder: who, Expires: expires}
		}
		// Lapsed (or unreadable: not ours to keep): take it over.
		if err := l.st.Put(ctx, l.key, l.content()); err != nil {
			return fmt.Errorf("trainer: taking over the run's lapsed lease: %w", err)
		}
		return nil
	}
	return fmt.Errorf("trainer: could not take the lease %s", l.loc)
}

// keep renews the lease every third of its TTL until release.
func (l *lease) keep() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(l.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				if err := l.renew(context.Background()); err != nil {
					l.mu.Lock()
					if l.err == nil {
						l.err = err
					}
					l.mu.Unlock()
				}
			}
		}
	}()
}

// renew checks that the lease still holds our token and extends it.
func (l *lease) renew(ctx context.Context) error {
	b, err := l.st.Get(ctx, l.key, 0, 4096)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil // a transient failure: the store retried; try next time
	}
	if err == nil {
		if who, token, _, perr := parseLease(b); perr != nil || token != l.token {
			return fmt.Errorf("trainer: lost the run's lease %s to %s", l.loc, who)
		}
	}
	if err := l.st.Put(ctx, l.key, l.content()); err != nil {
		return nil // try next time; the TTL leaves two more chances
	}
	return nil
}

// check returns why the lease is lost, or nil.
func (l *lease) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// release stops renewing and deletes the lease if it is still ours.
func (l *lease) release() error {
	if l.stop != nil {
		close(l.stop)
		<-l.done
		l.stop = nil
	}
	ctx := context.Background()
	b, err := l.st.Get(ctx, l.key, 0, 4096)
	if err != nil {
		return nil
	}
	if _, token, _, perr := parseLease(b); perr == nil && token == l.token {
		if err := l.st.Delete(ctx, l.key); err != nil {
			return fmt.Errorf("trainer: releasing the run's lease: %w", err)
		}
	}
	return nil
}
