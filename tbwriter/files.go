package tbwriter

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"

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

// tempCleaner is a store whose Put can leave temp files behind when its
// process dies ([storage.Local]); object stores put atomically and leave
// none.
type tempCleaner interface {
	CleanTemp(dir string) error
}

// CleanTemp removes the temp files that interrupted writes of the run's
// projector files left behind (the process died while AddEmbedding replaced
// a file): those in the run directory, where projector_config.pbtxt is
// replaced, and in the embedding directories (<step>/<tag>/, see
// EmbeddingDir), whether or not the config names them yet. Finished files
// are never touched. It removes every temp file of an interrupted
// storage Put in those directories, so call it only when nothing is
// writing into the run: a trainer does when it resumes a run (the temp
// files of an unfinished checkpoint in the run directory go too). A
// missing runDir, or a store that leaves no temp files, is not an error.
func CleanTemp(runDir string) error {
	st, key, err := storage.For(runDir)
	if err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	c, ok := st.(tempCleaner)
	if !ok {
		return nil
	}
	ctx := context.Background()
	steps, err := st.List(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tbwriter: %w", err)
	}
	var errs []error
	if err := c.CleanTemp(key); err != nil {
		errs = append(errs, err)
	}
	for _, s := range steps {
		if !s.Dir || !isStepName(path.Base(s.Key)) {
			continue
		}
		tags, err := st.List(ctx, s.Key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, tag := range tags {
			if tag.Dir {
				if err := c.CleanTemp(tag.Key); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tbwriter: cleaning temp files: %w", err)
	}
	return nil
}

// isStepName reports whether name is the step part of an EmbeddingDir:
// the step, zero-padded to at least 5 digits.
func isStepName(name string) bool {
	if len(name) < 5 {
		return false
	}
	for _, r := range name {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
