package ckpt

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tbtrain/tbtrain/internal/errpath"
	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/storage"
)

// tempFile is the part of *os.File a commit uses; tests substitute faulty
// implementations through hooks.
type tempFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
	Name() string
}

// osFile is the real tempFile: an *os.File whose Sync is the platform's
// strongest data sync (see syncFile in sync_*.go).
type osFile struct{ *os.File }

func (f osFile) Sync() error { return syncFile(f.File) }

var _ tempFile = osFile{}

// hooks are the file-system operations of a commit. Tests replace them to
// inject faults (ENOSPC, EACCES, EIO) at each step; nothing else changes them.
var hooks = struct {
	createTemp func(dir, pattern string) (tempFile, error)
	rename     func(oldpath, newpath string) error
	syncDir    func(dir string) error
	remove     func(name string) error
}{
	createTemp: func(dir, pattern string) (tempFile, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		// CreateTemp makes the file 0600; a checkpoint is no secret, so give
		// it the usual permissions of a data file.
		if err := f.Chmod(filePerm); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		return osFile{f}, nil
	},
	rename:  os.Rename,
	syncDir: syncDir,
	remove:  os.Remove,
}

// filePerm is the permission of committed checkpoint files.
const filePerm fs.FileMode = 0o644

// Temp files are named "." + <final name> + ".tmp-" + <digits>: hidden, never
// ending in ".ckpt", and recognisable by CleanTemp.
const (
	tempPrefix = "."
	tempInfix  = ".tmp-"
)

// Save writes c to path atomically and durably. It encodes c (refusing a
// checkpoint that [Load] would reject, with [ErrVersion] or [ErrInvalid]),
// then commits in this order: create a temp file in the directory of path,
// write, fsync, close, rename over path, fsync the directory. If any step
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
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return &Error{Op: "save", Path: path, Err: errors.New("ckpt: path names a directory, not a file")}
	}
	f, err := hooks.createTemp(dir, tempPrefix+base+tempInfix+"*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return &Error{Op: "save", Path: path, Err: fmt.Errorf("creating temp file %s: %w", pe.Path, errpath.Bare(err, pe.Path))}
		}
		return &Error{Op: "save", Path: path, Err: fmt.Errorf("creating temp file: %w", err)}
	}
	closed, committed := false, false
	defer func() {
		if committed {
			return
		}
		if !closed {
			f.Close()
		}
		hooks.remove(f.Name())
	}()
	fail := func(step string, err error) error {
		return &Error{Op: "save", Path: path, Err: fmt.Errorf("%s temp file %s: %w", step, f.Name(), errpath.Bare(err, f.Name(), path))}
	}

	if err := write(f, b); err != nil {
		return fail("writing", err)
	}
	if err := f.Sync(); err != nil {
		return fail("syncing", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fail("closing", err)
	}
	if err := hooks.rename(f.Name(), path); err != nil {
		return fail("renaming", err)
	}
	committed = true
	if err := hooks.syncDir(dir); err != nil {
		return &Error{Op: "save", Path: path, Err: fmt.Errorf("syncing directory %s after rename: %w", dir, errpath.Bare(err, dir, filepath.Clean(dir)))}
	}
	return nil
}

// write writes b to f, pausing in the middle when a crash test has set the
// commit delay (internal/faultinject; never set outside tests).
func write(f tempFile, b []byte) error {
	if d := faultinject.CommitDelay(); d > 0 {
		half := len(b) / 2
		if _, err := f.Write(b[:half]); err != nil {
			return err
		}
		time.Sleep(d)
		b = b[half:]
	}
	_, err := f.Write(b)
	return err
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
