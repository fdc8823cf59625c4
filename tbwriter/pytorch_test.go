package tbwriter

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// pytorchDir holds what PyTorch 1.13's SummaryWriter wrote for the inputs
// in inputs.json (testdata/pytorch-writer/gen.py; README.md there).
var pytorchDir = filepath.Join("..", "testdata", "pytorch-writer")

type pytorchInputs struct {
	WallTime float64 `json:"wall_time"`
	PR       struct {
		Labels      []bool    `json:"labels"`
		Predictions []float32 `json:"predictions"`
	} `json:"pr"`
	PRRaw struct {
		TP, FP, TN, FN, Precision, Recall []float64
	} `json:"pr_raw"`
	Audio struct {
		Samples    []float32 `json:"samples"`
		SampleRate int       `json:"sample_rate"`
	} `json:"audio"`
	Embedding struct {
		Vectors     [][]float32 `json:"vectors"`
		Labels      []string    `json:"labels"`
		Rows        [][]string  `json:"rows"`
		Header      []string    `json:"header"`
		Images      []uint8     `json:"images_nchw_u8"`
		ImagesShape []int       `json:"images_shape"`
	} `json:"embedding"`
	Mesh struct {
		Vertices []float32 `json:"vertices"`
		Faces    []int32   `json:"faces"`
		Colors   []uint8   `json:"colors"`
	} `json:"mesh"`
}

// loadPyTorch reads the inputs and PyTorch's main event file, and returns
// the values by tag and the events.
func loadPyTorch(t *testing.T) (*pytorchInputs, map[string]*tbpb.Summary_Value, []*tbpb.Event) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pytorchDir, "inputs.json"))
	if err != nil {
		t.Fatalf("fixture missing (see testdata/pytorch-writer/README.md): %v", err)
	}
	var in pytorchInputs
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(pytorchDir, "run", "events.out.tfevents.*"))
	if len(files) != 1 {
		t.Fatalf("want one PyTorch event file in run/, found %v", files)
	}
	events, err := ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]*tbpb.Summary_Value{}
	for _, ev := range events {
		for _, v := range ev.GetSummary().GetValue() {
			vals[v.Tag] = v
		}
	}
	return &in, vals, events
}

// sameFloat32 reports whether a and b hold the same float32 bits, widened.
func sameFloat32(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return math.Float32bits(float32(x)) == math.Float32bits(float32(y))
	})
}

func TestPyTorchPRCurve(t *testing.T) {
	in, vals, _ := loadPyTorch(t)
	for _, tc := range []struct {
		tag string
		n   int
	}{{"pr/default", 0}, {"pr/t11", 11}} {
		want := vals[tc.tag]
		wantC, ok := PRCurveOf(want)
		if !ok {
			t.Fatalf("%s: PyTorch's value does not decode as a PR curve: %v", tc.tag, want)
		}
		c, err := ComputePRCounts(in.PR.Labels, in.PR.Predictions, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := PRCurveValue(tc.tag, c)
		if err != nil {
			t.Fatal(err)
		}
		gotC, _ := PRCurveOf(got)
		for i, pair := range [][2][]float64{
			{gotC.TP, wantC.TP}, {gotC.FP, wantC.FP}, {gotC.TN, wantC.TN}, {gotC.FN, wantC.FN},
			{gotC.Precision, wantC.Precision}, {gotC.Recall, wantC.Recall},
		} {
			if !sameFloat32(pair[0], pair[1]) {
				t.Errorf("%s row %d differs from PyTorch's:\n got %v\nwant %v", tc.tag, i, pair[0], pair[1])
			}
		}
		if !proto.Equal(got.Metadata.PluginData, want.Metadata.PluginData) {
			t.Errorf("%s plugin data %v, PyTorch %v", tc.tag, got.Metadata.PluginData, want.Metadata.PluginData)
		}
		if !proto.Equal(got.GetTensor().GetTensorShape(), want.GetTensor().GetTensorShape()) {
			t.Errorf("%s shape %v, PyTorch %v", tc.tag, got.GetTensor().GetTensorShape(), want.GetTensor().GetTensorShape())
		}
	}

	r := in.PRRaw
	got, err := PRCurveValue("pr/raw", PRCounts{TP: r.TP, FP: r.FP, TN: r.TN, FN: r.FN, Precision: r.Precision, Recall: r.Recall})
	if err != nil {
		t.Fatal(err)
	}
	gotC, _ := PRCurveOf(got)
	wantC, ok := PRCurveOf(vals["pr/raw"])
	if !ok || !sameFloat32(slices.Concat(gotC.TP, gotC.FP, gotC.TN, gotC.FN, gotC.Precision, gotC.Recall),
		slices.Concat(wantC.TP, wantC.FP, wantC.TN, wantC.FN, wantC.Precision, wantC.Recall)) {
		t.Errorf("pr/raw: got %+v, PyTorch %+v", gotC, wantC)
	}
	if !proto.Equal(got.Metadata.PluginData, vals["pr/raw"].Metadata.PluginData) {
		t.Errorf("pr/raw plugin data %v, PyTorch %v", got.Metadata.PluginData, vals["pr/raw"].Metadata.PluginData)
	}
}

func TestPyTorchAudio(t *testing.T) {
	in, vals, _ := loadPyTorch(t)
	got, err := AudioValue("audio/tone", in.Audio.Samples, 1, in.Audio.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	// Bit for bit: the WAV file (header and every sample) and every field.
	if want := vals["audio/tone"]; !proto.Equal(got, want) {
		ga, wa := got.GetAudio(), want.GetAudio()
		t.Errorf("audio differs from PyTorch's: rate %v/%v channels %d/%d frames %d/%d type %q/%q wav equal %v",
			ga.SampleRate, wa.SampleRate, ga.NumChannels, wa.NumChannels, ga.LengthFrames, wa.LengthFrames,
			ga.ContentType, wa.ContentType, bytes.Equal(ga.EncodedAudioString, wa.EncodedAudioString))
	}
}

// nchwImages converts the generator's N x 3 x H x W bytes to images.
func nchwImages(b []uint8, shape []int) []image.Image {
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	out := make([]image.Image, n)
	for i := range n {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				at := func(ch int) uint8 { return b[((i*c+ch)*h+y)*w+x] }
				m.SetRGBA(x, y, color.RGBA{at(0), at(1), at(2), 0xff})
			}
		}
		out[i] = m
	}
	return out
}

func TestPyTorchEmbedding(t *testing.T) {
	in, _, _ := loadPyTorch(t)
	e := in.Embedding
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.AddEmbedding("digits", 3, e.Vectors, Metadata{Labels: e.Labels}, nchwImages(e.Images, e.ImagesShape)); err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(e.Vectors)
	slices.Reverse(rev)
	if err := w.AddEmbedding("a/b%c", 12, rev, Metadata{Header: e.Header, Rows: e.Rows}, nil); err != nil {
		t.Fatal(err)
	}

	// The text files are byte for byte PyTorch's.
	for _, name := range []string{
		"00003/digits/tensors.tsv", "00003/digits/metadata.tsv",
		"00012/a%2fb%25c/tensors.tsv", "00012/a%2fb%25c/metadata.tsv",
	} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(pytorchDir, "run", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from PyTorch's:\n got %q\nwant %q", name, got, want)
		}
	}
	// The sprite has PyTorch's size and pixels (the PNG encoders differ).
	decode := func(path string) image.Image {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	gs, ws := decode(filepath.Join(dir, "00003/digits/sprite.png")), decode(filepath.Join(pytorchDir, "run/00003/digits/sprite.png"))
	if gs.Bounds() != ws.Bounds() {
		t.Fatalf("sprite %v, PyTorch's %v", gs.Bounds(), ws.Bounds())
	}
	for y := range ws.Bounds().Dy() {
		for x := range ws.Bounds().Dx() {
			g, w := color.RGBAModel.Convert(gs.At(x, y)), color.RGBAModel.Convert(ws.At(x, y))
			if g != w {
				t.Fatalf("sprite pixel (%d,%d) = %v, PyTorch's %v", x, y, g, w)
			}
		}
	}
	// The config holds PyTorch's entries plus tensor_shape, which PyTorch
	// leaves to the plugin.
	got, err := ReadProjectorConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadProjectorConfig(filepath.Join(pytorchDir, "run"))
	if err != nil {
		t.Fatal(err)
	}
	wantShapes := [][]uint32{{10, 4}, {10, 4}}
	for i, emb := range got.Embeddings {
		if !slices.Equal(emb.TensorShape, wantShapes[i]) {
			t.Errorf("entry %d tensor_shape %v, want %v", i, emb.TensorShape, wantShapes[i])
		}
		emb.TensorShape = nil
	}
	if !proto.Equal(got, want) {
		t.Errorf("projector config\n got %v\nwant %v", got, want)
	}
	// FormatProjectorConfig prints PyTorch's file byte for byte.
	raw, err := os.ReadFile(filepath.Join(pytorchDir, "run", ProjectorConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if out := FormatProjectorConfig(want); !bytes.Equal(out, raw) {
		t.Errorf("FormatProjectorConfig differs from Python's text_format:\n got %q\nwant %q", out, raw)
	}
}

// noUnknown fails t for every unknown field in m, recursively: a field
// number this package's schema lacks or gets wrong.
func noUnknown(t *testing.T, where string, m protoreflect.Message) {
	t.Helper()
	if u := m.GetUnknown(); len(u) > 0 {
		t.Errorf("%s (%s): %d bytes of unknown fields", where, m.Descriptor().FullName(), len(u))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				noUnknown(t, where+"."+string(fd.Name()), mv.Message())
				return true
			})
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				noUnknown(t, where+"."+string(fd.Name()), v.List().Get(i).Message())
			}
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			noUnknown(t, where+"."+string(fd.Name()), v.Message())
		}
		return true
	})
}

func TestPyTorchGraph(t *testing.T) {
	_, _, events := loadPyTorch(t)
	var want *tbpb.GraphDef
	for _, ev := range events {
		if gd, ok := GraphOf(ev); ok {
			want = gd
			if ev.Step != 0 {
				t.Errorf("PyTorch's graph at step %d; AddGraph writes step 0", ev.Step)
			}
		}
	}
	if want == nil {
		t.Fatal("no graph_def in PyTorch's file")
	}
	noUnknown(t, "GraphDef", want.ProtoReflect())
	if len(want.Node) < 40 {
		t.Fatalf("PyTorch's LeNet-5 graph has %d nodes", len(want.Node))
	}
	// PyTorch's GraphDef names 10 inputs that are no node (the module
	// attribute reads "weight/_0.1" and the like, which its parser drops);
	// the Graphs tab skips such edges, while the builder refuses them as
	// typos. Apart from those, the builder writes the same GraphDef.
	names := map[string]bool{}
	for _, n := range want.Node {
		names[n.Name] = true
	}
	dangling := 0
	for _, n := range want.Node {
		n.Input = slices.DeleteFunc(n.Input, func(in string) bool {
			if !names[in] {
				dangling++
				return true
			}
			return false
		})
	}
	if dangling != 10 {
		t.Errorf("PyTorch's graph has %d dangling inputs, expected 10", dangling)
	}
	g := NewGraph()
	for _, n := range want.Node {
		b := g.Node(n.Name, n.Op, n.Input...)
		for key, a := range n.Attr {
			if key == OutputShapesAttr {
				for _, s := range a.GetList().GetShape() {
					var dims []int64
					for _, d := range s.Dim {
						dims = append(dims, d.Size)
					}
					b.OutputShape(dims...)
				}
				continue
			}
			b.Attr(key, string(a.GetS()))
		}
	}
	got, err := g.GraphDef()
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("builder's GraphDef differs from PyTorch's")
	}
	if _, err := GraphEvent(got); err != nil {
		t.Fatal(err)
	}
}

func TestPyTorchCustomScalars(t *testing.T) {
	_, vals, _ := loadPyTorch(t)
	want := vals[CustomScalarsTag]
	wantL, ok := CustomScalarsOf(want)
	if !ok {
		t.Fatal("PyTorch's layout does not decode")
	}
	noUnknown(t, "Layout", wantL.ProtoReflect())
	got, err := CustomScalarsValue(Layout{Categories: []Category{
		{Title: "Training", Charts: []Chart{
			{Title: "loss", Multiline: []string{"loss/train", "loss/test"}},
			{Title: "accuracy band", Margin: []MarginSeries{{Value: "acc/mean", Lower: "acc/lo", Upper: "acc/hi"}}},
		}},
		{Title: "Rates", Charts: []Chart{{Title: "lr", Multiline: []string{"lr.*"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	gotL, _ := CustomScalarsOf(got)
	if !proto.Equal(gotL, wantL) {
		t.Errorf("layout\n got %v\nwant %v", gotL, wantL)
	}
	// PyTorch leaves data_class unset; TensorBoard's loaders set the
	// DATA_CLASS_TENSOR this package writes.
	got.Metadata.DataClass = tbpb.DataClass_DATA_CLASS_UNKNOWN
	got.GetTensor().StringVal = want.GetTensor().StringVal
	if !proto.Equal(got, want) {
		t.Errorf("value\n got %v\nwant %v", got, want)
	}
}

func TestPyTorchMesh(t *testing.T) {
	in, vals, _ := loadPyTorch(t)
	var m Mesh
	for i := 0; i < len(in.Mesh.Vertices); i += 3 {
		v := in.Mesh.Vertices[i:]
		c := in.Mesh.Colors[i:]
		m.Vertices = append(m.Vertices, [3]float32{v[0], v[1], v[2]})
		m.Colors = append(m.Colors, [3]uint8{c[0], c[1], c[2]})
	}
	for i := 0; i < len(in.Mesh.Faces); i += 3 {
		f := in.Mesh.Faces[i:]
		m.Faces = append(m.Faces, [3]int32{f[0], f[1], f[2]})
	}
	got, err := MeshValues("tetra", m)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d values, want 3", len(got))
	}
	for _, g := range got {
		w := vals[g.Tag]
		if w == nil {
			t.Fatalf("PyTorch wrote no %s", g.Tag)
		}
		gp, ok1 := MeshOf(g)
		wp, ok2 := MeshOf(w)
		if !ok1 || !ok2 {
			t.Fatalf("%s: does not decode (ours %v, PyTorch's %v)", g.Tag, ok1, ok2)
		}
		if !proto.Equal(gp.Data, wp.Data) {
			t.Errorf("%s plugin data\n got %v\nwant %v", g.Tag, gp.Data, wp.Data)
		}
		if !sameFloat32(gp.Values, wp.Values) {
			t.Errorf("%s values %v, PyTorch %v", g.Tag, gp.Values, wp.Values)
		}
		if !proto.Equal(g.GetTensor().GetTensorShape(), w.GetTensor().GetTensorShape()) {
			t.Errorf("%s shape %v, PyTorch %v", g.Tag, g.GetTensor().GetTensorShape(), w.GetTensor().GetTensorShape())
		}
	}
}

func TestPyTorchScalars(t *testing.T) {
	in, _, _ := loadPyTorch(t)
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for step := range int64(3) {
		err := w.WithWallTime(in.WallTime).AddScalars("loss", step, map[string]float32{
			"train": float32(1.0 / float64(step+1)), "test": float32(1.5 / float64(step+1)),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mine, err := ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := ReadLogdir(filepath.Join(pytorchDir, "run"))
	if err != nil {
		t.Fatal(err)
	}
	byName := func(runs []*Run) map[string]*Run {
		m := map[string]*Run{}
		for _, r := range runs {
			m[r.Name] = r
		}
		return m
	}
	my, py := byName(mine), byName(theirs)
	for _, name := range []string{"loss_test", "loss_train"} {
		if my[name] == nil || py[name] == nil {
			t.Fatalf("sub-run %s: ours %v, PyTorch's %v", name, my[name] != nil, py[name] != nil)
		}
		g, p := my[name].Series(PythonPurge)["loss"], py[name].Series(PythonPurge)["loss"]
		if len(g) != 3 || len(p) != 3 {
			t.Fatalf("%s: %d points, PyTorch %d", name, len(g), len(p))
		}
		for i := range g {
			if g[i].Step != p[i].Step || g[i].WallTime != p[i].WallTime || !proto.Equal(g[i].Value, p[i].Value) {
				t.Errorf("%s point %d: %v @%d wall %v, PyTorch %v @%d wall %v", name, i,
					g[i].Value, g[i].Step, g[i].WallTime, p[i].Value, p[i].Step, p[i].WallTime)
			}
		}
	}
}
