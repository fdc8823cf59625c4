package ckpt

// This file holds what differs when a checkpoint's location is a URL of an
// object store (s3://bucket/key, see storage.For) rather than a local path.
// A PUT is atomic there (the object is whole or absent), so a commit is one
// verified Put of the enveloped checkpoint: no temp file, no rename, nothing
// for CleanTemp to sweep. Set-aside copies and deletes, because objects
// cannot be renamed.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/tbtrain/tbtrain/storage"
)

// join joins a directory location and a file name.
func locJoin(dir, name string) string {
	if storage.IsURL(dir) {
		return storage.Join(dir, name)
	}
	return filepath.Join(dir, name)
}

// putObject stores b at the URL path with one verified Put.
func putObject(path string, b []byte) error {
	st, key, err := storage.For(path)
	if err != nil {
		return &Error{Op: "save", Path: path, Err: err}
	}
	if err := st.Put(context.Background(), key, b); err != nil {
		return &Error{Op: "save", Path: path, Err: err}
	}
	return nil
}

// readObject reads a whole checkpoint object, refusing one too large to be
// a checkpoint after reading only its header.
func readObject(path string) ([]byte, error) {
	st, key, err := storage.For(path)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	info, err := st.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if info.Dir {
		return nil, fmt.Errorf("%w: is a directory (a prefix with objects below it)", ErrNotCheckpoint)
	}
	if info.Size > MaxSize {
		hdr, err := st.Get(ctx, key, 0, headerLen)
		if err != nil {
			return nil, err
		}
		if _, err := checkHeader(hdr); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: object has %d bytes, more than any checkpoint", ErrCorrupt, info.Size)
	}
	return st.Get(ctx, key, 0, MaxSize)
}

// dirEntry is a file of a directory as List needs it.
type dirEntry struct {
	name string
	size int64
}

// listObjects returns the objects directly under the URL dir.
func listObjects(dir string) ([]dirEntry, error) {
	st, key, err := storage.For(dir)
	if err != nil {
		return nil, err
	}
	list, err := st.List(context.Background(), key)
	if err != nil {
		return nil, err
	}
	var out []dirEntry
	for _, i := range list {
		if !i.Dir {
			out = append(out, dirEntry{name: i.Name(), size: i.Size})
		}
	}
	return out, nil
}

// removeObject deletes the object at the URL path; a missing one is not an
// error.
func removeObject(path string) error {
	st, key, err := storage.For(path)
	if err != nil {
		return err
	}
	return st.Delete(context.Background(), key)
}

// exists reports whether the object at the URL path exists.
func existsObject(path string) (bool, error) {
	_, err := storage.Stat(context.Background(), path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// moveObject "renames" from to to on an object store: copy, then delete. A
// crash between the two leaves both, and the set-aside record still names
// the move, so the next SetAside finds From present and To too; it then
// keeps the copy and deletes From.
func moveObject(from, to string) error {
	st, fromKey, err := storage.For(from)
	if err != nil {
		return err
	}
	_, toKey, err := storage.For(to)
	if err != nil {
		return err
	}
	ctx := context.Background()
	b, err := st.Get(ctx, fromKey, 0, MaxSize)
	if err != nil {
		return err
	}
	if err := st.Put(ctx, toKey, b); err != nil {
		return err
	}
	return st.Delete(ctx, fromKey)
}

// sameObject reports whether the objects at a and b hold the same bytes.
func sameObject(a, b string) bool {
	ra, err1 := readObject(a)
	rb, err2 := readObject(b)
	return err1 == nil && err2 == nil && string(ra) == string(rb)
}
