package ckpt

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/storage"
)

// Ext is the file name extension of checkpoint files; [List] considers only
// names ending in it.
const Ext = ".ckpt"

// Entry describes one checkpoint file of a directory.
type Entry struct {
	Path         string // file path (directory joined with the name)
	Model        string // Checkpoint.model
	Epoch        int64  // Checkpoint.epoch: the epoch training resumes in
	Step         int64  // Checkpoint.global_step
	BatchInEpoch int64  // Checkpoint.batch_in_epoch
	UnixNano     int64  // Checkpoint.unix_nano: when it was committed
	RunID        string // Checkpoint.run_id: the run it belongs to ("" if written before run IDs)
	Aside        bool   // named by an unfinished SetAside: being set aside, never the newest
	// EpochEnd is true for a checkpoint at an epoch boundary after at
	// least one finished epoch (batch_in_epoch 0, history not empty);
	// TestAcc is then the test accuracy of that last finished epoch.
	EpochEnd bool
	TestAcc  float64
	Size     int64 // file size in bytes
	Err      error // nil if the file verifies; else why not (an *Error), and the fields above except Path and Size are zero
}

// Valid reports whether the file verified.
func (e Entry) Valid() bool { return e.Err == nil }

// List returns every file in dir whose name ends in [Ext], each fully verified
// as [Load] would. Temp files of a commit in progress or interrupted never
// end in Ext and are skipped. Files that fail to verify come first, in name
// order, with Err set; the valid ones follow, oldest to newest: ordered by
// global step, then commit time, then name. The error is non-nil only if dir
// cannot be read.
func List(dir string) ([]Entry, error) {
	ents, err := readDir(dir)
	if err != nil {
		return nil, &Error{Op: "list", Path: dir, Err: err}
	}
	pending, err := PendingAside(dir)
	if err != nil {
		return nil, err
	}
	aside := map[string]bool{}
	for _, m := range pending {
		aside[m.From] = true
	}
	var bad, good []Entry
	for _, de := range ents {
		name := de.name
		if !strings.HasSuffix(name, Ext) || IsTemp(name) {
			continue
		}
		e := Entry{Path: locJoin(dir, name), Aside: aside[name], Size: de.size}
		c, err := Load(e.Path)
		if err != nil {
			e.Err = err
			bad = append(bad, e)
			continue
		}
		e.Model, e.Epoch, e.Step, e.BatchInEpoch, e.UnixNano, e.RunID =
			c.GetModel(), c.GetEpoch(), c.GetGlobalStep(), c.GetBatchInEpoch(), c.GetUnixNano(), c.GetRunId()
		if h := c.GetHistory(); c.GetBatchInEpoch() == 0 && len(h) > 0 {
			e.EpochEnd, e.TestAcc = true, h[len(h)-1].GetTestAcc()
		}
		good = append(good, e)
	}
	slices.SortStableFunc(good, func(a, b Entry) int {
		if a.Step != b.Step {
			return cmpInt(a.Step, b.Step)
		}
		if a.UnixNano != b.UnixNano {
			return cmpInt(a.UnixNano, b.UnixNano)
		}
		return strings.Compare(a.Path, b.Path)
	})
	return append(bad, good...), nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Newest returns the newest checkpoint of dir that verifies (the last valid
// entry of [List] that is not Aside) and its path. Every checkpoint file that
// fails to verify is reported in skipped (as an *[Error] naming it), whether
// it is older or newer than the one returned, so the caller can warn. If no
// file verifies, err wraps [ErrNoCheckpoint]; if dir cannot be read, err says
// why.
func Newest(dir string) (c *ckptpb.Checkpoint, path string, skipped []error, err error) {
	return NewestFunc(dir, nil)
}

// NewestFunc is [Newest] with a further test: it returns the newest
// checkpoint that verifies and that accept (if not nil) accepts. A
// checkpoint accept rejects is skipped, and reported in skipped as an
// *[Error] naming the file and wrapping accept's error.
func NewestFunc(dir string, accept func(*ckptpb.Checkpoint) error) (c *ckptpb.Checkpoint, path string, skipped []error, err error) {
	list, err := List(dir)
	if err != nil {
		return nil, "", nil, err
	}
	for _, e := range list {
		if e.Err != nil {
			skipped = append(skipped, e.Err)
		}
	}
	// Load again from the newest down: a file may have changed since List
	// verified it, and the caller must get exactly what verified.
	for i := len(list) - 1; i >= 0 && list[i].Err == nil; i-- {
		if list[i].Aside {
			continue
		}
		c, err := Load(list[i].Path)
		if err == nil && accept != nil {
			if aerr := accept(c); aerr != nil {
				err = &Error{Op: "load", Path: list[i].Path, Err: aerr}
			}
		}
		if err == nil {
			return c, list[i].Path, skipped, nil
		}
		skipped = append(skipped, err)
	}
	return nil, "", skipped, &Error{Op: "load", Path: dir, Err: fmt.Errorf("%w in the directory (%d unusable files)", ErrNoCheckpoint, len(skipped))}
}

// PruneOptions say which checkpoints [Prune] keeps.
type PruneOptions struct {
	// Run is the run ID whose checkpoints are pruned ("" for checkpoints
	// written before run IDs); checkpoints of other runs are never
	// touched.
	Run string
	// Keep is how many of the run's newest checkpoints (by [List] order)
	// stay; 0 or less keeps everything.
	Keep int
	// Best is how many of the run's epoch-end checkpoints with the highest
	// test accuracy (see [Best]) stay in addition; 0 keeps none for that
	// reason.
	Best int
}

// Prune deletes the older valid checkpoints of run o.Run in dir so that the
// newest o.Keep of that run remain, and, in addition, its o.Best best
// epoch-end checkpoints ([Best]). Checkpoints of other runs are never
// touched: a directory that holds copies of several runs' files loses none
// of theirs. Within the run it never deletes the newest valid checkpoint,
// nor the most recently committed one (highest unix_nano: after a resume
// from an older checkpoint, the file just written may have a lower step than
// stale ones from the abandoned timeline), and it never touches files that
// fail to verify, files being set aside ([SetAside]) or temp files: those
// are evidence, a decision in progress or a commit in progress. o.Keep <= 0
// means keep everything. Call it only after a successful [Save].
func Prune(dir string, o PruneOptions) error {
	keep := o.Keep
	if keep <= 0 {
		return nil
	}
	list, err := List(dir)
	if err != nil {
		return &Error{Op: "prune", Path: dir, Err: errors.Unwrap(err)}
	}
	var valid []Entry
	latest := -1
	for _, e := range list {
		if e.Err != nil || e.RunID != o.Run || e.Aside {
			continue
		}
		valid = append(valid, e)
		if latest < 0 || e.UnixNano >= valid[latest].UnixNano { // ties: the later in List order
			latest = len(valid) - 1
		}
	}
	best := map[string]bool{}
	for _, e := range Best(valid, o.Run, o.Best) {
		best[e.Path] = true
	}
	var errs []error
	for i := 0; i < len(valid)-keep; i++ {
		if i == latest || best[valid[i].Path] {
			continue
		}
		if err := removeFile(valid[i].Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, &Error{Op: "prune", Path: valid[i].Path, Err: err})
		}
	}
	return errors.Join(errs...)
}

// Best returns the n best epoch-end checkpoints of run among list (valid,
// not Aside, EpochEnd, with a finite test accuracy), best first: by test
// accuracy, then the higher global step (more training for the same
// accuracy), then the later commit. n <= 0 returns none.
func Best(list []Entry, run string, n int) []Entry {
	if n <= 0 {
		return nil
	}
	var c []Entry
	for _, e := range list {
		if e.Err == nil && !e.Aside && e.EpochEnd && e.RunID == run && !math.IsNaN(e.TestAcc) && !math.IsInf(e.TestAcc, 0) {
			c = append(c, e)
		}
	}
	slices.SortStableFunc(c, func(a, b Entry) int {
		switch {
		case a.TestAcc != b.TestAcc:
			if a.TestAcc > b.TestAcc {
				return -1
			}
			return 1
		case a.Step != b.Step:
			return -cmpInt(a.Step, b.Step)
		}
		return -cmpInt(a.UnixNano, b.UnixNano)
	})
	return c[:min(n, len(c))]
}

// CleanTemp removes the temp files that interrupted [Save] calls left in dir.
// Only one process may save into a directory at a time: CleanTemp would also
// remove the temp file of a commit in progress (which then fails cleanly,
// leaving the previous checkpoint in place).
//
// An object store (a URL dir) has no temp files: a Put is atomic there.
func CleanTemp(dir string) error {
	if storage.IsURL(dir) {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return &Error{Op: "clean", Path: dir, Err: err}
	}
	var errs []error
	for _, de := range ents {
		if !IsTemp(de.Name()) || !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		if err := hooks.remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, &Error{Op: "clean", Path: p, Err: err})
		}
	}
	return errors.Join(errs...)
}

// IsTemp reports whether a file name (without directory) is that of a temp
// file of [Save]: "." + final name + ".tmp-" + decimal digits. Save commits
// through storage.Local, whose temp files these are ([storage.IsTemp]).
func IsTemp(name string) bool { return storage.IsTemp(name) }

// ParamShape names one expected parameter for [CheckModel].
type ParamShape struct {
	Name  string
	Shape []int
}

// CheckModel reports, as an error wrapping [ErrModel], whether c was written
// for a different model than the caller's: another model name, or parameters
// whose names, order or shapes differ from want. It does not look at values.
func CheckModel(c *ckptpb.Checkpoint, model string, want []ParamShape) error {
	if c.GetModel() != model {
		return fmt.Errorf("%w: model %q, want %q", ErrModel, c.GetModel(), model)
	}
	got := c.GetParams()
	if len(got) != len(want) {
		return fmt.Errorf("%w: %d parameter tensors, want %d", ErrModel, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		same := g.GetName() == w.Name && len(g.GetShape()) == len(w.Shape)
		for j := 0; same && j < len(w.Shape); j++ {
			same = g.GetShape()[j] == int64(w.Shape[j])
		}
		if !same {
			return fmt.Errorf("%w: parameter %d is %s %v, want %s %v", ErrModel, i, g.GetName(), g.GetShape(), w.Name, w.Shape)
		}
	}
	return nil
}

// readDir returns the names and sizes of the files of dir (a local
// directory, following symbolic links as os.ReadDir's Info does not, or the
// URL of an object store's prefix).
func readDir(dir string) ([]dirEntry, error) {
	if storage.IsURL(dir) {
		return listObjects(dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]dirEntry, 0, len(ents))
	for _, de := range ents {
		e := dirEntry{name: de.Name()}
		if info, err := de.Info(); err == nil {
			e.size = info.Size()
		}
		out = append(out, e)
	}
	return out, nil
}

// removeFile deletes a checkpoint file or object.
func removeFile(path string) error {
	if storage.IsURL(path) {
		return removeObject(path)
	}
	return hooks.remove(path)
}
