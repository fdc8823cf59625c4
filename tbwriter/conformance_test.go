package tbwriter

import (
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tbtrain/tbtrain/internal/jsonfloat"
	"github.com/tbtrain/tbtrain/internal/tbview"
)

// viewNumber decodes a JSON number or one of Python's "NaN", "Infinity",
// "-Infinity" strings (as jsonfloat.Float does).
func viewNumber(t *testing.T, raw json.RawMessage) float64 {
	t.Helper()
	var f jsonfloat.Float
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("bad number %s: %v", raw, err)
	}
	return float64(f)
}

type scalarRow struct {
	Step        int64
	Value, Wall float64
}

func TestConformanceWithTensorBoard(t *testing.T) {
	views, err := filepath.Glob(filepath.Join(fixtures, "*", "tensorboard-view.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(views) < 4 {
		t.Fatalf("found %d tensorboard-view.json files under %s, want at least 4", len(views), fixtures)
	}
	for _, viewPath := range views {
		root := filepath.Dir(viewPath)
		t.Run(filepath.Base(root), func(t *testing.T) {
			view := tbview.ReadGroup(t, root)
			runs, err := ReadLogdir(root)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*Run{}
			var gotNames, wantNames []string
			for _, r := range runs {
				byName[r.Name] = r
				gotNames = append(gotNames, r.Name)
			}
			for name := range view.Runs {
				wantNames = append(wantNames, name)
			}
			sort.Strings(wantNames)
			if diff := cmp.Diff(wantNames, gotNames); diff != "" {
				t.Fatalf("run names differ (-tensorboard +ours):\n%s", diff)
			}
			for name, want := range view.Runs {
				run := byName[name]
				checkRun(t, name, run, want)
			}
		})
	}
}

func checkRun(t *testing.T, name string, run *Run, want tbview.Run) {
	t.Helper()
	var files []string
	for _, f := range run.Files {
		files = append(files, filepath.Base(f))
	}
	if diff := cmp.Diff(want.EventFiles, files); diff != "" {
		t.Errorf("run %s: files differ (-tensorboard +ours):\n%s", name, diff)
	}

	// Record scan: how far each file reads and why it stops.
	for _, path := range run.Files {
		scan, ok := want.RecordScan[filepath.Base(path)]
		if !ok {
			t.Errorf("run %s: no record_scan for %s", name, path)
			continue
		}
		events, err := ReadFile(path)
		var fe *FileError
		switch {
		case scan.Stopped == nil && err == nil:
			if len(events) != scan.Records {
				t.Errorf("run %s: %s: read %d events, TensorBoard %d records", name, filepath.Base(path), len(events), scan.Records)
			}
		case scan.Stopped == nil && errors.Is(err, ErrNotEvent):
			// Framing is intact (TensorBoard's scan read every record);
			// the payload is not an Event, which the run error reports.
			if want.Error == nil || !strings.Contains(*want.Error, "DecodeError") {
				t.Errorf("run %s: we found a non-Event payload (%v), TensorBoard reported error %v", name, err, want.Error)
			}
			if !errors.As(err, &fe) || fe.Offset >= scan.ValidBytes {
				t.Errorf("run %s: bad payload error %v not inside the valid %d bytes", name, err, scan.ValidBytes)
			}
		case scan.Stopped != nil:
			if !errors.As(err, &fe) {
				t.Errorf("run %s: %s: err = %v, TensorBoard stopped with %q", name, filepath.Base(path), err, *scan.Stopped)
				continue
			}
			if fe.Offset != scan.ValidBytes {
				t.Errorf("run %s: stopped at offset %d, TensorBoard after %d valid bytes", name, fe.Offset, scan.ValidBytes)
			}
			if len(events) != scan.Records {
				t.Errorf("run %s: read %d events before the damage, TensorBoard %d", name, len(events), scan.Records)
			}
			checkStopKind(t, name, err, *scan.Stopped)
		default:
			t.Errorf("run %s: %s: unexpected error %v (TensorBoard read it cleanly)", name, filepath.Base(path), err)
		}
	}
	if (want.Error != nil) != errors.Is(run.Err, ErrNotEvent) {
		t.Errorf("run %s: Run.Err = %v, TensorBoard run error %v", name, run.Err, want.Error)
	}

	// Tags, plugins, steps and scalar values after the Python loader's purge.
	series := run.Series(PythonPurge)
	var gotTags, wantTags []string
	for tag := range series {
		gotTags = append(gotTags, tag)
	}
	for tag := range want.Tags {
		wantTags = append(wantTags, tag)
	}
	sort.Strings(gotTags)
	sort.Strings(wantTags)
	if diff := cmp.Diff(wantTags, gotTags, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("run %s: tags differ (-tensorboard +ours):\n%s", name, diff)
		return
	}
	for tag, wt := range want.Tags {
		pts := series[tag]
		var steps []int64
		for _, p := range pts {
			steps = append(steps, p.Step)
		}
		if diff := cmp.Diff(wt.Steps, steps); diff != "" {
			t.Errorf("run %s tag %s: steps differ (-tensorboard +ours):\n%s", name, tag, diff)
		}
		if len(pts) != wt.Count {
			t.Errorf("run %s tag %s: %d points, TensorBoard count %d", name, tag, len(pts), wt.Count)
		}
		if got := PluginName(pts[0].Value); got != wt.Plugin {
			t.Errorf("run %s tag %s: plugin %q, TensorBoard %q", name, tag, got, wt.Plugin)
		}
		if wt.Scalars == nil {
			continue
		}
		var wantRows, gotRows []scalarRow
		for _, row := range wt.Scalars {
			if len(row) != 3 {
				t.Fatalf("run %s tag %s: bad scalar row %q", name, tag, row)
			}
			wantRows = append(wantRows, scalarRow{int64(viewNumber(t, row[0])), viewNumber(t, row[1]), viewNumber(t, row[2])})
		}
		for _, p := range pts {
			v, ok := ScalarOf(p.Value)
			if !ok {
				t.Errorf("run %s tag %s step %d: not a scalar: %v", name, tag, p.Step, p.Value)
			}
			gotRows = append(gotRows, scalarRow{p.Step, v, p.WallTime})
		}
		if diff := cmp.Diff(wantRows, gotRows, cmpopts.EquateNaNs()); diff != "" {
			t.Errorf("run %s tag %s: scalars differ (-tensorboard +ours):\n%s", name, tag, diff)
		}
	}
}

// checkStopKind maps TensorBoard's DataLossError wording to our errors.
func checkStopKind(t *testing.T, name string, err error, stopped string) {
	t.Helper()
	var te *TornError
	switch {
	case strings.HasSuffix(stopped, "failed header crc32 check"):
		if !errors.Is(err, ErrLengthCRC) {
			t.Errorf("run %s: err = %v, want ErrLengthCRC (%s)", name, err, stopped)
		}
	case strings.HasSuffix(stopped, "failed event crc32 check"):
		if !errors.Is(err, ErrDataCRC) {
			t.Errorf("run %s: err = %v, want ErrDataCRC (%s)", name, err, stopped)
		}
	case strings.Contains(stopped, "has truncated record in "):
		part := stopped[strings.Index(stopped, "has truncated record in ")+len("has truncated record in "):]
		if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &te) || te.Part != part {
			t.Errorf("run %s: err = %v, want a torn tail in %q (%s)", name, err, part, stopped)
		}
	default:
		t.Errorf("run %s: unknown TensorBoard stop reason %q", name, stopped)
	}
}

// TestHParamsFixture decodes PyTorch's add_hparams output with HParamsOf:
// each tag carries the matching HParamsPluginData member, version 0.
func TestHParamsFixture(t *testing.T) {
	runs, err := ReadLogdir(filepath.Join(fixtures, "torch-1.13"))
	if err != nil {
		t.Fatal(err)
	}
	var run *Run
	for _, r := range runs {
		if strings.HasPrefix(r.Name, "hp/") {
			run = r
		}
	}
	if run == nil {
		t.Fatal("no hp/<timestamp> run in torch-1.13")
	}
	s := run.Series(PythonPurge)
	exp, ok := HParamsOf(s[HParamsExperimentTag][0].Value)
	if !ok || exp.GetVersion() != 0 || exp.GetExperiment() == nil || len(exp.GetExperiment().GetHparamInfos()) == 0 {
		t.Errorf("experiment = %v, %v", exp, ok)
	}
	start, ok := HParamsOf(s[HParamsSessionStartTag][0].Value)
	if !ok || start.GetSessionStartInfo() == nil || len(start.GetSessionStartInfo().GetHparams()) == 0 {
		t.Errorf("session start = %v, %v", start, ok)
	}
	end, ok := HParamsOf(s[HParamsSessionEndTag][0].Value)
	if !ok || end.GetSessionEndInfo() == nil {
		t.Errorf("session end = %v, %v", end, ok)
	}
	// Every hparam named in the experiment has a value in the session start.
	for _, h := range exp.GetExperiment().GetHparamInfos() {
		if _, ok := start.GetSessionStartInfo().GetHparams()[h.GetName()]; !ok {
			t.Errorf("hparam %q has no value in the session start", h.GetName())
		}
	}
}

// TestLegacyHistogramFixture converts PyTorch's HistogramProto values the
// way data_compat.py does: counts add up to num, edges run from min to max.
func TestLegacyHistogramFixture(t *testing.T) {
	runs, err := ReadLogdir(filepath.Join(fixtures, "torch-1.13"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Name != "basic" {
			continue
		}
		pts := r.Series(PythonPurge)["weights"]
		if len(pts) == 0 {
			t.Fatal("no weights histogram in torch-1.13/basic")
		}
		for _, p := range pts {
			h := p.Value.GetHisto()
			b, ok := HistogramOf(p.Value)
			if h == nil || !ok || len(b) == 0 {
				t.Fatalf("step %d: not a legacy histogram: %v", p.Step, p.Value)
			}
			total := 0.0
			for i, x := range b {
				total += x.Count
				if x.Left > x.Right || (i > 0 && x.Left != b[i-1].Right) {
					t.Errorf("step %d bucket %d: %+v does not continue %+v", p.Step, i, x, b[max(i-1, 0)])
				}
			}
			if total != h.Num || b[0].Left != h.Min || b[len(b)-1].Right != h.Max {
				t.Errorf("step %d: %d buckets [%v, %v] count %v; histo min %v max %v num %v",
					p.Step, len(b), b[0].Left, b[len(b)-1].Right, total, h.Min, h.Max, h.Num)
			}
		}
	}
}
