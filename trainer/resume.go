package trainer

import (
	"context"
	"fmt"
	"sort"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/errpath"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/storage"
)

// Latest is the --resume argument that picks the newest valid checkpoint of
// any run under the log directory.
const Latest = "latest"

// Best is the --resume argument that picks, in the run that Latest picks,
// the epoch-end checkpoint with the highest test accuracy (ckpt.Best: ties
// go to the higher step). --keep-best keeps such checkpoints from pruning.
const Best = "best"

// Locate resolves a --resume target to a loaded checkpoint and its path:
//
//   - a checkpoint file: that file; any error (missing, truncated, corrupt,
//     not a checkpoint) is returned as is, naming the file, with no fallback;
//   - a run directory: the newest checkpoint in it that verifies;
//   - "latest": the newest checkpoint that verifies among all run
//     directories directly under logdir, symbolic links to directories
//     included (newest by the commit time stored in the checkpoint);
//   - "best": in the run "latest" picks, the epoch-end checkpoint with the
//     highest test accuracy.
//
// In the last two cases a checkpoint that fails to verify, or that holds
// non-finite values (a diverged run of an older tbtrain: its loss sum,
// metrics or weights are NaN or infinite; ErrDiverged), is skipped and
// reported in skipped (the caller should warn); if none is usable the error
// wraps ckpt.ErrNoCheckpoint. A file named explicitly is returned as loaded;
// Resume then refuses one with non-finite values, saying why. Locate only reads; the session that resumes
// cleans the run directory (see Trainer.Run).
func Locate(target, logdir string) (c *ckptpb.Checkpoint, path string, skipped []error, err error) {
	switch target {
	case Latest:
		return locateLatest(logdir)
	case Best:
		return locateBest(logdir)
	}
	info, err := storage.Stat(context.Background(), target)
	if err != nil {
		return nil, "", nil, fmt.Errorf("trainer: --resume %s: %w", target, aboutTarget(err, target))
	}
	if !info.Dir {
		c, err := ckpt.Load(target)
		if err != nil {
			return nil, "", nil, fmt.Errorf("trainer: --resume %s: %w (--resume %s takes the newest valid checkpoint of that run)",
				target, aboutTarget(err, target), storage.Dir(target))
		}
		return c, target, nil, nil
	}
	c, path, skipped, err = ckpt.NewestFunc(target, checkFinite)
	if err != nil {
		return nil, "", skipped, fmt.Errorf("trainer: --resume %s: %w", target, aboutTarget(err, target))
	}
	return c, path, skipped, nil
}

func locateLatest(logdir string) (*ckptpb.Checkpoint, string, []error, error) {
	// The store's List follows symbolic links to directories (a linked
	// run directory is a run, for TensorBoard too); on S3 a run is a
	// prefix.
	st, key, err := storage.For(logdir)
	if err != nil {
		return nil, "", nil, fmt.Errorf("trainer: --resume latest: %w", err)
	}
	ents, err := st.List(context.Background(), key)
	if err != nil {
		return nil, "", nil, fmt.Errorf("trainer: --resume latest: %w", err)
	}
	var dirs []string
	for _, e := range ents {
		if e.Dir {
			dirs = append(dirs, storage.Join(logdir, e.Name()))
		}
	}
	sort.Strings(dirs)
	var (
		best     *ckptpb.Checkpoint
		bestPath string
		skipped  []error
	)
	for _, d := range dirs {
		c, path, sk, err := ckpt.NewestFunc(d, checkFinite)
		skipped = append(skipped, sk...)
		if err != nil {
			continue // no valid checkpoint in d (or d unreadable)
		}
		if best == nil || c.GetUnixNano() >= best.GetUnixNano() {
			best, bestPath = c, path
		}
	}
	if best == nil {
		return nil, "", skipped, fmt.Errorf("trainer: --resume latest: %w under %s", ckpt.ErrNoCheckpoint, logdir)
	}
	return best, bestPath, skipped, nil
}

// aboutTarget prepares err, an error about the --resume target, for a
// message that already names target: a *ckpt.Error, a local *storage.Error
// or an operating-system error about target itself is reduced to its cause, so that the path is
// named once. The chain (errors.Is, errors.As) is unchanged.
func aboutTarget(err error, target string) error {
	switch e := err.(type) {
	case *ckpt.Error:
		if e.Path == target {
			return errpath.Reword(err, errpath.Bare(e.Err, target).Error())
		}
	case *storage.Error:
		if e.Backend == "local" && e.Key == target {
			return errpath.Reword(err, errpath.Bare(e.Err, target).Error())
		}
	}
	return errpath.Bare(err, target)
}

func locateBest(logdir string) (*ckptpb.Checkpoint, string, []error, error) {
	newest, path, skipped, err := locateLatest(logdir)
	if err != nil {
		return nil, "", skipped, fmt.Errorf("trainer: --resume best: %w", err)
	}
	dir := storage.Dir(path)
	list, err := ckpt.List(dir)
	if err != nil {
		return nil, "", skipped, fmt.Errorf("trainer: --resume best: %w", err)
	}
	for _, e := range ckpt.Best(list, newest.GetRunId(), len(list)) {
		c, err := ckpt.Load(e.Path)
		if err == nil {
			if ferr := checkFinite(c); ferr != nil {
				err = &ckpt.Error{Op: "load", Path: e.Path, Err: ferr}
			}
		}
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		return c, e.Path, skipped, nil
	}
	return nil, "", skipped, fmt.Errorf("trainer: --resume best: %w: the newest run, %s, has no epoch-end checkpoint to rank by test accuracy",
		ckpt.ErrNoCheckpoint, dir)
}
