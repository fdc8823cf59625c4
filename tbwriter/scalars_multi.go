package tbwriter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tbtrain/tbtrain/storage"
)

// AddScalars logs several scalars under one chart, as PyTorch's add_scalars
// does: each key gets its own sub-run directory beside the event file,
// <run>/<mainTag>_<key> (with '/' in mainTag replaced by '_', as PyTorch
// does), holding the value under tag mainTag. TensorBoard then draws one
// line per sub-run in the chart mainTag.
//
// Each sub-run is an event file of its own with the same contract as the
// parent's: file_version, a SessionLog START at Options.StartStep, resume
// and purge rules unchanged. Its writer is created on the key's first use,
// flushed by the parent's Flush, fsynced by Sync and closed by Close.
// Every value of one call has the same wall time. Values are written in key
// order; NaN and ±Inf are stored as they are.
//
// Keys may not contain '/', '\\' or NUL (they name a directory); values
// must not be empty. AddScalars needs a Writer from Create.
func (w *Writer) AddScalars(mainTag string, step int64, values map[string]float32) error {
	if w.path == "" {
		return fmt.Errorf("tbwriter: AddScalars %q: %w", mainTag, ErrNoRunDir)
	}
	if !utf8.ValidString(mainTag) || strings.ContainsRune(mainTag, 0) {
		return fmt.Errorf("tbwriter: AddScalars: main tag %q is not valid UTF-8 without NUL", mainTag)
	}
	if len(values) == 0 {
		return fmt.Errorf("tbwriter: AddScalars %q: no values", mainTag)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		if !utf8.ValidString(k) || strings.ContainsAny(k, "/\\\x00") {
			return fmt.Errorf("tbwriter: AddScalars %q: key %q must be valid UTF-8 without '/', '\\\\' or NUL (it names a directory)", mainTag, k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wall, err := w.stamp()
	if err != nil {
		return err
	}
	if err := w.stickyErr(); err != nil {
		return err
	}
	if w.q.isClosed() {
		return ErrClosed
	}
	runDir := storage.Dir(w.path)
	prefix := strings.ReplaceAll(mainTag, "/", "_") + "_"
	subs := make([]*Writer, len(keys))
	for i, k := range keys {
		s, err := w.subs.get(storage.Join(runDir, prefix+k), w.opts)
		if err != nil {
			return err
		}
		subs[i] = s
	}
	for i, k := range keys {
		if err := subs[i].kinds.claimScalar(mainTag); err != nil {
			return err
		}
		if err := subs[i].enqueue(item{kind: kindScalar, tag: mainTag, step: step, value: values[k], wall: wall}); err != nil {
			return err
		}
	}
	return nil
}

// ScalarsRunName returns the sub-run directory name (relative to the run)
// that AddScalars uses for mainTag and key.
func ScalarsRunName(mainTag, key string) string {
	return strings.ReplaceAll(mainTag, "/", "_") + "_" + key
}

// subRuns holds the AddScalars writers of a Writer, by directory.
type subRuns struct {
	mu     sync.Mutex
	m      map[string]*Writer
	closed bool
}

// get returns the writer of dir, creating the directory and the writer on
// first use.
func (s *subRuns) get(dir string, opts Options) (*Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if w, ok := s.m[dir]; ok {
		return w, nil
	}
	w, err := Create(dir, opts) // makes dir
	if err != nil {
		return nil, err
	}
	if s.m == nil {
		s.m = make(map[string]*Writer)
	}
	s.m[dir] = w
	return w, nil
}

// list returns the writers in directory order.
func (s *subRuns) list() []*Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	dirs := make([]string, 0, len(s.m))
	for d := range s.m {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	ws := make([]*Writer, len(dirs))
	for i, d := range dirs {
		ws[i] = s.m[d]
	}
	return ws
}

// each calls f on every writer and joins the errors.
func (s *subRuns) each(f func(*Writer) error) error {
	var errs []error
	for _, w := range s.list() {
		errs = append(errs, f(w))
	}
	return errors.Join(errs...)
}

// closeAll refuses new sub-runs and closes every writer.
func (s *subRuns) closeAll() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return s.each((*Writer).Close)
}
