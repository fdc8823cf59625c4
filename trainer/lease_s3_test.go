package trainer

import (
	"context"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// TestLeaseTakeoverRaceS3 races four trainers over a lapsed lease on a real
// S3 server (SeaweedFS), ten times: the takeover's If-Match must let exactly
// one of them win each time. With a plain PUT (the takeover before
// compare-and-swap) every taker that read the lapsed lease won.
func TestLeaseTakeoverRaceS3(t *testing.T) {
	st, prefix := s3test.GetStore(t)
	key := prefix + "/run/" + LeaseName
	raceTakeover(t, st, key, st.Location(key), 10)
}

// BenchmarkLeaseRenewS3 times the renewal every checkpoint commit now
// starts with (a GET of the lease, a PUT with If-Match, a HEAD to verify),
// next to ckpt's BenchmarkSaveLeNetS3.
func BenchmarkLeaseRenewS3(b *testing.B) {
	st, prefix := s3test.GetStore(b)
	key := prefix + "/run/" + LeaseName
	l, err := newLeaseOn(st, key, st.Location(key), time.Minute, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if ok, err := l.create(ctx); !ok || err != nil {
		b.Fatalf("create = %v, %v", ok, err)
	}
	for b.Loop() {
		if err := l.confirm(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
