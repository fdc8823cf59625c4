package trainer

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/storage"
)

// TestLease runs the lease protocol on local files (any storage.Store has
// PutNew): create, renewal, a second trainer refused while the lease lives,
// a lapsed lease taken over, the first holder noticing the loss, release.
func TestLease(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx := context.Background()
	a, err := newLease(dir, 300*time.Millisecond, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.create(ctx); !ok || err != nil {
		t.Fatalf("create = %v, %v", ok, err)
	}
	read := func() time.Time {
		t.Helper()
		b, err := storage.Local{}.Get(ctx, a.key, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		_, _, exp, err := parseLease(b)
		if err != nil {
			t.Fatal(err)
		}
		return exp
	}
	first := read()
	a.keep()
	time.Sleep(500 * time.Millisecond)
	if renewed := read(); !renewed.After(first) {
		t.Fatalf("lease not renewed: expiry %v, first %v", renewed, first)
	}
	b, _ := newLease(dir, 300*time.Millisecond, time.Now)
	var held *LeaseHeldError
	if err := b.acquire(ctx); !errors.As(err, &held) {
		t.Fatalf("second trainer: %v, want a *LeaseHeldError", err)
	}
	// a stops renewing (as if killed): b takes the lapsed lease over.
	close(a.stop)
	<-a.done
	a.stop = nil
	time.Sleep(400 * time.Millisecond)
	if err := b.acquire(ctx); err != nil {
		t.Fatalf("taking over a lapsed lease: %v", err)
	}
	if err := a.renew(ctx); err == nil {
		t.Fatal("the first holder did not notice it lost the lease")
	}
	if err := a.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := (storage.Local{}).Stat(ctx, a.key); err != nil {
		t.Fatalf("the old holder's release removed the new holder's lease: %v", err)
	}
	if err := b.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := (storage.Local{}).Stat(ctx, a.key); err == nil {
		t.Fatal("lease still there after release")
	}
}
