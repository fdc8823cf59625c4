package trainer

// This file holds the lease that keeps one trainer per run on an object
// store, where there is no directory to create exclusively and no lock to
// hold: a lease object in the run's prefix, created with a conditional PUT
// (storage.Store.PutNew: If-None-Match: * on S3), and renewed, taken over
// when lapsed, each with a compare-and-swap (storage.Swapper.PutIfVersion:
// If-Match on the ETag read), so that of two trainers acting on the same
// lease object at most one succeeds.

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
	sw    storage.Swapper // st's compare-and-swap; nil if it has none
	key   string
	loc   string
	token string
	who   string
	ttl   time.Duration
	now   func() time.Time

	renewMu sync.Mutex // one renewal at a time (keep's and confirm's)

	mu   sync.Mutex
	err  error // why the lease is lost; sticky
	stop chan struct{}
	done chan struct{}
}

func (l *lease) content() []byte {
	return fmt.Appendf(nil, "%s\nholder %s\ntoken %s\nexpires %d\n", leaseHeader, l.who, l.token, l.now().Add(l.ttl).UnixNano())
}

// parseLease returns the holder, token and expiry of a lease object: the
// header line, then "holder ", "token " and "expires " lines (the expiry in
// Unix nanoseconds), each required.
func parseLease(b []byte) (who, token string, expires time.Time, err error) {
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 || lines[0] != leaseHeader {
		return "", "", time.Time{}, errors.New("not a tbtrain lease")
	}
	who, ok1 := strings.CutPrefix(lines[1], "holder ")
	token, ok2 := strings.CutPrefix(lines[2], "token ")
	exp, ok3 := strings.CutPrefix(lines[3], "expires ")
	if !ok1 || !ok2 || !ok3 {
		return "", "", time.Time{}, errors.New("lease: want holder, token and expires lines")
	}
	if token == "" {
		return "", "", time.Time{}, errors.New("lease: empty token")
	}
	ns, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("lease expiry: %w", err)
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
	return newLeaseOn(st, key, loc, ttl, now)
}

// newLeaseOn prepares a lease kept in st under key (loc is its location).
func newLeaseOn(st storage.Store, key, loc string, ttl time.Duration, now func() time.Time) (*lease, error) {
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
	sw, _ := st.(storage.Swapper)
	return &lease{st: st, sw: sw, key: key, loc: loc, token: hex.EncodeToString(tok[:]),
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

// read returns the lease object's content and version ("" from a store
// without compare-and-swap).
func (l *lease) read(ctx context.Context) ([]byte, string, error) {
	if l.sw != nil {
		return l.sw.GetVersion(ctx, l.key)
	}
	b, err := l.st.Get(ctx, l.key, 0, 4096)
	return b, "", err
}

// acquire takes the lease of an existing run: it creates the lease object,
// or replaces one that has lapsed (its holder stopped renewing: killed, or
// its machine gone). A live lease of another trainer is a *LeaseHeldError.
//
// Taking over is a compare-and-swap: the lapsed lease is replaced only if
// it is still the version read (If-Match on S3), so of trainers that find
// the same lapsed lease at the same moment exactly one takes it; the others
// re-read it, find it live and get a *LeaseHeldError. A store without
// compare-and-swap refuses the takeover (ErrNoSafeTakeover) and the user
// deletes the lapsed lease by hand. Expiry is judged by this machine's clock
// against the holder's: clocks more than the TTL apart break the lease.
func (l *lease) acquire(ctx context.Context) error {
	for range 5 {
		ok, err := l.create(ctx)
		if err != nil || ok {
			return err
		}
		b, ver, err := l.read(ctx)
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
		// Lapsed (or unreadable: not a live lease of anyone): take it over
		// if it is still what was read.
		if l.sw == nil {
			return fmt.Errorf("%w: %s lapsed at %s; delete it once sure its holder (%s) is gone, then resume",
				ErrNoSafeTakeover, l.loc, expires.Format(time.RFC3339), who)
		}
		err = l.sw.PutIfVersion(ctx, l.key, l.content(), ver)
		if errors.Is(err, storage.ErrChanged) || errors.Is(err, fs.ErrNotExist) {
			continue // another trainer acted first: look again
		}
		if err != nil {
			return fmt.Errorf("trainer: taking over the run's lapsed lease: %w", err)
		}
		return nil
	}
	return fmt.Errorf("trainer: could not take the lease %s: it keeps changing", l.loc)
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
				// A transient failure (the store already retried) is
				// left for the next tick: the TTL leaves two more.
				if err := l.renew(context.Background()); errors.Is(err, ErrLeaseLost) {
					l.lose(err)
				}
			}
		}
	}()
}

func (l *lease) lose(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
}

// renew checks that the lease object still holds this session's token and
// extends it, replacing it only if it is still the version read, so that
// a takeover between the read and the write is never overwritten. An error
// wrapping ErrLeaseLost means another trainer holds the lease (or it is
// gone and another trainer created it); other errors are the store's.
func (l *lease) renew(ctx context.Context) error {
	l.renewMu.Lock()
	defer l.renewMu.Unlock()
	for range 3 {
		b, ver, err := l.read(ctx)
		if errors.Is(err, fs.ErrNotExist) {
			// Deleted (by hand): recreate it unless another trainer has.
			ok, err := l.create(ctx)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			return nil
		}
		if err != nil {
			return err
		}
		if who, token, _, perr := parseLease(b); perr != nil || token != l.token {
			if perr != nil {
				who = "an unreadable lease object"
			}
			return fmt.Errorf("%w %s to %s", ErrLeaseLost, l.loc, who)
		}
		if l.sw == nil {
			// No compare-and-swap: a takeover between the read and this
			// write would be overwritten (such stores refuse takeovers).
			return l.st.Put(ctx, l.key, l.content())
		}
		err = l.sw.PutIfVersion(ctx, l.key, l.content(), ver)
		if errors.Is(err, storage.ErrChanged) || errors.Is(err, fs.ErrNotExist) {
			continue // changed under us: read again to see by whom
		}
		return err
	}
	return fmt.Errorf("trainer: renewing the run's lease %s: it keeps changing", l.loc)
}

// confirm renews the lease now and returns an error if it is lost or
// cannot be renewed: the trainer calls it before each checkpoint commit, so
// a commit starts with the lease held and a full TTL ahead, however long
// the trainer was paused since the last background renewal.
func (l *lease) confirm(ctx context.Context) error {
	if err := l.check(); err != nil {
		return err
	}
	if err := l.renew(ctx); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			l.lose(err)
			return err
		}
		return fmt.Errorf("trainer: renewing the run's lease before a commit: %w", err)
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
	b, _, err := l.read(ctx)
	if err != nil {
		return nil
	}
	// A lapsed lease is left alone: another trainer may be taking it over
	// (and its next renewal would recreate one deleted under it anyway).
	if _, token, expires, perr := parseLease(b); perr == nil && token == l.token && l.now().Before(expires) {
		if err := l.st.Delete(ctx, l.key); err != nil {
			return fmt.Errorf("trainer: releasing the run's lease: %w", err)
		}
	}
	return nil
}
