package tbreads

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// View is tensorboard-view.json.
type View struct {
	// Runs are the runs /data/runs lists.
	Runs []string `json:"runs"`
	// Tags maps run, tag and plugin to the number of points the plugin's
	// route returned, or to the string it failed with ("HTTP 500 (...)").
	Tags map[string]map[string]map[string]json.RawMessage `json:"tags"`
	// HParams maps run and hparams tag to the plugin content TensorBoard's
	// hparams plugin reads.
	HParams map[string]map[string]HParams `json:"hparams"`
}

// HParams is the content of one hparams tag: a session start's
// hyperparameters or a session end's status.
type HParams struct {
	MaxStep int64              `json:"max_step"`
	HParams map[string]float64 `json:"hparams"`
	Status  string             `json:"status"`
}

// Read reads dir/tensorboard-view.json, dir being testdata/tensorboard-reads
// as the test reaches it. It fails t if the file cannot be read or lists no
// run.
func Read(t testing.TB, dir string) *View {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "tensorboard-view.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v View
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("tensorboard-view.json: %v", err)
	}
	if len(v.Runs) == 0 {
		t.Fatal("tensorboard-view.json lists no runs")
	}
	return &v
}
