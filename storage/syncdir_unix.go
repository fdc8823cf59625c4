//go:build unix

package storage

import (
	"errors"
	"os"
	"syscall"
)

// syncDir fsyncs a directory so that a rename or creation inside it is
// durable (POSIX makes directory entries durable only through an fsync of
// the directory; etcd's fileutil.Fsync on the WAL directory, raft's
// FileSnapshotSink.Close do the same). File systems that cannot sync a
// directory (fsync(2) documents EINVAL for such files; some FUSE and network
// file systems answer ENOTSUP) get no directory sync rather than a failed
// commit: the rename itself has happened.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
