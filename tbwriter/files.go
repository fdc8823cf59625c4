package tbwriter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// runFiles is how tbwriter reads and writes the files it keeps beside a
// run's event files (the projector config and the embedding assets). It is
// the only place those files are touched, so that another storage can take
// its place. Names are slash-separated and relative to dir.
type runFiles struct {
	dir string
}

// read returns the contents of name; a missing file is an error matching
// fs.ErrNotExist.
func (f runFiles) read(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(name)))
}

// put replaces name with data atomically: a reader sees the old file or
// the new one, never part of one. It writes a temporary file in the same
// directory, fsyncs and closes it, renames it over name and fsyncs the
// directory (the commit order of package ckpt). Missing parent directories
// are created.
func (f runFiles) put(name string, data []byte) (err error) {
	path := filepath.Join(f.dir, filepath.FromSlash(name))
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("tbwriter: write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("tbwriter: sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tbwriter: close %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	return syncDir(dir)
}

// remove deletes name; a missing file is not an error.
func (f runFiles) remove(name string) error {
	err := os.Remove(filepath.Join(f.dir, filepath.FromSlash(name)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tbwriter: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("tbwriter: sync %s: %w", dir, err)
	}
	return nil
}
