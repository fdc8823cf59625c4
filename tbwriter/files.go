package tbwriter

import (
	"context"
	"fmt"

	"github.com/tbtrain/tbtrain/storage"
)

// runFiles is how tbwriter reads and writes the files it keeps beside a
// run's event files (the projector config and the embedding assets). It is
// the only place those files are touched; they go through the run
// directory's storage.Store (local files, or objects for an s3:// dir).
// Names are slash-separated and relative to dir.
type runFiles struct {
	dir string
}

func (f runFiles) store(name string) (storage.Store, string, error) {
	st, key, err := storage.For(storage.Join(f.dir, name))
	if err != nil {
		return nil, "", fmt.Errorf("tbwriter: %w", err)
	}
	return st, key, nil
}

// read returns the contents of name; a missing file is an error matching
// fs.ErrNotExist.
func (f runFiles) read(name string) ([]byte, error) {
	st, key, err := f.store(name)
	if err != nil {
		return nil, err
	}
	return st.Get(context.Background(), key, 0, -1)
}

// put replaces name with data atomically: a reader sees the old file or
// the new one, never part of one ([storage.Store.Put]: for local files a
// temp file in the same directory, fsynced, renamed over name, directory
// fsynced; missing parent directories are created).
func (f runFiles) put(name string, data []byte) error {
	st, key, err := f.store(name)
	if err != nil {
		return err
	}
	if err := st.Put(context.Background(), key, data); err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	return nil
}

// remove deletes name; a missing file is not an error.
func (f runFiles) remove(name string) error {
	st, key, err := f.store(name)
	if err != nil {
		return err
	}
	if err := st.Delete(context.Background(), key); err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	return nil
}
