package trainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/storage"
)

// memStore is an object store in memory with compare-and-swap, for the
// lease's unit tests (the real-server tests are in lease_s3_test.go).
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
	vers map[string]int
	next int
}

var (
	_ storage.Store   = (*memStore)(nil)
	_ storage.Swapper = (*memStore)(nil)
)

func newMemStore() *memStore { return &memStore{objs: map[string][]byte{}, vers: map[string]int{}} }

func (m *memStore) fail(op, key string, err error) error {
	return &storage.Error{Op: op, Backend: "mem", Key: key, Err: err}
}

func (m *memStore) set(key string, data []byte) {
	m.next++
	m.objs[key], m.vers[key] = slices.Clone(data), m.next
}

func (m *memStore) Put(_ context.Context, key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set(key, data)
	return nil
}

func (m *memStore) PutNew(_ context.Context, key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[key]; ok {
		return m.fail("putnew", key, fs.ErrExist)
	}
	m.set(key, data)
	return nil
}

func (m *memStore) Get(_ context.Context, key string, off, n int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return nil, m.fail("get", key, fs.ErrNotExist)
	}
	b = b[min(off, int64(len(b))):]
	if n >= 0 {
		b = b[:min(n, int64(len(b)))]
	}
	return slices.Clone(b), nil
}

func (m *memStore) GetVersion(_ context.Context, key string) ([]byte, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return nil, "", m.fail("get", key, fs.ErrNotExist)
	}
	return slices.Clone(b), strconv.Itoa(m.vers[key]), nil
}

func (m *memStore) PutIfVersion(_ context.Context, key string, data []byte, version string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[key]; !ok {
		return m.fail("putifversion", key, fs.ErrNotExist)
	}
	if strconv.Itoa(m.vers[key]) != version {
		return m.fail("putifversion", key, storage.ErrChanged)
	}
	m.set(key, data)
	return nil
}

func (m *memStore) Stat(_ context.Context, key string) (storage.Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.objs[key]; ok {
		return storage.Info{Key: key, Size: int64(len(b))}, nil
	}
	return storage.Info{}, m.fail("stat", key, fs.ErrNotExist)
}

func (m *memStore) List(_ context.Context, dir string) ([]storage.Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []storage.Info
	for k, b := range m.objs {
		if rest, ok := strings.CutPrefix(k, dir+"/"); ok && !strings.Contains(rest, "/") {
			out = append(out, storage.Info{Key: k, Size: int64(len(b))})
		}
	}
	slices.SortFunc(out, func(a, b storage.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (m *memStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	delete(m.vers, key)
	return nil
}

func (m *memStore) Location(key string) string { return "mem://" + key }

// noSwap hides a store's compare-and-swap.
type noSwap struct{ storage.Store }

const leaseKey = "run/" + LeaseName

// TestLease runs the lease protocol: create, renewal, a second trainer
// refused while the lease lives, a lapsed lease taken over, the first
// holder noticing the loss (in the background and before a commit), release
// leaving the new holder's lease alone.
func TestLease(t *testing.T) {
	st := newMemStore()
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	a, err := newLeaseOn(st, leaseKey, "mem://"+leaseKey, ttl, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.create(ctx); !ok || err != nil {
		t.Fatalf("create = %v, %v", ok, err)
	}
	read := func() (token string, exp time.Time) {
		t.Helper()
		b, err := st.Get(ctx, leaseKey, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		_, token, exp, err = parseLease(b)
		if err != nil {
			t.Fatal(err)
		}
		return token, exp
	}
	_, first := read()
	a.keep()
	time.Sleep(2 * ttl)
	if _, renewed := read(); !renewed.After(first) {
		t.Fatalf("lease not renewed: expiry %v, first %v", renewed, first)
	}
	if err := a.confirm(ctx); err != nil {
		t.Fatalf("confirm by the holder: %v", err)
	}
	b, _ := newLeaseOn(st, leaseKey, "mem://"+leaseKey, ttl, time.Now)
	var held *LeaseHeldError
	if err := b.acquire(ctx); !errors.As(err, &held) {
		t.Fatalf("second trainer: %v, want a *LeaseHeldError", err)
	}
	if !strings.Contains(held.Error(), a.who) {
		t.Errorf("%q does not name the holder %q", held, a.who)
	}
	// a stops renewing (as if paused or cut off): b takes the lapsed lease over.
	close(a.stop)
	<-a.done
	a.stop = nil
	time.Sleep(ttl + 100*time.Millisecond)
	if err := b.acquire(ctx); err != nil {
		t.Fatalf("taking over a lapsed lease: %v", err)
	}
	if tok, _ := read(); tok != b.token {
		t.Fatalf("lease holds token %s, want the new holder's %s", tok, b.token)
	}
	if err := a.confirm(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the first holder's confirm before a commit: %v, want the lease lost", err)
	}
	if err := a.check(); err == nil {
		t.Fatal("check after a lost confirm: nil")
	}
	if tok, _ := read(); tok != b.token {
		t.Fatalf("the old holder's renewal attempt replaced the new holder's lease")
	}
	if err := a.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, leaseKey); err != nil {
		t.Fatalf("the old holder's release removed the new holder's lease: %v", err)
	}
	if err := b.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, leaseKey); err == nil {
		t.Fatal("lease still there after release")
	}
}

// TestLeaseRenewAfterTakeover is the interleaving a plain read-check-write
// renewal gets wrong: the holder reads its own token, a taker replaces the
// lapsed lease, then the holder writes. The compare-and-swap refuses the
// holder's write, which finds the taker's token on the re-read.
func TestLeaseRenewAfterTakeover(t *testing.T) {
	st := newMemStore()
	ctx := context.Background()
	var clock time.Time = time.Unix(1_700_000_000, 0)
	now := func() time.Time { return clock }
	a, _ := newLeaseOn(st, leaseKey, "mem://"+leaseKey, time.Minute, now)
	b, _ := newLeaseOn(st, leaseKey, "mem://"+leaseKey, time.Minute, now)
	if ok, err := a.create(ctx); !ok || err != nil {
		t.Fatalf("create = %v, %v", ok, err)
	}
	clock = clock.Add(2 * time.Minute) // a's lease lapses
	a.sw = &interleave{Swapper: st, before: func() {
		if err := b.acquire(ctx); err != nil {
			t.Errorf("takeover: %v", err)
		}
	}}
	if err := a.renew(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("renew across a takeover: %v, want the lease lost", err)
	}
	got, _ := st.Get(ctx, leaseKey, 0, -1)
	if _, tok, _, _ := parseLease(got); tok != b.token {
		t.Fatalf("lease holds %s after the race, want the taker's %s", tok, b.token)
	}
}

// interleave runs before once, just before the first PutIfVersion.
type interleave struct {
	storage.Swapper
	before func()
	once   sync.Once
}

func (i *interleave) PutIfVersion(ctx context.Context, key string, data []byte, version string) error {
	i.once.Do(i.before)
	return i.Swapper.PutIfVersion(ctx, key, data, version)
}

// TestLeaseTakeoverRace: trainers that all find the same lapsed lease
// take it over at once; exactly one may win, the others are refused with
// a *LeaseHeldError naming the winner.
func TestLeaseTakeoverRace(t *testing.T) {
	raceTakeover(t, newMemStore(), leaseKey, "mem://"+leaseKey, 20)
}

// raceTakeover races n trainers over a lapsed lease in st, rounds times.
func raceTakeover(t *testing.T, st storage.Store, key, loc string, rounds int) {
	t.Helper()
	ctx := context.Background()
	const n = 4
	for r := range rounds {
		// A lease that lapsed a second ago.
		old, err := newLeaseOn(st, key, loc, time.Minute, func() time.Time { return time.Now().Add(-61 * time.Second) })
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, key, old.content()); err != nil {
			t.Fatal(err)
		}
		takers := make([]*lease, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range takers {
			takers[i], _ = newLeaseOn(st, key, loc, time.Minute, time.Now)
			takers[i].who = fmt.Sprintf("taker %d", i)
			wg.Go(func() {
				<-start
				errs[i] = takers[i].acquire(ctx)
			})
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			var held *LeaseHeldError
			switch {
			case err == nil && won >= 0:
				t.Fatalf("round %d: takers %d and %d both took over the lapsed lease", r, won, i)
			case err == nil:
				won = i
			case !errors.As(err, &held):
				t.Fatalf("round %d: taker %d: %v, want success or a *LeaseHeldError", r, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: nobody took over the lapsed lease: %v", r, errs)
		}
		for i, err := range errs {
			if i != won && !strings.Contains(err.Error(), takers[won].who) {
				t.Errorf("round %d: taker %d's refusal %q does not name the winner %q", r, i, err, takers[won].who)
			}
		}
		b, err := st.Get(ctx, key, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, tok, _, _ := parseLease(b); tok != takers[won].token {
			t.Fatalf("round %d: lease holds token %s, want the winner's %s", r, tok, takers[won].token)
		}
		if err := takers[won].renew(ctx); err != nil {
			t.Fatalf("round %d: the winner's renewal: %v", r, err)
		}
	}
}

// TestLeaseNoSwapper: a store without compare-and-swap creates and renews
// leases, but refuses to take over a lapsed one, saying what to do.
func TestLeaseNoSwapper(t *testing.T) {
	st := noSwap{newMemStore()}
	ctx := context.Background()
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { return clock }
	a, _ := newLeaseOn(st, leaseKey, "mem://"+leaseKey, time.Minute, now)
	if ok, err := a.create(ctx); !ok || err != nil {
		t.Fatalf("create = %v, %v", ok, err)
	}
	if err := a.renew(ctx); err != nil {
		t.Fatalf("renew: %v", err)
	}
	clock = clock.Add(2 * time.Minute)
	b, _ := newLeaseOn(st, leaseKey, "mem://"+leaseKey, time.Minute, now)
	err := b.acquire(ctx)
	if !errors.Is(err, ErrNoSafeTakeover) || !strings.Contains(err.Error(), "mem://"+leaseKey) {
		t.Fatalf("takeover without compare-and-swap: %v, want ErrNoSafeTakeover naming the lease", err)
	}
}

// TestLeaseOnLocalFiles: local runs are guarded by an OS lock; the lease
// still creates and releases on local files (a new run's name), and a
// lapsed local lease is not taken over (Local has no compare-and-swap).
func TestLeaseOnLocalFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	a, err := newLease(dir, time.Minute, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.create(context.Background()); !ok || err != nil {
		t.Fatalf("create = %v, %v", ok, err)
	}
	if err := a.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := (storage.Local{}).Stat(context.Background(), a.key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lease still there after release: %v", err)
	}
}

// FuzzParseLease: any bytes give a lease or an error, never a panic, and a
// lease written by content parses back to its holder and token.
func FuzzParseLease(f *testing.F) {
	l, _ := newLeaseOn(newMemStore(), leaseKey, "", time.Minute, func() time.Time { return time.Unix(1_700_000_000, 0) })
	f.Add(l.content())
	f.Add([]byte(leaseHeader + "\nholder h\ntoken t\nexpires -1\n"))
	f.Add([]byte(leaseHeader + "\nholder \ntoken \nexpires 9223372036854775807"))
	f.Add([]byte("tbtrain lease 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		who, token, _, err := parseLease(b)
		if err != nil {
			return
		}
		if token == "" || strings.Contains(token, "\n") || strings.Contains(who, "\n") {
			t.Fatalf("parseLease(%q) = holder %q token %q", b, who, token)
		}
		if !bytes.HasPrefix(b, []byte(leaseHeader+"\n")) {
			t.Fatalf("parseLease accepted %q without the header", b)
		}
	})
}

func TestParseLeaseRoundTrip(t *testing.T) {
	l, _ := newLeaseOn(newMemStore(), leaseKey, "", time.Minute, func() time.Time { return time.Unix(1_700_000_000, 5) })
	who, token, exp, err := parseLease(l.content())
	if err != nil || who != l.who || token != l.token || !exp.Equal(time.Unix(1_700_000_060, 5)) {
		t.Fatalf("parseLease(content) = %q %q %v %v; want %q %q %v", who, token, exp, err, l.who, l.token, time.Unix(1_700_000_060, 5))
	}
	for _, bad := range []string{"", "tbtrain lease 1\nholder h\n", "tbtrain lease 1\nholder h\ntoken \nexpires 1\n",
		"tbtrain lease 1\nwho h\ntoken t\nexpires 1\n", "tbtrain lease 1\nholder h\ntoken t\nexpires soon\n"} {
		if _, _, _, err := parseLease([]byte(bad)); err == nil {
			t.Errorf("parseLease(%q) = nil error", bad)
		}
	}
}
