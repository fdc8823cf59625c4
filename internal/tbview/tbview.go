package tbview

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Group is the tensorboard-view.json of a group of testdata/tensorboard.
type Group struct {
	Runs map[string]Run `json:"runs"` // by run name
}

// Run is what TensorBoard read of one run.
type Run struct {
	EventFiles []string        `json:"event_files"` // the run's event files, in the order read
	RecordScan map[string]Scan `json:"record_scan"` // by event file name
	Error      *string         `json:"error"`       // the run's load error, if any
	Tags       map[string]Tag  `json:"tags"`        // by tag
}

// Scan is how far TensorBoard's record reader got in one event file.
type Scan struct {
	Size       int64   `json:"size"`
	Records    int     `json:"records"`
	ValidBytes int64   `json:"valid_bytes"`
	Stopped    *string `json:"stopped"` // why it stopped before the end, if it did
}

// Tag is what TensorBoard kept of one tag.
type Tag struct {
	Plugin    string  `json:"plugin"`
	DataClass string  `json:"data_class"`
	Count     int     `json:"count"`
	Steps     []int64 `json:"steps"`
	// Scalars are the rows [step, value, wall_time] of a scalar tag.
	Scalars [][]json.RawMessage `json:"scalars"`
}

// ReadGroup reads dir/tensorboard-view.json, dir being a group of
// testdata/tensorboard as the test reaches it. It fails t if the file
// cannot be read or lists no run.
func ReadGroup(t testing.TB, dir string) *Group {
	t.Helper()
	var g Group
	read(t, dir, &g)
	if len(g.Runs) == 0 {
		t.Fatalf("%s: tensorboard-view.json lists no runs", dir)
	}
	return &g
}

// Reads is the tensorboard-view.json of testdata/tensorboard-reads.
type Reads struct {
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

// ReadReads reads dir/tensorboard-view.json, dir being
// testdata/tensorboard-reads as the test reaches it. It fails t if the file
// cannot be read or lists no run.
func ReadReads(t testing.TB, dir string) *Reads {
	t.Helper()
	var r Reads
	read(t, dir, &r)
	if len(r.Runs) == 0 {
		t.Fatalf("%s: tensorboard-view.json lists no runs", dir)
	}
	return &r
}

func read(t testing.TB, dir string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "tensorboard-view.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: tensorboard-view.json: %v", dir, err)
	}
}
