package trainer

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

// newRunID returns a new run identity: 128 random bits as 32 lowercase hex
// digits (the size of a random UUID, without its layout).
func newRunID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("trainer: making a run ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// RunLabel describes a run ID for people: the ID, or a note that the
// checkpoint predates run IDs.
func RunLabel(id string) string {
	if id == "" {
		return "(no run ID: written before run IDs)"
	}
	return id
}

// checkEpochs returns an error if epochs would end the run before the
// epochs the checkpoint c (read from path) has completed or begun: the steps
// trained in a begun epoch would be dropped and the run called finished.
func checkEpochs(c *ckptpb.Checkpoint, path string, epochs int64) error {
	least, started := c.GetEpoch(), ""
	if c.GetBatchInEpoch() > 0 {
		least++
		started = fmt.Sprintf(" and %d batches of the next", c.GetBatchInEpoch())
	}
	if epochs < least {
		return fmt.Errorf("trainer: --epochs %d: the checkpoint %s has already completed %d epochs%s; "+
			"pass --epochs %d or more", epochs, path, c.GetEpoch(), started, least)
	}
	return nil
}

// checkOneRun returns an *OtherRunsError if dir holds valid checkpoints
// whose run ID is not run. Files that do not verify are not counted: they
// are never touched either.
func checkOneRun(dir, path, run string) error {
	_, err := listOneRun(dir, path, run)
	return err
}

// listOneRun is checkOneRun that also returns the listing of dir.
func listOneRun(dir, path, run string) ([]ckpt.Entry, error) {
	list, err := ckpt.List(dir)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	byID := map[string]*OtherRun{}
	for _, e := range list {
		if !e.Valid() || e.RunID == run {
			continue
		}
		o := byID[e.RunID]
		if o == nil {
			o = &OtherRun{ID: e.RunID}
			byID[e.RunID] = o
		}
		o.Checkpoints++
		o.Newest = e.Path // List orders valid entries oldest to newest
	}
	if len(byID) == 0 {
		return list, nil
	}
	oe := &OtherRunsError{Dir: dir, Checkpoint: path, Run: run}
	for _, o := range byID {
		oe.Others = append(oe.Others, *o)
	}
	slices.SortFunc(oe.Others, func(a, b OtherRun) int { return strings.Compare(a.ID, b.ID) })
	return nil, oe
}
