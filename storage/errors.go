package storage

import (
	"errors"
	"strconv"

	"github.com/tbtrain/tbtrain/internal/errpath"
)

// Sentinel errors. Errors about one key are *[Error]s wrapping one of these,
// fs.ErrNotExist, fs.ErrExist, or the backend's own error.
var (
	// ErrInvalidKey means a key is empty, ends in "/" or has an empty or
	// "." or ".." element where the store does not allow one.
	ErrInvalidKey = errors.New("storage: invalid key")

	// ErrVerify means an object read back after a Put does not have the
	// length or checksum that was written.
	ErrVerify = errors.New("storage: object read back differs from what was written")

	// ErrChanged means a conditional replace ([Swapper.PutIfVersion]) was
	// refused: the object is no longer the version the caller read.
	ErrChanged = errors.New("storage: object changed since it was read")
)

// Error records a failed operation on one key of a store.
type Error struct {
	Op       string // "put", "putnew", "putifversion", "get", "stat", "list", "delete", "append"
	Backend  string // "local" or "s3"
	Bucket   string // the S3 bucket; "" for local files
	Key      string // the key (a file path for local files)
	Err      error  // the cause
	Attempts int    // requests made, when more than one (retries)
}

// Error implements error. It names the backend's location of the key (a
// path, or s3://bucket/key) so that a message alone says where to look.
func (e *Error) Error() string {
	loc := e.Key
	if e.Backend != "local" {
		loc = e.Backend + "://" + e.Bucket + "/" + e.Key
	}
	cause := e.Err
	if e.Backend == "local" {
		cause = errpath.Bare(cause, e.Key) // the path once, not "stat X: stat X: ..."
	}
	s := e.Op + " " + loc + ": " + cause.Error()
	if e.Attempts > 1 {
		s += " (after " + strconv.Itoa(e.Attempts) + " attempts)"
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

var _ error = (*Error)(nil)
