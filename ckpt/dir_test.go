package ckpt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// messyDir builds a run directory with valid checkpoints at steps 10, 20, 30
// (committed in that order), a corrupt one claiming to be newest, a stale temp
// file, a directory with the checkpoint extension and a foreign file.
func messyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, s := range []int64{20, 10, 30} { // save order differs from step order
		mustSave(t, filepath.Join(dir, name(s)), sample(s, false))
	}
	bad := mustEncode(t, sample(40, false))
	bad[len(bad)/2] ^= 0xff
	writeFile(t, filepath.Join(dir, name(40)), bad)
	writeFile(t, filepath.Join(dir, "."+name(50)+".tmp-12345"), mustEncode(t, sample(50, false))[:100])
	if err := os.Mkdir(filepath.Join(dir, "weird.ckpt"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "events.out.tfevents.1.host"), []byte("not ours"))
	return dir
}

func name(step int64) string { return fmt.Sprintf("LenetMnist0-step%d.ckpt", step) }

func TestList(t *testing.T) {
	dir := messyDir(t)
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name  string
		Step  int64
		Valid bool
	}
	var got []row
	for _, e := range list {
		got = append(got, row{filepath.Base(e.Path), e.Step, e.Valid()})
	}
	want := []row{
		{name(40), 0, false},
		{"weird.ckpt", 0, false},
		{name(10), 10, true},
		{name(20), 20, true},
		{name(30), 30, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if !errors.Is(list[0].Err, ErrCorrupt) || !errors.Is(list[1].Err, ErrNotCheckpoint) {
		t.Errorf("invalid entries' errors: %v, %v", list[0].Err, list[1].Err)
	}
	if e := list[4]; e.Epoch != 3 || e.BatchInEpoch != 0 || e.Model != "lenet5-mnist" || e.Size == 0 || e.UnixNano == 0 {
		t.Errorf("entry fields not filled: %+v", e)
	}
}

func TestNewestSkipsCorrupt(t *testing.T) {
	dir := messyDir(t)
	c, path, skipped, err := Newest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Base(path), name(30); got != want || c.GetGlobalStep() != 30 {
		t.Errorf("Newest = %s (step %d), want %s (step 30)", got, c.GetGlobalStep(), want)
	}
	var paths []string
	for _, err := range skipped {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("skipped error %v is not an *Error", err)
		}
		paths = append(paths, filepath.Base(e.Path))
	}
	if diff := cmp.Diff([]string{name(40), "weird.ckpt"}, paths); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

func TestNewestFallsBackStepByStep(t *testing.T) {
	dir := t.TempDir()
	for s := int64(1); s <= 4; s++ {
		mustSave(t, filepath.Join(dir, name(s)), sample(s, false))
	}
	// Damage the newest, then the next: Newest must step back each time.
	for _, tc := range []struct {
		damage int64
		want   int64
	}{{4, 3}, {3, 2}, {2, 1}} {
		p := filepath.Join(dir, name(tc.damage))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, b[:len(b)-1])
		c, _, skipped, err := Newest(dir)
		if err != nil || c.GetGlobalStep() != tc.want || len(skipped) != int(4-tc.want) {
			t.Fatalf("after damaging step %d: step %d, %d skipped, %v; want step %d", tc.damage, c.GetGlobalStep(), len(skipped), err, tc.want)
		}
	}
	writeFile(t, filepath.Join(dir, name(1)), nil)
	_, _, skipped, err := Newest(dir)
	if !errors.Is(err, ErrNoCheckpoint) || len(skipped) != 4 {
		t.Errorf("all damaged: %v with %d skipped, want ErrNoCheckpoint with 4", err, len(skipped))
	}
}

func TestNewestEmptyAndMissing(t *testing.T) {
	if _, _, _, err := Newest(t.TempDir()); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty dir: %v, want ErrNoCheckpoint", err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	_, _, _, err := Newest(missing)
	var e *Error
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &e) || e.Path != missing {
		t.Errorf("missing dir: %v, want fs.ErrNotExist naming %s", err, missing)
	}
}

// TestPruneRetention counts what retention keeps, as raft's
// TestFileSS_Retention does, with corrupt and temp files present.
func TestPruneRetention(t *testing.T) {
	for _, keep := range []int{-1, 0, 1, 2, 3, 5, 100} {
		t.Run(fmt.Sprint("keep=", keep), func(t *testing.T) {
			dir := messyDir(t)
			for s := int64(31); s <= 32; s++ { // 5 valid: 10 20 30 31 32
				mustSave(t, filepath.Join(dir, name(s)), sample(s, false))
			}
			if err := Prune(dir, PruneOptions{Run: "", Keep: keep}); err != nil {
				t.Fatal(err)
			}
			all := []string{name(10), name(20), name(30), name(31), name(32)}
			wantValid := all
			if keep > 0 && keep < len(all) {
				wantValid = all[len(all)-keep:]
			}
			var gotValid []string
			list, err := List(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range list {
				if e.Valid() {
					gotValid = append(gotValid, filepath.Base(e.Path))
				}
			}
			if diff := cmp.Diff(wantValid, gotValid); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			// Corrupt, foreign and temp files are never touched.
			names := dirNames(t, dir)
			for _, n := range []string{name(40), "weird.ckpt", "." + name(50) + ".tmp-12345", "events.out.tfevents.1.host"} {
				if !slices.Contains(names, n) {
					t.Errorf("Prune removed %s", n)
				}
			}
		})
	}
}

// TestPruneKeepsLatestCommit: after resuming from an older checkpoint, the
// file just committed has a lower step than stale ones of the abandoned
// timeline; Prune must not delete it.
func TestPruneKeepsLatestCommit(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []int64{10, 20, 30} {
		mustSave(t, filepath.Join(dir, name(s)), sample(s, false))
	}
	resumed := sample(15, false)
	resumed.UnixNano = sample(30, false).UnixNano + 1
	mustSave(t, filepath.Join(dir, name(15)), resumed)
	if err := Prune(dir, PruneOptions{Run: "", Keep: 1}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{name(15), name(30)}, dirNames(t, dir)); diff != "" {
		t.Errorf("after Prune(1) (-want +got):\n%s", diff)
	}
}

func TestCleanTemp(t *testing.T) {
	dir := messyDir(t)
	writeFile(t, filepath.Join(dir, ".other.ckpt.tmp-9"), []byte("x"))
	writeFile(t, filepath.Join(dir, ".notes.tmp-abc"), []byte("keep me"))
	if err := CleanTemp(dir); err != nil {
		t.Fatal(err)
	}
	want := []string{".notes.tmp-abc", name(10), name(20), name(30), name(40), "events.out.tfevents.1.host", "weird.ckpt"}
	if diff := cmp.Diff(want, dirNames(t, dir)); diff != "" {
		t.Errorf("after CleanTemp (-want +got):\n%s", diff)
	}
	if err := CleanTemp(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CleanTemp on a missing dir: %v", err)
	}
}

// TestPruneOnlyOwnRun: a directory holding checkpoints of two runs (and
// ID-less ones written before run IDs) loses only files of the run pruned,
// whatever their steps and commit times.
func TestPruneOnlyOwnRun(t *testing.T) {
	dir := t.TempDir()
	save := func(step int64, run string) string {
		c := sample(step, false)
		c.RunId = run
		n := fmt.Sprintf("%s-%d.ckpt", orLegacy(run), step)
		mustSave(t, filepath.Join(dir, n), c)
		return n
	}
	var mine, others []string
	for _, s := range []int64{10, 20, 30} {
		mine = append(mine, save(s, "aaaa"))
	}
	for _, s := range []int64{5, 15, 40} {
		others = append(others, save(s, "bbbb"), save(s+1, ""))
	}
	if err := Prune(dir, PruneOptions{Run: "aaaa", Keep: 1}); err != nil {
		t.Fatal(err)
	}
	want := append([]string{mine[2]}, others...)
	slices.Sort(want)
	if diff := cmp.Diff(want, dirNames(t, dir)); diff != "" {
		t.Errorf("after Prune(run aaaa, 1) (-want +got):\n%s", diff)
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if want := strings.SplitN(filepath.Base(e.Path), "-", 2)[0]; orLegacy(e.RunID) != want {
			t.Errorf("List: %s has RunID %q", e.Path, e.RunID)
		}
	}
	// The legacy (ID-less) run is pruned among itself only.
	if err := Prune(dir, PruneOptions{Run: "", Keep: 1}); err != nil {
		t.Fatal(err)
	}
	want = []string{mine[2], "bbbb-15.ckpt", "bbbb-40.ckpt", "bbbb-5.ckpt", "legacy-41.ckpt"}
	slices.Sort(want)
	if diff := cmp.Diff(want, dirNames(t, dir)); diff != "" {
		t.Errorf("after Prune(legacy run, 1) (-want +got):\n%s", diff)
	}
}

func orLegacy(run string) string {
	if run == "" {
		return "legacy"
	}
	return run
}

// TestPruneKeepsBest: with Keep 2 and Best 2, the two newest checkpoints and
// the two epoch-end checkpoints with the highest test accuracy stay (ties go
// to the higher step); mid-epoch checkpoints never count as best, nor do
// another run's.
func TestPruneKeepsBest(t *testing.T) {
	dir := t.TempDir()
	save := func(step int64, acc float64, run string) {
		c := sample(step, false)
		c.RunId = run
		c.History[0].TestAcc = acc
		mustSave(t, filepath.Join(dir, fmt.Sprintf("%s-%d.ckpt", run, step)), c)
	}
	// step%10 == 0: epoch end; others are mid-epoch.
	save(10, 0.90, "r")
	save(15, 0.99, "r") // mid-epoch: its acc is the previous epoch's
	save(20, 0.97, "r")
	save(30, 0.95, "r")
	save(40, 0.97, "r") // ties 20: the higher step wins
	save(50, 0.93, "r")
	save(60, 0.91, "r")
	save(70, 0.99, "x") // another run's best
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range Best(list, "r", 3) {
		names = append(names, filepath.Base(e.Path))
	}
	if diff := cmp.Diff([]string{"r-40.ckpt", "r-20.ckpt", "r-30.ckpt"}, names); diff != "" {
		t.Errorf("Best(3) (-want +got):\n%s", diff)
	}
	if err := Prune(dir, PruneOptions{Run: "r", Keep: 2, Best: 2}); err != nil {
		t.Fatal(err)
	}
	want := []string{"r-20.ckpt", "r-40.ckpt", "r-50.ckpt", "r-60.ckpt", "x-70.ckpt"}
	if diff := cmp.Diff(want, dirNames(t, dir)); diff != "" {
		t.Errorf("after Prune(keep 2, best 2) (-want +got):\n%s", diff)
	}
	// Best alone does not prune: Keep 0 keeps everything.
	save(80, 0.5, "r")
	if err := Prune(dir, PruneOptions{Run: "r", Keep: 0, Best: 1}); err != nil {
		t.Fatal(err)
	}
	if got := len(dirNames(t, dir)); got != 6 {
		t.Errorf("Prune(keep 0, best 1) left %d files, want all 6", got)
	}
}
