package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/tbwriter"
)

// TestResumedRunFromTBWriter writes the project's resume pattern with
// package tbwriter (session 1 logs steps 0..99; session 2 resumes at 50 with
// a new file and re-logs 50..149) and checks what tbdump reports: the raw
// files hold steps 50..99 twice, and both loaders' purge rules leave each
// step 0..149 exactly once.
func TestResumedRunFromTBWriter(t *testing.T) {
	dir := t.TempDir()
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	for _, s := range []struct{ start, end int64 }{{0, 100}, {50, 150}} {
		w, err := tbwriter.Create(dir, tbwriter.Options{StartStep: s.start, Host: "test", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		for step := s.start; step < s.end; step++ {
			if err := w.AddScalar("loss", step, float32(step)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.AddText("note", s.start, "session note"); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}

	type tag struct {
		Tag     string `json:"tag"`
		Plugin  string `json:"plugin"`
		Count   int    `json:"count"`
		Dups    int    `json:"duplicate_steps"`
		MinStep int64  `json:"min_step"`
		MaxStep int64  `json:"max_step"`
	}
	type doc struct {
		DamagedFiles int `json:"damaged_files"`
		Inputs       []struct {
			Runs []struct {
				Name     string                 `json:"name"`
				Files    []struct{ Events int } `json:"files"`
				Sessions []struct {
					Status string `json:"status"`
					Step   int64  `json:"step"`
				} `json:"sessions"`
				Tags []tag `json:"tags"`
			} `json:"runs"`
		} `json:"inputs"`
	}
	for _, tc := range []struct {
		purge      string
		count      int
		dups       int
		notesCount int
	}{
		{"none", 200, 50, 2},
		{"python", 150, 0, 2}, // session 2 logs its note after its START, so it survives
		{"rust", 150, 0, 2},
	} {
		r := runInProcess(t, nil, "--json", "--purge="+tc.purge, dir)
		if r.code != 0 {
			t.Fatalf("--purge=%s: exit %d, stderr:\n%s", tc.purge, r.code, r.stderr)
		}
		var d doc
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatal(err)
		}
		if d.DamagedFiles != 0 || len(d.Inputs) != 1 || len(d.Inputs[0].Runs) != 1 {
			t.Fatalf("--purge=%s: unexpected shape:\n%s", tc.purge, r.stdout)
		}
		run := d.Inputs[0].Runs[0]
		if len(run.Files) != 2 {
			t.Errorf("--purge=%s: %d files, want 2", tc.purge, len(run.Files))
		}
		if len(run.Sessions) != 2 || run.Sessions[0].Status != "START" || run.Sessions[0].Step != 0 ||
			run.Sessions[1].Status != "START" || run.Sessions[1].Step != 50 {
			t.Errorf("--purge=%s: sessions %+v, want START@0 and START@50", tc.purge, run.Sessions)
		}
		got := map[string]tag{}
		for _, tg := range run.Tags {
			got[tg.Tag] = tg
		}
		loss := got["loss"]
		if loss.Plugin != "scalars" || loss.Count != tc.count || loss.Dups != tc.dups || loss.MinStep != 0 || loss.MaxStep != 149 {
			t.Errorf("--purge=%s: loss %+v, want scalars count %d dups %d steps 0..149", tc.purge, loss, tc.count, tc.dups)
		}
		if note := got["note"]; note.Plugin != "text" || note.Count != tc.notesCount {
			t.Errorf("--purge=%s: note %+v, want text count %d", tc.purge, note, tc.notesCount)
		}
	}
}
