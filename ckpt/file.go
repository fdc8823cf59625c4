package ckpt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/storage"
)

// tempFile is the part of *os.File a commit uses; tests substitute faulty
// implementations through hooks.
type tempFile = storage.TempFile

// osFS is the operating system's file-system operations, with the
// platform's strongest data sync (storage.OSFS).
var osFS = storage.OSFS()

// hooks are the file-system operations of a commit (storage.Local does the
// commit through hookFS) and of set-aside, pruning and cleaning. Tests
// replace them to inject faults (ENOSPC, EACCES, EIO) at each step; nothing
// else changes them.
var hooks = struct {
	createTemp func(dir, pattern string) (tempFile, error)
	rename     func(oldpath, newpath string) error
	syncDir    func(dir string) error
	remove     func(name string) error
}{
	createTemp: osFS.CreateTemp,
	rename:     osFS.Rename,
	syncDir:    osFS.SyncDir,
	remove:     osFS.Remove,
}

// hookFS is the storage.LocalFS that performs a commit through hooks.
type hookFS struct{}

func (hookFS) CreateTemp(dir, pattern string) (storage.TempFile, error) {
	return hooks.createTemp(dir, pattern)
}
func (hookFS) Rename(oldpath, newpath string) error { return hooks.rename(oldpath, newpath) }
func (hookFS) Link(oldpath, newpath string) error   { return osFS.Link(oldpath, newpath) }
func (hookFS) SyncDir(dir string) error             { return hooks.syncDir(dir) }
func (hookFS) Remove(name string) error             { return hooks.remove(name) }

// local is the store of local checkpoint files.
var local = storage.Local{FS: hookFS{}}

// filePerm is the permission of committed checkpoint files.
const filePerm = storage.FilePerm

// Save writes c to path atomically and durably. It encodes c (refusing a
// checkpoint that [Load] would reject, with [ErrVersion] or [ErrInvalid]),
// then commits in this order (storage.Local.Put): create a temp file in the
// directory of path (made if missing), write, fsync, close, rename over
// path, fsync the directory. If any step
// fails the temp file is removed, path is left as it was (the previous
// checkpoint of that name, if any, stays intact) and the error, wrapped in an
// *[Error], is returned. A crash at any moment leaves either the old file or
// the new one at path, plus at most a stale temp file that [List] ignores and
// [CleanTemp] removes.
//
// Save does not prune; call [Prune] after it succeeds.
//
// path may be the URL of a registered object store (s3://bucket/key; see
// storage.For): the commit is then one Put of the enveloped checkpoint,
// verified by reading back its length and checksum, with nothing left behind
// when it fails.
func Save(path string, c *ckptpb.Checkpoint) (err error) {
	b, err := encode(c)
	if err != nil {
		return &Error{Op: "save", Path: path, Err: err}
	}
	return commitFile(path, b)
}

// commitFile writes b to path in Save's order (temp file, write, fsync,
// close, rename, fsync the directory); see Save.
func commitFile(path string, b []byte) error {
	if storage.IsURL(path) {
		return putObject(path, b)
	}
	if _, base := filepath.Split(path); base == "" {
		return &Error{Op: "save", Path: path, Err: errors.New("ckpt: path names a directory, not a file")}
	}
	// storage.Local.Put commits in Save's order (temp file, write, fsync,
	// close, rename, fsync the directory) through hooks.
	if err := local.Put(context.Background(), filepath.ToSlash(path), b); err != nil {
		var se *storage.Error
		if errors.As(err, &se) {
			err = se.Err // the path is in the *Error below
		}
		return &Error{Op: "save", Path: path, Err: err}
	}
	return nil
}

// Load reads, verifies and decodes the checkpoint at path. The envelope's
// header and payload checksums are verified before the payload is decoded;
// the decoded content is then checked for consistency. Errors are *[Error]s
// wrapping [ErrNotCheckpoint], [ErrTruncated], [ErrCorrupt], [ErrVersion],
// [ErrInvalid], or the operating system's error (e.g. [fs.ErrNotExist]).
func Load(path string) (*ckptpb.Checkpoint, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, &Error{Op: "load", Path: path, Err: err}
	}
	c, err := decode(b)
	if err != nil {
		return nil, &Error{Op: "load", Path: path, Err: err}
	}
	return c, nil
}

// readFile reads a whole checkpoint file, refusing non-regular files and
// files too large to be a checkpoint without reading them.
func readFile(path string) ([]byte, error) {
	if storage.IsURL(path) {
		return readObject(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("%w: is a directory", ErrNotCheckpoint)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%w: not a regular file (mode %v)", ErrNotCheckpoint, st.Mode())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := st.Size()
	if size > MaxSize {
		hdr := make([]byte, headerLen)
		n, _ := io.ReadFull(f, hdr)
		if _, err := checkHeader(hdr[:n]); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: file has %d bytes, more than any checkpoint", ErrCorrupt, size)
	}
	b := make([]byte, size)
	if n, err := io.ReadFull(f, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			// The file shrank since Stat; judge what is there.
			return b[:n], nil
		}
		return nil, err
	}
	return b, nil
}
