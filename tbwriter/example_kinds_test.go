package tbwriter_test

import (
	"fmt"
	"image"
	"image/color"
	"log"
	"os"
	"path/filepath"

	"github.com/tbtrain/tbtrain/tbwriter"
)

// tempRun returns a writer for a fresh run directory and a cleanup.
func tempRun() (*tbwriter.Writer, string, func()) {
	dir, err := os.MkdirTemp("", "tbwriter-example")
	if err != nil {
		log.Fatal(err)
	}
	w, err := tbwriter.Create(dir, tbwriter.Options{})
	if err != nil {
		log.Fatal(err)
	}
	return w, dir, func() { w.Close(); os.RemoveAll(dir) }
}

// lastValue reads the run back and returns the last point of tag.
func lastValue(dir, tag string) tbwriter.Point {
	runs, err := tbwriter.ReadLogdir(dir)
	if err != nil {
		log.Fatal(err)
	}
	pts := runs[0].Series(tbwriter.PythonPurge)[tag]
	return pts[len(pts)-1]
}

// A PR curve of a binary classifier, with PyTorch's numbers.
func ExampleWriter_AddPRCurve() {
	w, dir, done := tempRun()
	defer done()
	labels := []bool{true, false, true, true, false, false}
	scores := []float32{0.9, 0.8, 0.7, 0.3, 0.2, 0.1}
	if err := w.AddPRCurve("pr/digit7", 100, labels, scores, 11); err != nil {
		log.Fatal(err)
	}
	w.Close()

	c, _ := tbwriter.PRCurveOf(lastValue(dir, "pr/digit7").Value)
	for _, i := range []int{0, 5, 8} {
		fmt.Printf("threshold %.1f: TP %v FP %v precision %.3f recall %.3f\n",
			float64(i)/10, c.TP[i], c.FP[i], c.Precision[i], c.Recall[i])
	}
	// Output:
	// threshold 0.0: TP 3 FP 3 precision 0.500 recall 1.000
	// threshold 0.5: TP 2 FP 1 precision 0.667 recall 0.667
	// threshold 0.8: TP 1 FP 1 precision 0.500 recall 0.333
}

// Counts computed elsewhere, two thresholds.
func ExampleWriter_AddPRCurveRaw() {
	w, dir, done := tempRun()
	defer done()
	err := w.AddPRCurveRaw("pr/raw", 1, tbwriter.PRCounts{
		TP: []float64{10, 4}, FP: []float64{10, 1}, TN: []float64{0, 9}, FN: []float64{0, 6},
		Precision: []float64{0.5, 0.8}, Recall: []float64{1, 0.4},
	})
	if err != nil {
		log.Fatal(err)
	}
	w.Close()
	c, _ := tbwriter.PRCurveOf(lastValue(dir, "pr/raw").Value)
	fmt.Println(c.Thresholds(), "thresholds, precision at 1:", c.Precision[1])
	// Output: 2 thresholds, precision at 1: 0.800000011920929
}

// A layout for the Custom Scalars tab: train and test loss in one chart, an
// accuracy band in another.
func ExampleWriter_AddCustomScalars() {
	w, dir, done := tempRun()
	defer done()
	err := w.AddCustomScalars(tbwriter.Layout{Categories: []tbwriter.Category{{
		Title: "Training",
		Charts: []tbwriter.Chart{
			{Title: "loss", Multiline: []string{`loss/(train|test)`}},
			{Title: "accuracy", Margin: []tbwriter.MarginSeries{{Value: "acc", Lower: "acc/lo", Upper: "acc/hi"}}},
		},
	}}})
	if err != nil {
		log.Fatal(err)
	}
	w.Close()
	l, _ := tbwriter.CustomScalarsOf(lastValue(dir, tbwriter.CustomScalarsTag).Value)
	for _, c := range l.Category[0].Chart {
		fmt.Println(c.Title, c.GetMultiline().GetTag())
		for _, s := range c.GetMargin().GetSeries() {
			fmt.Println("  margin", s.Value, s.Lower, s.Upper)
		}
	}
	// Output:
	// loss [loss/(train|test)]
	// accuracy []
	//   margin acc acc/lo acc/hi
}

// A small graph for the Graphs tab: names with '/' become groups, output
// shapes label the edges.
func ExampleGraph() {
	g := tbwriter.NewGraph()
	g.Node("input/x", "IO Node").OutputShape(64, 1, 28, 28)
	g.Node("LeNet5/conv1", "Conv2d", "input/x").OutputShape(64, 6, 28, 28).Attr("kernel", []int64{5, 5})
	g.Node("LeNet5/relu1", "ReLU", "LeNet5/conv1").OutputShape(64, 6, 28, 28)
	g.Node("output/logits", "IO Node", "LeNet5/relu1")

	w, dir, done := tempRun()
	defer done()
	if err := w.AddGraph(g); err != nil {
		log.Fatal(err)
	}
	w.Close()

	runs, _ := tbwriter.ReadLogdir(dir)
	for _, ev := range runs[0].Events {
		if gd, ok := tbwriter.GraphOf(ev); ok {
			for _, n := range gd.Node {
				var shapes [][]int64
				for _, s := range n.Attr[tbwriter.OutputShapesAttr].GetList().GetShape() {
					var dims []int64
					for _, d := range s.Dim {
						dims = append(dims, d.Size)
					}
					shapes = append(shapes, dims)
				}
				fmt.Println(n.Name, n.Op, n.Input, shapes)
			}
		}
	}
	// A typo in an input is an error, and nothing is written.
	bad := tbwriter.NewGraph()
	bad.Node("a", "Op", "b")
	fmt.Println(w.AddGraph(bad) != nil)
	// Output:
	// input/x IO Node [] [[64 1 28 28]]
	// LeNet5/conv1 Conv2d [input/x] [[64 6 28 28]]
	// LeNet5/relu1 ReLU [LeNet5/conv1] [[64 6 28 28]]
	// output/logits IO Node [LeNet5/relu1] []
	// true
}

// Three points with labels and thumbnails for the Projector tab.
func ExampleWriter_AddEmbedding() {
	w, dir, done := tempRun()
	defer done()
	thumb := func(v uint8) image.Image {
		m := image.NewGray(image.Rect(0, 0, 28, 28))
		for i := range m.Pix {
			m.Pix[i] = v
		}
		return m
	}
	vectors := [][]float32{{0.1, 0.2}, {0.3, 0.4}, {1e-5, 5}}
	err := w.AddEmbedding("test/features", 500, vectors,
		tbwriter.Metadata{Header: []string{"label", "correct"}, Rows: [][]string{{"7", "yes"}, {"2", "yes"}, {"1", "no"}}},
		[]image.Image{thumb(0), thumb(128), thumb(255)})
	if err != nil {
		log.Fatal(err)
	}
	cfg, _ := tbwriter.ReadProjectorConfig(dir)
	e := cfg.Embeddings[0]
	fmt.Println(e.TensorName, e.TensorShape, e.TensorPath, e.Sprite.SingleImageDim)
	tsv, _ := os.ReadFile(filepath.Join(dir, e.TensorPath))
	md, _ := os.ReadFile(filepath.Join(dir, e.MetadataPath))
	fmt.Printf("%s%s", tsv, md)
	// Output:
	// test/features:00500 [3 2] 00500/test%2ffeatures/tensors.tsv [28 28]
	// 0.10000000149011612	0.20000000298023224
	// 0.30000001192092896	0.4000000059604645
	// 9.999999747378752e-06	5.0
	// label	correct
	// 7	yes
	// 2	yes
	// 1	no
}

// Half a second of a 440 Hz tone, stereo.
func ExampleWriter_AddAudio() {
	w, dir, done := tempRun()
	defer done()
	const rate = 8000
	samples := make([]float32, 2*rate/2)
	for i := range samples {
		samples[i] = float32(i%18) / 18 // a sawtooth stands in for the tone
	}
	if err := w.AddAudio("audio/tone", 0, samples, 2, rate); err != nil {
		log.Fatal(err)
	}
	w.Close()
	a, _ := tbwriter.AudioOf(lastValue(dir, "audio/tone").Value)
	fmt.Println(a.SampleRate, "Hz,", a.Channels, "channels,", a.Seconds(), "s,", a.ContentType, len(a.Encoded), "bytes")
	// Output: 8000 Hz, 2 channels, 0.5 s, audio/wav 16044 bytes
}

// A four-frame animation, shown in the Images tab.
func ExampleWriter_AddVideo() {
	w, dir, done := tempRun()
	defer done()
	var frames []image.Image
	for f := range 4 {
		m := image.NewRGBA(image.Rect(0, 0, 16, 16))
		for x := range 16 {
			m.Set(x, 4*f, color.RGBA{255, 255, 255, 255}) // a line moving down
		}
		frames = append(frames, m)
	}
	if err := w.AddVideo("video/line", 0, frames, tbwriter.DefaultVideoFPS); err != nil {
		log.Fatal(err)
	}
	w.Close()
	p := lastValue(dir, "video/line")
	v, _ := tbwriter.VideoOf(p.Value)
	fmt.Println(tbwriter.PluginName(p.Value), v.Frames, "frames", v.Width, "x", v.Height, "delays", v.Delays)
	// Output: images 4 frames 16 x 16 delays [25 25 25 25]
}

// A colored triangle for the Mesh tab.
func ExampleWriter_AddMesh() {
	w, dir, done := tempRun()
	defer done()
	err := w.AddMesh("triangle", 0,
		[][3]float32{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}},
		[][3]int32{{0, 1, 2}},
		[][3]uint8{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}})
	if err != nil {
		log.Fatal(err)
	}
	w.Close()
	for _, tag := range []string{"triangle_VERTEX", "triangle_FACE", "triangle_COLOR"} {
		m, _ := tbwriter.MeshOf(lastValue(dir, tag).Value)
		fmt.Println(tag, m.Data.ContentType, m.Data.Shape, m.Values)
	}
	// Output:
	// triangle_VERTEX VERTEX [1 3 3] [0 0 0 1 0 0 0 1 0]
	// triangle_FACE FACE [1 1 3] [0 1 2]
	// triangle_COLOR COLOR [1 3 3] [255 0 0 0 255 0 0 0 255]
}

// Train and test loss in one chart: one sub-run per key.
func ExampleWriter_AddScalars() {
	w, dir, done := tempRun()
	defer done()
	for step := int64(0); step < 3; step++ {
		w.AddScalars("loss", step, map[string]float32{"train": 1 / float32(step+1), "test": 2 / float32(step+1)})
	}
	w.Close()
	runs, _ := tbwriter.ReadLogdir(dir)
	for _, r := range runs[1:] { // runs[0] is the run itself
		var vals []float64
		for _, p := range r.Series(tbwriter.PythonPurge)["loss"] {
			v, _ := tbwriter.ScalarOf(p.Value)
			vals = append(vals, v)
		}
		fmt.Println(r.Name, vals)
	}
	// Output:
	// loss_test [2 1 0.6666666865348816]
	// loss_train [1 0.5 0.3333333432674408]
}

// Copy a point with its original wall time, as an importer would.
func ExampleWriter_WithWallTime() {
	w, dir, done := tempRun()
	defer done()
	const original = 1700000000.123456 // Event.wall_time of the source
	w.WithWallTime(original).AddScalar("loss", 7, 0.25)
	w.Close()
	p := lastValue(dir, "loss")
	fmt.Println(p.Step, p.WallTime == original)
	// Output: 7 true
}
