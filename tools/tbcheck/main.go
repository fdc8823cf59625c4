package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/tbtrain/tbtrain/tbwriter"
)

// expected is what check.py compares TensorBoard's answers with.
type expected struct {
	Run        string               `json:"run"`
	PRTag      string               `json:"pr_tag"`
	PRStep     int64                `json:"pr_step"`
	PR         map[string][]float32 `json:"pr"` // tp, fp, tn, fn, precision, recall
	AudioTag   string               `json:"audio_tag"`
	AudioWAV   []byte               `json:"audio_wav"`
	VideoTag   string               `json:"video_tag"`
	VideoGIF   []byte               `json:"video_gif"`
	VideoFrame int                  `json:"video_frames"`
	GraphNodes []string             `json:"graph_nodes"`
	Layout     tbwriter.Layout      `json:"layout"`
	MeshTag    string               `json:"mesh_tag"`
	MeshStep   int64                `json:"mesh_step"`
	Vertices   [][3]float32         `json:"vertices"`
	Faces      [][3]int32           `json:"faces"`
	Colors     [][3]uint8           `json:"colors"`
	EmbName    string               `json:"embedding_name"`
	EmbVectors [][]float32          `json:"embedding_vectors"`
	EmbLabels  []string             `json:"embedding_labels"`
	EmbSprite  string               `json:"embedding_sprite_path"`
	Scalars    map[string][]float32 `json:"scalars"` // sub-run -> values at steps 0..
	ScalarsTag string               `json:"scalars_tag"`
	WallTag    string               `json:"wall_tag"`
	WallTime   float64              `json:"wall_time"`
}

func main() {
	log.SetFlags(0)
	logdir := flag.String("logdir", "", "directory to write the run kinds/ and expected.json into")
	flag.Parse()
	if *logdir == "" {
		log.Fatal("tbcheck: -logdir is required")
	}
	if err := write(*logdir); err != nil {
		log.Fatal("tbcheck: ", err)
	}
}

func write(logdir string) error {
	dir := filepath.Join(logdir, "kinds")
	w, err := tbwriter.Create(dir, tbwriter.Options{})
	if err != nil {
		return err
	}
	exp := expected{Run: "kinds", PRTag: "pr/digit7", PRStep: 5, AudioTag: "audio/chord", VideoTag: "video/square",
		MeshTag: "tetra", MeshStep: 3, ScalarsTag: "loss", WallTag: "imported", WallTime: 1234567890.25,
		PR: map[string][]float32{}, Scalars: map[string][]float32{}}

	// PR curve: 200 examples, scores correlated with the labels.
	var labels []bool
	var scores []float32
	for i := range 200 {
		labels = append(labels, i%3 == 0)
		s := float32(i%50) / 49
		if i%3 == 0 {
			s = min(1, s+0.3)
		}
		scores = append(scores, s)
	}
	if err := w.AddPRCurve(exp.PRTag, exp.PRStep, labels, scores, 0); err != nil {
		return err
	}
	c, _ := tbwriter.ComputePRCounts(labels, scores, 0)
	for name, col := range map[string][]float64{"tp": c.TP, "fp": c.FP, "tn": c.TN, "fn": c.FN, "precision": c.Precision, "recall": c.Recall} {
		for _, x := range col {
			exp.PR[name] = append(exp.PR[name], float32(x))
		}
	}

	// Audio: a quarter second of two tones, one per channel.
	const rate = 8000
	var samples []float32
	for i := range rate / 4 {
		t := float64(i) / rate
		samples = append(samples, float32(0.5*math.Sin(2*math.Pi*440*t)), float32(0.5*math.Sin(2*math.Pi*660*t)))
	}
	if err := w.AddAudio(exp.AudioTag, 1, samples, 2, rate); err != nil {
		return err
	}
	exp.AudioWAV, _ = tbwriter.WAV(samples, 2, rate)

	// Video: a square moving across 6 frames.
	var frames []image.Image
	for f := range 6 {
		m := image.NewRGBA(image.Rect(0, 0, 32, 32))
		for y := 10; y < 20; y++ {
			for x := 4 * f; x < 4*f+8; x++ {
				m.Set(x, y, color.RGBA{uint8(40 * f), 200, 80, 255})
			}
		}
		frames = append(frames, m)
	}
	if err := w.AddVideo(exp.VideoTag, 2, frames, 5); err != nil {
		return err
	}
	exp.VideoGIF, _ = tbwriter.GIF(frames, 5)
	exp.VideoFrame = len(frames)

	// Graph: LeNet-5's layers.
	g := tbwriter.NewGraph()
	g.Node("input/x", "IO Node").OutputShape(64, 1, 28, 28)
	prev := "input/x"
	for _, l := range []struct {
		name, op string
		shape    []int64
	}{
		{"LeNet5/conv1", "Conv2d", []int64{64, 6, 28, 28}}, {"LeNet5/relu1", "ReLU", []int64{64, 6, 28, 28}},
		{"LeNet5/pool1", "MaxPool2d", []int64{64, 6, 14, 14}}, {"LeNet5/conv2", "Conv2d", []int64{64, 16, 10, 10}},
		{"LeNet5/relu2", "ReLU", []int64{64, 16, 10, 10}}, {"LeNet5/pool2", "MaxPool2d", []int64{64, 16, 5, 5}},
		{"LeNet5/flatten", "Flatten", []int64{64, 400}}, {"LeNet5/fc1", "Linear", []int64{64, 120}},
		{"LeNet5/relu3", "ReLU", []int64{64, 120}}, {"LeNet5/fc2", "Linear", []int64{64, 84}},
		{"LeNet5/relu4", "ReLU", []int64{64, 84}}, {"LeNet5/fc3", "Linear", []int64{64, 10}},
	} {
		g.Node(l.name, l.op, prev).OutputShape(l.shape...)
		prev = l.name
	}
	g.Node("output/logits", "IO Node", prev)
	if err := w.AddGraph(g); err != nil {
		return err
	}
	gd, _ := g.GraphDef()
	for _, n := range gd.Node {
		exp.GraphNodes = append(exp.GraphNodes, n.Name)
	}

	// Custom scalars.
	exp.Layout = tbwriter.Layout{Categories: []tbwriter.Category{
		{Title: "Losses", Charts: []tbwriter.Chart{{Title: "train vs test", Multiline: []string{"loss"}}}},
		{Title: "Bands", Closed: true, Charts: []tbwriter.Chart{{Title: "acc", Margin: []tbwriter.MarginSeries{{Value: "acc", Lower: "acc/lo", Upper: "acc/hi"}}}}},
	}}
	if err := w.AddCustomScalars(exp.Layout); err != nil {
		return err
	}

	// Mesh.
	exp.Vertices = [][3]float32{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1.5}}
	exp.Faces = [][3]int32{{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}}
	exp.Colors = [][3]uint8{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {200, 100, 50}}
	if err := w.AddMesh(exp.MeshTag, exp.MeshStep, exp.Vertices, exp.Faces, exp.Colors); err != nil {
		return err
	}

	// Embedding with labels and sprites.
	var sprites []image.Image
	for i := range 20 {
		exp.EmbVectors = append(exp.EmbVectors, []float32{float32(i%4) + 0.125, float32(i/4) * 0.5, float32(i) * 1e-3})
		exp.EmbLabels = append(exp.EmbLabels, fmt.Sprint(i%4))
		m := image.NewGray(image.Rect(0, 0, 8, 8))
		for p := range m.Pix {
			m.Pix[p] = uint8(12 * i)
		}
		sprites = append(sprites, m)
	}
	if err := w.AddEmbedding("test/features", 9, exp.EmbVectors, tbwriter.Metadata{Labels: exp.EmbLabels}, sprites); err != nil {
		return err
	}
	exp.EmbName = tbwriter.EmbeddingTensorName("test/features", 9)
	exp.EmbSprite = tbwriter.EmbeddingDir("test/features", 9) + "/sprite.png"

	// AddScalars sub-runs and an explicit wall time.
	for step := range int64(5) {
		vals := map[string]float32{"train": 1 / float32(step+1), "test": 1.5 / float32(step+1)}
		if err := w.AddScalars(exp.ScalarsTag, step, vals); err != nil {
			return err
		}
		for k, v := range vals {
			name := "kinds/" + tbwriter.ScalarsRunName(exp.ScalarsTag, k)
			exp.Scalars[name] = append(exp.Scalars[name], v)
		}
	}
	if err := w.WithWallTime(exp.WallTime).AddScalar(exp.WallTag, 0, 42); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(exp, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(logdir, "expected.json"), b, 0o644)
}
