//go:build unix

package ckpt

import "os"

// syncDir fsyncs a directory so that a rename or creation inside it is
// durable (POSIX makes directory entries durable only through an fsync of
// the directory; etcd's fileutil.Fsync on the WAL directory, raft's
// FileSnapshotSink.Close do the same).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
