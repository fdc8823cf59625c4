package storage

import (
	"context"
	"io"
	"time"
)

// Store is where checkpoints and event files go: a namespace of objects
// addressed by slash-separated keys. It is the interface ckpt, tbwriter and
// the trainer program against; [Local] (files) and s3store.Store (S3 objects)
// implement it. Each method documents what is true when it returns nil; the
// package documentation says what is durable when, per backend.
//
// Keys are slash-separated and never empty. For [Local] a key is a file path
// (relative to the working directory or absolute); for S3 it is the object
// key inside the bucket. Errors are *[Error]s naming the backend, bucket and
// key; a missing object wraps [io/fs.ErrNotExist] and an object that
// [Store.PutNew] finds already there wraps [io/fs.ErrExist].
type Store interface {
	// Put stores data as the whole content of key, replacing what was
	// there. It is atomic: a reader, a crash or a failure sees the old
	// content or the new, never a mix or a prefix. When Put returns nil the
	// new content is durable.
	Put(ctx context.Context, key string, data []byte) error

	// PutNew is Put that fails, wrapping fs.ErrExist, when key already
	// exists: of two concurrent PutNew calls on one key at most one
	// succeeds. Stores that cannot guarantee this say so in their doc.
	PutNew(ctx context.Context, key string, data []byte) error

	// Get returns up to n bytes of key's content starting at byte off
	// (n < 0: to the end). Fewer than n bytes means the content ends
	// there; off beyond the end gives an empty result.
	Get(ctx context.Context, key string, off, n int64) ([]byte, error)

	// Stat describes key. A key that is no object but has objects under
	// key + "/" is reported with Dir set.
	Stat(ctx context.Context, key string) (Info, error)

	// List returns what lies directly under dir ("" for the top): the
	// objects whose key is dir + "/" + name, and, with Dir set, the names
	// that have more below them. Entries are sorted by key. A dir with
	// nothing under it gives an empty list for S3 and fs.ErrNotExist for a
	// missing local directory.
	List(ctx context.Context, dir string) ([]Info, error)

	// Delete removes key. Removing a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// Location returns key as a user would write it on a command line: a
	// file path, or s3://bucket/key.
	Location(key string) string
}

// Swapper is implemented by stores that can replace an object only if it is
// still the version the caller read (compare-and-swap): s3store.Store, with
// If-Match on the object's ETag. The trainer's run lease on an object store
// needs it to take a lapsed lease over safely: of two trainers that find
// the same lapsed lease, one replaces it and the other is refused. [Local]
// does not implement it (local runs are guarded by an OS lock instead).
type Swapper interface {
	// GetVersion returns the whole content of key and its version, an
	// opaque string that changes whenever the object is replaced.
	GetVersion(ctx context.Context, key string) (data []byte, version string, err error)

	// PutIfVersion replaces key with data if key is still at version: of
	// concurrent calls with one version at most one succeeds, the others
	// fail wrapping [ErrChanged]. A missing key fails wrapping
	// fs.ErrNotExist. On success the new content is durable as after
	// [Store.Put].
	PutIfVersion(ctx context.Context, key string, data []byte, version string) error
}

// Appender is implemented by stores whose objects can grow in place: [Local]
// files. An event writer appends to one file per session where it can, and
// otherwise writes each flush as a new object with [Store.Put].
type Appender interface {
	// Append creates key exclusively (an existing key is an error wrapping
	// fs.ErrExist) and returns the file to append to.
	Append(ctx context.Context, key string) (AppendFile, error)
}

// AppendFile is a file being appended to. Data written is durable once Sync
// returns nil.
type AppendFile interface {
	io.Writer
	// Sync flushes what was written to stable storage.
	Sync() error
	// Close closes the file; it does not sync.
	Close() error
}

// Info describes an object (or, with Dir set, a directory or common prefix).
type Info struct {
	Key     string    // the full key
	Size    int64     // bytes; 0 for a Dir
	ModTime time.Time // last modification (S3: upload time); zero for an S3 Dir
	Dir     bool      // a directory (local) or a prefix with objects below it (S3)
}

// Name returns the last element of the key.
func (i Info) Name() string {
	k := i.Key
	for j := len(k) - 1; j >= 0; j-- {
		if k[j] == '/' {
			return k[j+1:]
		}
	}
	return k
}
