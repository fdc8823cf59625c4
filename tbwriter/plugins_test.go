package tbwriter

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// solid returns a w x h image of one color.
func solid(w, h int, c color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

func testGraph() *Graph {
	g := NewGraph()
	g.Node("input/x", "IO Node").OutputShape(1, 1, 28, 28)
	g.Node("net/conv1", "aten::_convolution", "input/x").OutputShape(1, 6, 28, 28).Attr("stride", []int64{1, 1})
	g.Node("net/relu", "aten::relu", "net/conv1").OutputShape(1, 6, 28, 28)
	g.Node("output/y", "IO Node", "net/relu:0", "^input/x")
	return g
}

var testMesh = Mesh{
	Vertices: [][3]float32{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
	Faces:    [][3]int32{{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}},
	Colors:   [][3]uint8{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 9, 9}},
}

var testLayout = Layout{Categories: []Category{{Title: "loss", Charts: []Chart{
	{Title: "both", Multiline: []string{"loss/.*"}},
	{Title: "band", Margin: []MarginSeries{{"acc", "acc/lo", "acc/hi"}}},
}}}}

// addEveryKind logs one value of each new kind through w.
func addEveryKind(t *testing.T, w *Writer) {
	t.Helper()
	labels := []bool{true, false, true, true, false}
	preds := []float32{0.9, 0.1, 0.6, 0.4, 0.5}
	frames := []image.Image{solid(4, 3, color.RGBA{255, 0, 0, 255}), solid(4, 3, color.RGBA{0, 0, 255, 255})}
	for _, err := range []error{
		w.AddPRCurve("pr", 1, labels, preds, 5),
		w.AddPRCurveRaw("pr/raw", 1, PRCounts{TP: []float64{2, 1}, FP: []float64{2, 0}, TN: []float64{0, 2}, FN: []float64{0, 1},
			Precision: []float64{0.5, 1}, Recall: []float64{1, 0.5}}),
		w.AddAudio("audio", 2, []float32{0, 0.5, -0.5, 1, 2, -2}, 2, 8000),
		w.AddVideo("video", 3, frames, 10),
		w.AddCustomScalars(testLayout),
		w.AddGraph(testGraph()),
		w.AddMesh("mesh", 4, testMesh.Vertices, testMesh.Faces, testMesh.Colors),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestKindsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	addEveryKind(t, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	run := readRun(t, dir)
	series := run.Series(PythonPurge)

	pr, ok := PRCurveOf(series["pr"][0].Value)
	want, _ := ComputePRCounts([]bool{true, false, true, true, false}, []float32{0.9, 0.1, 0.6, 0.4, 0.5}, 5)
	if !ok || !sameFloat32(slices.Concat(pr.TP, pr.FP, pr.TN, pr.FN, pr.Precision, pr.Recall),
		slices.Concat(want.TP, want.FP, want.TN, want.FN, want.Precision, want.Recall)) {
		t.Errorf("pr: got %+v, want %+v", pr, want)
	}
	// thresholds 0, .25, .5, .75, 1: predictions >= .5 are 0.9, 0.6, 0.5
	if pr.TP[2] != 2 || pr.FP[2] != 1 || pr.FN[2] != 1 || pr.TN[2] != 1 {
		t.Errorf("pr at threshold 0.5: TP %v FP %v TN %v FN %v, want 2 1 1 1", pr.TP[2], pr.FP[2], pr.TN[2], pr.FN[2])
	}
	if raw, ok := PRCurveOf(series["pr/raw"][0].Value); !ok || raw.Recall[1] != 0.5 || raw.Thresholds() != 2 {
		t.Errorf("pr/raw: %+v", raw)
	}

	a, ok := AudioOf(series["audio"][0].Value)
	if !ok || a.Channels != 2 || a.Frames != 3 || a.SampleRate != 8000 || a.Seconds() != 3.0/8000 || a.ContentType != "audio/wav" {
		t.Errorf("audio: %+v", a)
	}
	wantPCM := []int16{0, 16383, -16383, 32767, 32767, -32767} // clipped, truncated toward zero
	for i, s := range wantPCM {
		if got := int16(uint16(a.Encoded[44+2*i]) | uint16(a.Encoded[45+2*i])<<8); got != s {
			t.Errorf("audio sample %d = %d, want %d", i, got, s)
		}
	}

	vi, ok := VideoOf(series["video"][0].Value)
	if !ok || vi.Frames != 2 || vi.Width != 4 || vi.Height != 3 || !slices.Equal(vi.Delays, []int{10, 10}) {
		t.Errorf("video: %+v", vi)
	}
	if PluginName(series["video"][0].Value) != "images" {
		t.Errorf("video plugin %q, want images", PluginName(series["video"][0].Value))
	}

	l, ok := CustomScalarsOf(series[CustomScalarsTag][0].Value)
	if !ok || len(l.Category) != 1 || l.Category[0].Chart[1].GetMargin().Series[0].Upper != "acc/hi" {
		t.Errorf("layout: %v", l)
	}

	var graphs int
	for _, ev := range run.Events {
		if gd, ok := GraphOf(ev); ok {
			graphs++
			want, _ := testGraph().GraphDef()
			if !proto.Equal(gd, want) {
				t.Errorf("graph differs:\n got %v\nwant %v", gd, want)
			}
		}
	}
	if graphs != 1 {
		t.Errorf("%d graphs, want 1", graphs)
	}

	for _, part := range []struct {
		tag  string
		want []float64
	}{
		{"mesh_VERTEX", []float64{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}},
		{"mesh_FACE", []float64{0, 1, 2, 0, 1, 3, 0, 2, 3, 1, 2, 3}},
		{"mesh_COLOR", []float64{255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9}},
	} {
		mp, ok := MeshOf(series[part.tag][0].Value)
		if !ok || !slices.Equal(mp.Values, part.want) || mp.Data.Name != "mesh" || mp.Data.Components != 14 {
			t.Errorf("%s: %+v", part.tag, mp)
		}
	}
}

func TestKindsBadInput(t *testing.T) {
	nan := float32(math.NaN())
	img := solid(2, 2, color.RGBA{1, 2, 3, 255})
	cases := []struct {
		name string
		call func(w *Writer) error
	}{
		{"pr lengths", func(w *Writer) error { return w.AddPRCurve("p", 0, []bool{true}, []float32{0.5, 0.5}, 0) }},
		{"pr empty", func(w *Writer) error { return w.AddPRCurve("p", 0, nil, nil, 0) }},
		{"pr nan", func(w *Writer) error { return w.AddPRCurve("p", 0, []bool{true}, []float32{nan}, 0) }},
		{"pr above 1", func(w *Writer) error { return w.AddPRCurve("p", 0, []bool{true}, []float32{1.5}, 0) }},
		{"pr 1 threshold", func(w *Writer) error { return w.AddPRCurve("p", 0, []bool{true}, []float32{0.5}, 1) }},
		{"pr too many", func(w *Writer) error { return w.AddPRCurve("p", 0, []bool{true}, []float32{0.5}, MaxPRThresholds+1) }},
		{"pr raw lengths", func(w *Writer) error {
			return w.AddPRCurveRaw("p", 0, PRCounts{TP: []float64{1, 1}, FP: []float64{1, 1}, TN: []float64{1, 1}, FN: []float64{1}, Precision: []float64{1, 1}, Recall: []float64{1, 1}})
		}},
		{"pr raw nan", func(w *Writer) error {
			x := []float64{1, 1}
			return w.AddPRCurveRaw("p", 0, PRCounts{TP: x, FP: x, TN: x, FN: x, Precision: []float64{math.NaN(), 1}, Recall: x})
		}},
		{"audio empty", func(w *Writer) error { return w.AddAudio("a", 0, nil, 1, 8000) }},
		{"audio nan", func(w *Writer) error { return w.AddAudio("a", 0, []float32{0, nan}, 1, 8000) }},
		{"audio channels", func(w *Writer) error { return w.AddAudio("a", 0, []float32{0, 1, 0}, 2, 8000) }},
		{"audio rate", func(w *Writer) error { return w.AddAudio("a", 0, []float32{0}, 1, 0) }},
		{"video empty", func(w *Writer) error { return w.AddVideo("v", 0, nil, 4) }},
		{"video sizes", func(w *Writer) error { return w.AddVideo("v", 0, []image.Image{img, solid(3, 2, color.RGBA{})}, 4) }},
		{"video fps", func(w *Writer) error { return w.AddVideo("v", 0, []image.Image{img}, 0) }},
		{"video fps nan", func(w *Writer) error { return w.AddVideo("v", 0, []image.Image{img}, math.NaN()) }},
		{"layout empty", func(w *Writer) error { return w.AddCustomScalars(Layout{}) }},
		{"layout both", func(w *Writer) error {
			return w.AddCustomScalars(Layout{Categories: []Category{{Charts: []Chart{{Multiline: []string{"a"}, Margin: []MarginSeries{{"a", "b", "c"}}}}}}})
		}},
		{"layout margin", func(w *Writer) error {
			return w.AddCustomScalars(Layout{Categories: []Category{{Charts: []Chart{{Margin: []MarginSeries{{"a", "", "c"}}}}}}})
		}},
		{"graph empty", func(w *Writer) error { return w.AddGraph(NewGraph()) }},
		{"graph dup", func(w *Writer) error {
			g := NewGraph()
			g.Node("a", "Op")
			g.Node("a", "Op")
			return w.AddGraph(g)
		}},
		{"graph dangling", func(w *Writer) error {
			g := NewGraph()
			g.Node("a", "Op", "b:1")
			return w.AddGraph(g)
		}},
		{"graph attr", func(w *Writer) error {
			g := NewGraph()
			g.Node("a", "Op").Attr("x", struct{}{})
			return w.AddGraph(g)
		}},
		{"mesh empty", func(w *Writer) error { return w.AddMesh("m", 0, nil, nil, nil) }},
		{"mesh nan", func(w *Writer) error { return w.AddMesh("m", 0, [][3]float32{{0, nan, 0}}, nil, nil) }},
		{"mesh face", func(w *Writer) error { return w.AddMesh("m", 0, [][3]float32{{0, 0, 0}}, [][3]int32{{0, 0, 1}}, nil) }},
		{"mesh colors", func(w *Writer) error {
			return w.AddMesh("m", 0, [][3]float32{{0, 0, 0}}, nil, [][3]uint8{{1, 2, 3}, {1, 2, 3}})
		}},
		{"scalars empty", func(w *Writer) error { return w.AddScalars("s", 0, nil) }},
		{"scalars key", func(w *Writer) error { return w.AddScalars("s", 0, map[string]float32{"ok": 1, "../x": 2}) }},
		{"embedding empty", func(w *Writer) error { return w.AddEmbedding("e", 0, nil, Metadata{}, nil) }},
		{"embedding ragged", func(w *Writer) error { return w.AddEmbedding("e", 0, [][]float32{{1, 2}, {1}}, Metadata{}, nil) }},
		{"embedding nan", func(w *Writer) error { return w.AddEmbedding("e", 0, [][]float32{{nan}}, Metadata{}, nil) }},
		{"embedding labels", func(w *Writer) error {
			return w.AddEmbedding("e", 0, [][]float32{{1}}, Metadata{Labels: []string{"a", "b"}}, nil)
		}},
		{"embedding tab", func(w *Writer) error {
			return w.AddEmbedding("e", 0, [][]float32{{1}}, Metadata{Labels: []string{"a\tb"}}, nil)
		}},
		{"embedding header", func(w *Writer) error {
			return w.AddEmbedding("e", 0, [][]float32{{1}}, Metadata{Header: []string{"a"}, Rows: [][]string{{"x"}}}, nil)
		}},
		{"embedding row", func(w *Writer) error {
			return w.AddEmbedding("e", 0, [][]float32{{1}}, Metadata{Header: []string{"a", "b"}, Rows: [][]string{{"x"}}}, nil)
		}},
		{"embedding sprites", func(w *Writer) error {
			return w.AddEmbedding("e", 0, [][]float32{{1}}, Metadata{}, []image.Image{img, img})
		}},
		{"embedding sprite size", func(w *Writer) error {
			return w.AddEmbedding("e", 0, [][]float32{{1}, {2}}, Metadata{}, []image.Image{img, solid(3, 3, color.RGBA{})})
		}},
		{"embedding sprite too large", func(w *Writer) error {
			return w.AddEmbedding("e", 0, [][]float32{{1}, {2}}, Metadata{}, []image.Image{solid(5000, 1, color.RGBA{}), solid(5000, 1, color.RGBA{})})
		}},
		{"embedding tag", func(w *Writer) error { return w.AddEmbedding("..", 0, [][]float32{{1}}, Metadata{}, nil) }},
		{"wall time", func(w *Writer) error { return w.WithWallTime(math.Inf(1)).AddScalar("s", 0, 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Create(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(w)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "tbwriter: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// Nothing was written: the event file holds its two header
			// events and the run directory nothing else.
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("run directory holds %d entries, want only the event file", len(entries))
			}
			events, err := ReadFile(w.Path())
			if err != nil || len(events) != 2 {
				t.Errorf("event file holds %d events (err %v), want the 2 header events", len(events), err)
			}
		})
	}
}

func TestKindsConcurrent(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				step := int64(g*100 + i)
				check := func(err error) {
					if err != nil {
						t.Error(err)
					}
				}
				check(w.AddPRCurve(fmt.Sprintf("pr/%d", g), step, []bool{true, false}, []float32{0.7, 0.2}, 0))
				check(w.AddScalars("multi", step, map[string]float32{"a": float32(i), "b": float32(g)}))
				check(w.AddEmbedding(fmt.Sprintf("emb%d", g), step, [][]float32{{1, 2}, {3, 4}}, Metadata{Labels: []string{"x", "y"}}, nil))
				check(w.AddMesh(fmt.Sprintf("mesh%d", g), step, testMesh.Vertices, nil, nil))
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	runs, err := ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs, want the run and 2 sub-runs", len(runs))
	}
	for _, r := range runs {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		for tag, pts := range r.Series(NoPurge) {
			if len(pts) != 5 && !(r.Name != "." && len(pts) == 20) {
				t.Errorf("run %s tag %s: %d points", r.Name, tag, len(pts))
			}
		}
	}
	cfg, err := ReadProjectorConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Embeddings) != 20 {
		t.Errorf("%d embeddings in the config, want 20", len(cfg.Embeddings))
	}
}

func TestAddScalarsSubRuns(t *testing.T) {
	dir := t.TempDir()
	session := func(start, end int64) {
		w, err := Create(dir, Options{StartStep: start})
		if err != nil {
			t.Fatal(err)
		}
		for s := start; s <= end; s++ {
			if err := w.AddScalars("acc/top", s, map[string]float32{"train": float32(s), "test": -float32(s)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		// Sync reached the sub-run files before Close.
		evs, err := ReadFile(mustGlob(t, filepath.Join(dir, "acc_top_train", "events.out.tfevents.*"))[0])
		if err != nil || len(evs) < 3 {
			t.Fatalf("sub-run after Sync: %d events, %v", len(evs), err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.AddScalars("acc/top", end+1, map[string]float32{"train": 1}); !errors.Is(err, ErrClosed) {
			t.Errorf("AddScalars after Close: %v, want ErrClosed", err)
		}
	}
	session(0, 5)
	session(3, 7) // resumed at 3: every sub-run purges like the parent
	runs, err := ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
		if r.Name == "." {
			continue
		}
		if len(r.Files) != 2 {
			t.Errorf("%s: %d files, want one per session", r.Name, len(r.Files))
		}
		for _, rule := range []PurgeRule{PythonPurge, RustPurge} {
			if got := steps(r.Series(rule)["acc/top"]); !slices.Equal(got, seq(0, 7)) {
				t.Errorf("%s %v: steps %v, want 0..7", r.Name, rule, got)
			}
		}
		if starts := r.Events[1].GetSessionLog(); starts.GetStatus() != tbpb.SessionLog_START {
			t.Errorf("%s: second event %v, want START", r.Name, r.Events[1])
		}
	}
	if !slices.Equal(names, []string{".", "acc_top_test", "acc_top_train"}) {
		t.Errorf("runs %v", names)
	}

	var buf bytes.Buffer
	nw, err := NewWriter(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := nw.AddScalars("x", 0, map[string]float32{"a": 1}); !errors.Is(err, ErrNoRunDir) {
		t.Errorf("AddScalars on a NewWriter: %v, want ErrNoRunDir", err)
	}
	if err := nw.AddEmbedding("x", 0, [][]float32{{1}}, Metadata{}, nil); !errors.Is(err, ErrNoRunDir) {
		t.Errorf("AddEmbedding on a NewWriter: %v, want ErrNoRunDir", err)
	}
	nw.Close()
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("no file matches %s (%v)", pattern, err)
	}
	return m
}

func TestWithWallTime(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const wall = 1234567890.123456789 // not representable as whole nanoseconds: kept as given
	v := w.WithWallTime(wall)
	if err := v.AddScalar("s", 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := v.AddScalars("m", 1, map[string]float32{"a": 1}); err != nil {
		t.Fatal(err)
	}
	addEveryKind(t, v)
	if err := v.AddHParams(HParams{Values: map[string]any{"lr": 0.1}}); err != nil {
		t.Fatal(err)
	}
	if err := w.AddScalar("now", 1, 1); err != nil { // the original keeps the clock
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { v.AddScalar("s", 2, 2) }); n != 0 {
		t.Errorf("AddScalar on a view allocates %v times", n)
	}
	if err := v.Close(); err != nil { // closes the one writer
		t.Fatal(err)
	}
	if err := w.AddScalar("s", 3, 3); !errors.Is(err, ErrClosed) {
		t.Errorf("after the view's Close: %v, want ErrClosed", err)
	}
	runs, err := ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		for _, ev := range r.Events[2:] {
			tag := ev.GetSummary().GetValue()
			isNow := len(tag) > 0 && (tag[0].Tag == "now" || tag[0].Tag == HParamsSessionEndTag)
			if (ev.WallTime == wall) == isNow {
				t.Errorf("run %s event %v: wall %v", r.Name, ev.What, ev.WallTime)
			}
		}
	}
}

func TestAddEmbeddingReplace(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	img := solid(2, 2, color.RGBA{1, 2, 3, 255})
	add := func(tag string, step int64, md Metadata, sprites []image.Image) {
		t.Helper()
		if err := w.AddEmbedding(tag, step, [][]float32{{1, 2}, {3, 4}}, md, sprites); err != nil {
			t.Fatal(err)
		}
	}
	// An entry written by someone else stays.
	foreign := "model_checkpoint_dir: \"ckpt\"\nembeddings {\n  tensor_name: \"theirs\"\n  tensor_path: \"x.tsv\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, ProjectorConfigFile), []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	add("a", 1, Metadata{Labels: []string{"x", "y"}}, []image.Image{img, img})
	add("b", 1, Metadata{}, nil)
	add("a", 1, Metadata{}, nil) // re-run of a@1 without metadata or sprite
	cfg, err := ReadProjectorConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range cfg.Embeddings {
		names = append(names, e.TensorName)
	}
	if !slices.Equal(names, []string{"theirs", "a:00001", "b:00001"}) || cfg.ModelCheckpointDir != "ckpt" {
		t.Errorf("config %v", cfg)
	}
	if e := cfg.Embeddings[1]; e.MetadataPath != "" || e.Sprite != nil {
		t.Errorf("replaced entry kept metadata or sprite: %v", e)
	}
	for _, gone := range []string{"00001/a/metadata.tsv", "00001/a/sprite.png"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of the replaced entry still there (%v)", gone, err)
		}
	}
	// No temporary files are left.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	// A config that does not parse is left alone and nothing is written.
	bad := []byte("embeddings { nonsense: 1 }\n")
	if err := os.WriteFile(filepath.Join(dir, ProjectorConfigFile), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	err = w.AddEmbedding("c", 2, [][]float32{{1}}, Metadata{}, nil)
	if err == nil || !strings.Contains(err.Error(), ProjectorConfigFile) {
		t.Errorf("unparsable config: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ProjectorConfigFile)); !bytes.Equal(got, bad) {
		t.Error("unparsable config was changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "00002")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("files written despite the bad config (%v)", err)
	}
}

func TestAppendPyFloat(t *testing.T) {
	// repr() of these float64 values in CPython 3.
	cases := []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-2.5, "-2.5"}, {123, "123.0"},
		{0.1, "0.1"}, {float64(float32(0.1)), "0.10000000149011612"}, {1e-4, "0.0001"}, {1e-5, "1e-05"},
		{1.5e-7, "1.5e-07"}, {1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1.25e16, "1.25e+16"},
		{123456789012345678, "1.2345678901234568e+17"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{5e-324, "5e-324"}, {9999999999999998, "9999999999999998.0"}, {0.00012345, "0.00012345"},
	}
	for _, tc := range cases {
		if got := string(appendPyFloat(nil, tc.f)); got != tc.want {
			t.Errorf("appendPyFloat(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestGIF(t *testing.T) {
	// Few colors: stored exactly.
	frames := []image.Image{
		solid(5, 4, color.RGBA{10, 20, 30, 255}),
		solid(5, 4, color.RGBA{200, 100, 0, 255}),
		solid(5, 4, color.RGBA{0, 0, 0, 255}),
	}
	b, err := GIF(frames, 4)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != 3 || g.LoopCount != 0 || !slices.Equal(g.Delay, []int{25, 25, 25}) || g.Config.Width != 5 || g.Config.Height != 4 {
		t.Fatalf("GIF: %d frames, loop %d, delays %v, %dx%d", len(g.Image), g.LoopCount, g.Delay, g.Config.Width, g.Config.Height)
	}
	for i, f := range frames {
		if got, want := color.RGBAModel.Convert(g.Image[i].At(2, 2)), f.At(2, 2); got != want {
			t.Errorf("frame %d pixel %v, want %v", i, got, want)
		}
	}
	// Many colors: dithered to a 256-color palette, still one frame each.
	many := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := range 32 * 32 {
		many.Set(i%32, i/32, color.RGBA{uint8(i), uint8(i >> 2), uint8(i * 7), 255})
	}
	b, err = GIF([]image.Image{many, many}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if g, err = gif.DecodeAll(bytes.NewReader(b)); err != nil || len(g.Image) != 2 || g.Delay[0] != 1 {
		t.Fatalf("many colors: %v, %+v", err, g)
	}
}

func TestWAVStereoHeader(t *testing.T) {
	b, err := WAV([]float32{0, 0, 0, 0}, 2, 44100)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x44\xac\x00\x00\x10\xb1\x02\x00\x04\x00\x10\x00data\x08\x00\x00\x00")
	if !bytes.Equal(b[:44], want) || len(b) != 52 {
		t.Errorf("header % x, want % x", b[:44], want)
	}
}

// Every new kind goes through the Writer's per-tag kind check.
func TestKindsTagKindCheck(t *testing.T) {
	w, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, tag := range []string{"x", "mesh_VERTEX"} {
		if err := w.AddScalar(tag, 0, 1); err != nil {
			t.Fatal(err)
		}
	}
	for name, err := range map[string]error{
		"pr":    w.AddPRCurve("x", 1, []bool{true}, []float32{0.5}, 0),
		"audio": w.AddAudio("x", 1, []float32{0}, 1, 8000),
		"video": w.AddVideo("x", 1, []image.Image{solid(1, 1, color.RGBA{})}, 4),
		"mesh":  w.AddMesh("mesh", 1, testMesh.Vertices, nil, nil),
	} {
		if !errors.Is(err, ErrTagKind) {
			t.Errorf("%s under a scalar tag: %v, want ErrTagKind", name, err)
		}
	}
}
