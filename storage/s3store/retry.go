package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
)

// ErrNoBucket means the bucket does not exist (S3's NoSuchBucket). The
// trainer does not create buckets: a typo in a bucket name should not make a
// new one.
var ErrNoBucket = errors.New("s3store: no such bucket")

// do runs op, retrying transient failures as s.retry says, and returns the
// number of attempts and the final error translated for callers: S3's "no
// such key" becomes fs.ErrNotExist, "no such bucket" ErrNoBucket. This is
// the only place that retries: every op passed in is safe to repeat (PUT of
// the same bytes, GET, HEAD, LIST, DELETE), or, like PutNew, checks on a
// repeat what an earlier attempt did.
func (s *Store) do(ctx context.Context, op func(context.Context) error) (int, error) {
	start := time.Now()
	pause := s.retry.Base
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return attempt - 1, err
		}
		actx, cancel := context.WithTimeout(ctx, s.retry.Attempt)
		err := op(actx)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return attempt, nil
		}
		if ctx.Err() != nil {
			return attempt, ctx.Err()
		}
		if !timedOut && !transient(err) {
			return attempt, translate(err)
		}
		if time.Since(start)+pause > s.retry.For {
			return attempt, fmt.Errorf("%w (gave up retrying after %s)", translate(err), time.Since(start).Round(time.Millisecond))
		}
		if err := s.sleep(ctx, pause); err != nil {
			return attempt, err
		}
		pause = min(2*pause, s.retry.Max)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// transient reports whether err may go away by itself: the server
// unreachable or overloaded, the connection dropped, a 5xx, 429 or one of
// S3's "try again" codes. A 4xx (no such key, access denied, precondition
// failed) is permanent.
func transient(err error) bool {
	if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) {
		return false
	}
	r := minio.ToErrorResponse(err)
	switch r.Code {
	case "SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "InternalError",
		"ServiceUnavailable", "ConditionalRequestConflict", "OperationAborted":
		return true
	}
	if r.StatusCode >= 500 || r.StatusCode == http.StatusTooManyRequests || r.StatusCode == http.StatusConflict {
		return true
	}
	if r.StatusCode != 0 {
		return false
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne):
		return true // connection refused/reset, timeouts, DNS
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	return false
}

// translate maps S3's answers to the errors callers test for.
func translate(err error) error {
	if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) {
		return err
	}
	r := minio.ToErrorResponse(err)
	switch {
	case r.Code == "NoSuchBucket":
		return fmt.Errorf("%w (%s)", ErrNoBucket, r.Message)
	case isNotFound(err):
		return fs.ErrNotExist
	}
	return err
}
