package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tbtrain/tbtrain/tbwriter"
)

// TestWrite runs the Go half of the check: the run must read back cleanly,
// with every kind present, and expected.json must describe it.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	var exp expected
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	runs, err := tbwriter.ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs, want kinds and two sub-runs", len(runs))
	}
	series := runs[0].Series(tbwriter.PythonPurge)
	for _, tag := range []string{exp.PRTag, exp.AudioTag, exp.VideoTag, tbwriter.CustomScalarsTag, exp.MeshTag + "_VERTEX", exp.WallTag} {
		if len(series[tag]) != 1 {
			t.Errorf("tag %s: %d points", tag, len(series[tag]))
		}
	}
	if cfg, err := tbwriter.ReadProjectorConfig(filepath.Join(dir, "kinds")); err != nil || len(cfg.Embeddings) != 1 {
		t.Errorf("projector config %v, %v", cfg, err)
	}
}
