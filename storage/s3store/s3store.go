package s3store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tbtrain/tbtrain/storage"
)

// Store is a [storage.Store] over one S3 bucket. It is safe for concurrent
// use.
type Store struct {
	client *minio.Client
	bucket string
	retry  Retry

	sleep func(context.Context, time.Duration) error // tests shorten pauses
}

var (
	_ storage.Store   = (*Store)(nil)
	_ storage.Swapper = (*Store)(nil)
)

// New returns a Store for bucket, reached as cfg says. It makes no request.
func New(bucket string, cfg Config) (*Store, error) {
	if bucket == "" {
		return nil, errors.New("s3store: no bucket")
	}
	opts := &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		Region: cfg.Region,
		// Retries live in Store.do, where they know which steps are safe
		// to repeat; minio-go's own (10 by default) are switched off.
		MaxRetries: 1,
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	host := "s3.amazonaws.com"
	secure := true
	if cfg.Endpoint != "" {
		var err error
		if host, secure, err = parseEndpoint(cfg.Endpoint); err != nil {
			return nil, fmt.Errorf("s3store: endpoint %s: %w", cfg.Endpoint, err)
		}
		opts.BucketLookup = minio.BucketLookupPath
		if cfg.VirtualHost {
			opts.BucketLookup = minio.BucketLookupDNS
		}
	}
	opts.Secure = secure
	client, err := minio.New(host, opts)
	if err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	return &Store{client: client, bucket: bucket, retry: cfg.Retry.withDefaults(), sleep: sleepCtx}, nil
}

// Open returns the Store of an s3://bucket/key URL, configured from the
// environment ([ConfigFromEnv]), and the key.
func Open(u string) (*Store, string, error) {
	bucket, key, err := ParseURL(u)
	if err != nil {
		return nil, "", err
	}
	cfg, err := ConfigFromEnv(nil)
	if err != nil {
		return nil, "", err
	}
	s, err := New(bucket, cfg)
	if err != nil {
		return nil, "", err
	}
	return s, key, nil
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Location returns s3://bucket/key.
func (s *Store) Location(key string) string { return Scheme + s.bucket + "/" + key }

func (s *Store) fail(op, key string, attempts int, err error) error {
	return &storage.Error{Op: op, Backend: "s3", Bucket: s.bucket, Key: key, Err: err, Attempts: attempts}
}

func checkKey(key string) error {
	if key == "" || strings.HasSuffix(key, "/") {
		return storage.ErrInvalidKey
	}
	return nil
}

// Put uploads data as key in one PUT request (never multipart: a single PUT
// is atomic in S3, the object is whole or absent) with a Content-MD5 header,
// so the server refuses a body damaged on the way. It then verifies the
// stored object: its length, and its MD5 where the ETag is one (a plain PUT
// without KMS encryption), else its bytes read back. A PUT is idempotent, so
// transient failures are retried as the Retry policy says.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return s.fail("put", key, 0, err)
	}
	sum := md5.Sum(data)
	n, err := s.do(ctx, func(ctx context.Context) error {
		if err := s.putOnce(ctx, key, data, false, ""); err != nil {
			return err
		}
		return s.verify(ctx, key, data, sum)
	})
	if err != nil {
		return s.fail("put", key, n, err)
	}
	return nil
}

// putOnce makes one PUT request of data as key. ifNoneMatch sends
// If-None-Match: * (create only); a non-empty ifMatch sends If-Match with
// that ETag (replace only that version).
func (s *Store) putOnce(ctx context.Context, key string, data []byte, ifNoneMatch bool, ifMatch string) error {
	opts := minio.PutObjectOptions{
		DisableMultipart: true,
		SendContentMd5:   true,
		ContentType:      "application/octet-stream",
	}
	if ifNoneMatch {
		opts.SetMatchETagExcept("*") // If-None-Match: *
	}
	if ifMatch != "" {
		opts.SetMatchETag(ifMatch) // If-Match: "<etag>"
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	return err
}

// verify checks the object stored under key against data.
func (s *Store) verify(ctx context.Context, key string, data []byte, sum [md5.Size]byte) error {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return err
	}
	if info.Size != int64(len(data)) {
		return fmt.Errorf("%w: %d bytes stored, %d written", storage.ErrVerify, info.Size, len(data))
	}
	etag := strings.Trim(info.ETag, `"`)
	if len(etag) == 2*md5.Size && !strings.Contains(etag, "-") {
		if etag != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("%w: ETag %s, MD5 of the data written %x", storage.ErrVerify, etag, sum)
		}
		return nil
	}
	got, err := s.getOnce(ctx, key, 0, -1)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("%w: content read back differs", storage.ErrVerify)
	}
	return nil
}

// PutNew uploads data as key with If-None-Match: *, so the server refuses
// it (HTTP 412) when key exists; of concurrent PutNew calls at most one
// succeeds on a server that honours the header (AWS S3 since August 2024,
// MinIO, SeaweedFS; see the package documentation). Creating is not
// idempotent: when an attempt fails in a way that leaves its outcome unknown
// (the response was lost) and a retry is refused because key exists, PutNew
// reads key back and succeeds only if it holds exactly data — its own
// write. Callers make data unique (a lease holds a random token).
func (s *Store) PutNew(ctx context.Context, key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return s.fail("putnew", key, 0, err)
	}
	attempt := 0
	n, err := s.do(ctx, func(ctx context.Context) error {
		attempt++
		err := s.putOnce(ctx, key, data, true, "")
		if err == nil || !isPrecondition(err) {
			return err
		}
		if attempt > 1 {
			got, gerr := s.getOnce(ctx, key, 0, -1)
			if gerr == nil && bytes.Equal(got, data) {
				return nil // an earlier attempt of ours created it
			}
		}
		return fs.ErrExist
	})
	if err != nil {
		return s.fail("putnew", key, n, err)
	}
	return nil
}

// GetVersion reads the whole of key and returns it with its ETag, the
// version [Store.PutIfVersion] compares against (one GET: the ETag comes
// from the same response as the bytes, so the two always belong together).
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, string, error) {
	if err := checkKey(key); err != nil {
		return nil, "", s.fail("get", key, 0, err)
	}
	var out []byte
	var etag string
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer obj.Close()
		b, err := io.ReadAll(obj)
		if err != nil {
			return err
		}
		info, err := obj.Stat()
		if err != nil {
			return err
		}
		if etag = strings.Trim(info.ETag, `"`); etag == "" {
			return fmt.Errorf("the server sent no ETag")
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, "", s.fail("get", key, attempts, err)
	}
	return out, etag, nil
}

// PutIfVersion replaces key with data in one PUT carrying If-Match with
// version (an ETag from [Store.GetVersion]), so the server refuses it (HTTP
// 412) when key has been replaced since: of concurrent calls with one
// version at most one succeeds, on a server that honours If-Match on PUT
// (AWS S3 since November 2024, MinIO, SeaweedFS: the conformance suite's
// PutIfVersionRace checks the server under test). The others get an error
// wrapping [storage.ErrChanged]; a missing key is fs.ErrNotExist. Like
// [Store.PutNew] this is not idempotent: when a retry is refused, PutIfVersion
// reads key back and succeeds only if it holds exactly data (an earlier
// attempt of its own whose answer was lost). The stored object is verified
// as [Store.Put] verifies.
func (s *Store) PutIfVersion(ctx context.Context, key string, data []byte, version string) error {
	if err := checkKey(key); err != nil {
		return s.fail("putifversion", key, 0, err)
	}
	if version == "" {
		return s.fail("putifversion", key, 0, errors.New("empty version"))
	}
	sum := md5.Sum(data)
	attempt := 0
	n, err := s.do(ctx, func(ctx context.Context) error {
		attempt++
		err := s.putOnce(ctx, key, data, false, version)
		if err == nil {
			return s.verify(ctx, key, data, sum)
		}
		if !isPrecondition(err) {
			return err
		}
		// Refused: tell a missing key (some servers answer If-Match on one
		// with 412, AWS with 404) from a replaced one, and a replacement
		// by an earlier attempt of ours from one by someone else.
		got, gerr := s.getOnce(ctx, key, 0, -1)
		switch {
		case isNotFound(gerr):
			return fs.ErrNotExist
		case gerr != nil:
			return gerr
		case attempt > 1 && bytes.Equal(got, data):
			return nil // an earlier attempt of ours replaced it
		}
		return storage.ErrChanged
	})
	if err != nil {
		return s.fail("putifversion", key, n, err)
	}
	return nil
}

// Get reads a byte range of key (one ranged GET).
func (s *Store) Get(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, s.fail("get", key, 0, err)
	}
	if off < 0 {
		return nil, s.fail("get", key, 0, fmt.Errorf("negative offset %d", off))
	}
	var out []byte
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		b, err := s.getOnce(ctx, key, off, n)
		out = b
		return err
	})
	if err != nil {
		return nil, s.fail("get", key, attempts, err)
	}
	return out, nil
}

func (s *Store) getOnce(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if n == 0 {
		// A zero-length range cannot be asked for; check existence.
		_, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		return []byte{}, err
	}
	var opts minio.GetObjectOptions
	switch {
	case n > 0:
		if err := opts.SetRange(off, off+n-1); err != nil {
			return nil, err
		}
	case off > 0:
		if err := opts.SetRange(off, 0); err != nil {
			return nil, err
		}
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		if minio.ToErrorResponse(err).Code == "InvalidRange" {
			return []byte{}, nil // off is at or past the end
		}
		return nil, err
	}
	return b, nil
}

// Stat describes key with a HEAD request; for a key that is no object it
// lists key + "/" to tell a prefix ("directory") from nothing.
func (s *Store) Stat(ctx context.Context, key string) (storage.Info, error) {
	if err := checkKey(key); err != nil {
		return storage.Info{}, s.fail("stat", key, 0, err)
	}
	var info storage.Info
	n, err := s.do(ctx, func(ctx context.Context) error {
		oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		if err == nil {
			info = storage.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}
			return nil
		}
		if !isNotFound(err) {
			return err
		}
		// A "directory" exists if any key lies under it: the first listed
		// object (or listing error) decides.
		if oi, ok := <-s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: key + "/", MaxKeys: 1}); ok {
			if oi.Err != nil {
				return oi.Err
			}
			info = storage.Info{Key: key, Dir: true}
			return nil
		}
		return err
	})
	if err != nil {
		return storage.Info{}, s.fail("stat", key, n, err)
	}
	return info, nil
}

// List lists dir + "/" with "/" as the delimiter.
func (s *Store) List(ctx context.Context, dir string) ([]storage.Info, error) {
	prefix := ""
	if dir != "" {
		prefix = strings.TrimSuffix(dir, "/") + "/"
	}
	var out []storage.Info
	n, err := s.do(ctx, func(ctx context.Context) error {
		out = out[:0]
		for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix}) {
			if oi.Err != nil {
				return oi.Err
			}
			if k, ok := strings.CutSuffix(oi.Key, "/"); ok {
				if k+"/" != prefix { // some servers list the prefix itself
					out = append(out, storage.Info{Key: k, Dir: true})
				}
				continue
			}
			out = append(out, storage.Info{Key: oi.Key, Size: oi.Size, ModTime: oi.LastModified})
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("list", dir, n, err)
	}
	return out, nil
}

// Delete removes key (S3 answers a DELETE of a missing key with success).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return s.fail("delete", key, 0, err)
	}
	n, err := s.do(ctx, func(ctx context.Context) error {
		err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
		if isNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return s.fail("delete", key, n, err)
	}
	return nil
}

// MakeBucket creates the bucket if it does not exist.
func (s *Store) MakeBucket(ctx context.Context) error {
	n, err := s.do(ctx, func(ctx context.Context) error {
		err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{})
		if err != nil {
			switch minio.ToErrorResponse(err).Code {
			case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
				return nil
			}
		}
		return err
	})
	if err != nil {
		return &storage.Error{Op: "makebucket", Backend: "s3", Bucket: s.bucket, Err: err, Attempts: n}
	}
	return nil
}

// isNotFound reports whether err is S3's "no such key" (HTTP 404 for a key
// of an existing bucket).
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || (r.StatusCode == http.StatusNotFound && r.Code != "NoSuchBucket")
}

func isPrecondition(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusPreconditionFailed || r.Code == "PreconditionFailed"
}
