package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/jsonfloat"
	"github.com/tbtrain/tbtrain/internal/tbview"
)

// parseNumber reads a JSON number or one of the strings "NaN", "Infinity",
// "-Infinity" (as jsonfloat.Float does).
func parseNumber(t *testing.T, raw json.RawMessage) float64 {
	t.Helper()
	var f jsonfloat.Float
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("number %s: %v", raw, err)
	}
	return float64(f)
}

func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// dumpOut mirrors the part of tbdump's --json document the view test reads;
// numbers stay raw because NaN and infinities are strings.
type dumpOut struct {
	Inputs []struct {
		Runs []struct {
			Name  string `json:"name"`
			Files []struct {
				Name   string `json:"name"`
				Events int    `json:"events"`
				Error  *struct {
					Offset *int64 `json:"offset"`
					Kind   string `json:"kind"`
				} `json:"error"`
			} `json:"files"`
			Tags []struct {
				Tag       string `json:"tag"`
				Plugin    string `json:"plugin"`
				DataClass string `json:"data_class"`
				Count     int    `json:"count"`
				First     struct {
					Step     int64           `json:"step"`
					WallTime json.RawMessage `json:"wall_time"`
					Number   json.RawMessage `json:"number"`
				} `json:"first"`
				Last struct {
					Step     int64           `json:"step"`
					WallTime json.RawMessage `json:"wall_time"`
					Number   json.RawMessage `json:"number"`
				} `json:"last"`
			} `json:"tags"`
		} `json:"runs"`
	} `json:"inputs"`
}

// TestAgreesWithTensorBoard runs `tbdump --json --purge=python` over each
// fixture folder and compares it with what TensorBoard's Python loader served
// for that folder (tensorboard-view.json): runs, files, records read, where
// damaged files stop, tags, plugins, data classes, counts, first and last
// steps, values and wall times.
func TestAgreesWithTensorBoard(t *testing.T) {
	needFixtures(t)
	for _, group := range []string{"seed-2022", "torch-1.13", "purge-variants", "damaged"} {
		t.Run(group, func(t *testing.T) {
			view := tbview.ReadGroup(t, filepath.Join(fixtures, group))
			r := runInProcess(t, nil, "--json", "--purge=python", fx(group))
			var got dumpOut
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
			}
			if len(got.Inputs) != 1 {
				t.Fatalf("%d inputs, want 1", len(got.Inputs))
			}
			var names []string
			for _, run := range got.Inputs[0].Runs {
				names = append(names, run.Name)
			}
			var wantNames []string
			for name := range view.Runs {
				wantNames = append(wantNames, name)
			}
			slices.Sort(wantNames)
			if !slices.Equal(names, wantNames) {
				t.Fatalf("runs %q, TensorBoard shows %q", names, wantNames)
			}
			for _, run := range got.Inputs[0].Runs {
				vr := view.Runs[run.Name]
				var files []string
				for _, f := range run.Files {
					files = append(files, f.Name)
					scan := vr.RecordScan[f.Name]
					decodeErr := vr.Error != nil && strings.Contains(*vr.Error, "DecodeError")
					switch {
					case scan.Stopped != nil:
						if f.Events != scan.Records {
							t.Errorf("%s/%s: %d events, TensorBoard read %d records", run.Name, f.Name, f.Events, scan.Records)
						}
						if f.Error == nil || f.Error.Offset == nil || *f.Error.Offset != scan.ValidBytes || f.Error.Kind != stoppedKind(*scan.Stopped) {
							t.Errorf("%s/%s: error %+v, TensorBoard stopped at %d: %s", run.Name, f.Name, f.Error, scan.ValidBytes, *scan.Stopped)
						}
					case decodeErr:
						if f.Error == nil || f.Error.Kind != "not_event" {
							t.Errorf("%s/%s: error %+v, TensorBoard failed with %s", run.Name, f.Name, f.Error, *vr.Error)
						}
					default:
						if f.Events != scan.Records || f.Error != nil {
							t.Errorf("%s/%s: %d events, error %+v; TensorBoard read %d records cleanly", run.Name, f.Name, f.Events, f.Error, scan.Records)
						}
					}
				}
				if !slices.Equal(files, vr.EventFiles) {
					t.Errorf("run %s: files %q, TensorBoard read %q", run.Name, files, vr.EventFiles)
				}
				if vr.Error != nil {
					continue // TensorBoard served nothing for this run
				}
				var tags []string
				for _, tg := range run.Tags {
					tags = append(tags, tg.Tag)
					vt, ok := vr.Tags[tg.Tag]
					if !ok {
						continue
					}
					where := run.Name + " " + tg.Tag
					if tg.Plugin != vt.Plugin || tg.DataClass != vt.DataClass || tg.Count != vt.Count {
						t.Errorf("%s: plugin %s class %s count %d; TensorBoard %s %s %d",
							where, tg.Plugin, tg.DataClass, tg.Count, vt.Plugin, vt.DataClass, vt.Count)
					}
					if n := len(vt.Steps); n == 0 || tg.First.Step != vt.Steps[0] || tg.Last.Step != vt.Steps[n-1] {
						t.Errorf("%s: steps %d..%d; TensorBoard %v", where, tg.First.Step, tg.Last.Step, vt.Steps)
					}
					if n := len(vt.Scalars); n > 0 {
						for _, c := range []struct {
							name        string
							num, wall   json.RawMessage
							vnum, vwall json.RawMessage
						}{
							{"first", tg.First.Number, tg.First.WallTime, vt.Scalars[0][1], vt.Scalars[0][2]},
							{"last", tg.Last.Number, tg.Last.WallTime, vt.Scalars[n-1][1], vt.Scalars[n-1][2]},
						} {
							if c.num == nil {
								t.Errorf("%s: %s value has no number", where, c.name)
								continue
							}
							if a, b := parseNumber(t, c.num), parseNumber(t, c.vnum); !sameFloat(a, b) {
								t.Errorf("%s: %s value %v, TensorBoard %v", where, c.name, a, b)
							}
							if a, b := parseNumber(t, c.wall), parseNumber(t, c.vwall); a != b {
								t.Errorf("%s: %s wall time %v, TensorBoard %v", where, c.name, a, b)
							}
						}
					}
				}
				var wantTags []string
				for tag := range vr.Tags {
					wantTags = append(wantTags, tag)
				}
				slices.Sort(wantTags)
				if !slices.Equal(tags, wantTags) {
					t.Errorf("run %s: tags %q, TensorBoard %q", run.Name, tags, wantTags)
				}
			}
		})
	}
}
