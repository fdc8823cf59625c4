package trainer

import (
	"testing"

	"github.com/tbtrain/tbtrain/internal/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// TestLeaseTakeoverRaceS3 races four trainers over a lapsed lease on a real
// S3 server (SeaweedFS), ten times: the takeover's If-Match must let exactly
// one of them win each time. With a plain PUT (the takeover before
// compare-and-swap) every taker that read the lapsed lease won.
func TestLeaseTakeoverRaceS3(t *testing.T) {
	srv := s3test.Get(t)
	st := srv.Store(t)
	key := s3test.Prefix(t) + "/run/" + LeaseName
	raceTakeover(t, st, key, st.Location(key), 10)
}
