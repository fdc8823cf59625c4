package trainer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/ckpttest"
	"github.com/tbtrain/tbtrain/internal/dirtest"
	"github.com/tbtrain/tbtrain/model"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/trainer"
)

// trainedRun trains cfg to the end in a new run under a temporary logdir and
// returns the run directory and what it logged under the Python purge rule.
func trainedRun(t *testing.T, cfg trainer.Config) (string, map[string][]tbwriter.Point) {
	t.Helper()
	logdir := t.TempDir()
	tr, err := trainer.New(logdir, cfg, trainSet, testSet, trainer.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tr.Dir(), runOf(t, tr.Dir()).Series(tbwriter.PythonPurge)
}

// parseConfusionTable reads the 10×10 counts back from the markdown table
// of test/confusion_table.
func parseConfusionTable(t *testing.T, md string) [10][10]int {
	t.Helper()
	var m [10][10]int
	rows := 0
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| **") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 12 {
			t.Fatalf("table row %q has %d cells, want 12", line, len(cells))
		}
		d, err := strconv.Atoi(strings.Trim(strings.TrimSpace(cells[0]), "*"))
		if err != nil || d != rows {
			t.Fatalf("row %d is labelled %q", rows, cells[0])
		}
		for p := range 10 {
			v, err := strconv.Atoi(strings.Trim(strings.TrimSpace(cells[1+p]), "*"))
			if err != nil {
				t.Fatalf("row %d column %d: %q", d, p, cells[1+p])
			}
			m[d][p] = v
		}
		rows++
	}
	if rows != 10 {
		t.Fatalf("%d rows in the confusion table, want 10:\n%s", rows, md)
	}
	return m
}

// TestConfusionFromTestPass: at every epoch end the confusion matrix is the
// test pass's: each row adds up to the test images of that digit, the
// diagonal to test/acc of the same step; the picture decodes as a PNG.
func TestConfusionFromTestPass(t *testing.T) {
	cfg := smallConfig()
	_, logs := trainedRun(t, cfg)
	var perDigit [10]int
	for _, y := range testSet.Labels[:cfg.LimitTest] {
		perDigit[y]++
	}
	acc := logs["test/acc"]
	tables := logs["test/confusion_table"]
	images := logs["test/confusion"]
	if len(tables) != int(cfg.Epochs) || len(images) != int(cfg.Epochs) || len(acc) != int(cfg.Epochs) {
		t.Fatalf("%d tables, %d images, %d test/acc points; want %d of each", len(tables), len(images), len(acc), cfg.Epochs)
	}
	for i, p := range tables {
		if p.Step != acc[i].Step || images[i].Step != acc[i].Step {
			t.Errorf("epoch %d: table at step %d, image at %d, test/acc at %d", i, p.Step, images[i].Step, acc[i].Step)
		}
		text, ok := tbwriter.TextOf(p.Value)
		if !ok || len(text) != 1 {
			t.Fatalf("epoch %d: test/confusion_table is not one text: %v", i, p.Value)
		}
		m := parseConfusionTable(t, text[0])
		diag := 0
		for d := range 10 {
			row := 0
			for _, v := range m[d] {
				row += v
			}
			if row != perDigit[d] {
				t.Errorf("epoch %d: row %d adds up to %d, the test set has %d images of %d", i, d, row, perDigit[d], d)
			}
			diag += m[d][d]
		}
		got, _ := tbwriter.ScalarOf(acc[i].Value)
		if want := float32(float64(diag) / float64(cfg.LimitTest)); float32(got) != want {
			t.Errorf("epoch %d: test/acc %v, the matrix's diagonal gives %v", i, got, want)
		}
		img := images[i].Value.GetImage()
		if img == nil {
			t.Fatalf("epoch %d: test/confusion holds no image", i)
		}
		dec, err := png.Decode(bytes.NewReader(img.GetEncodedImageString()))
		if err != nil {
			t.Fatalf("epoch %d: test/confusion: %v", i, err)
		}
		if b := dec.Bounds(); b.Dx() != int(img.GetWidth()) || b.Dy() != int(img.GetHeight()) || b.Dx() < 400 || b.Dy() < 400 {
			t.Errorf("epoch %d: picture %v, summary says %dx%d; want a grid of at least 400 px", i, b, img.GetWidth(), img.GetHeight())
		}
	}
}

// graphsOf returns every graph event in the event files of dir, in load order.
func graphsOf(t *testing.T, dir string) []*tbpb.Event {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	slices.Sort(files)
	var out []*tbpb.Event
	for _, f := range files {
		evs, err := tbwriter.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if _, ok := tbwriter.GraphOf(ev); ok {
				out = append(out, ev)
			}
		}
	}
	return out
}

// projectorFiles returns the run's projector_config.pbtxt and every file
// its entries name (dirtest.ProjectorFiles), failing t if one cannot be
// read.
func projectorFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, err := dirtest.ProjectorFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDashboardTags checks what a run shows in the PR Curves, Custom
// Scalars, Graphs and Projector tabs: a curve per digit at every epoch end
// whose counts are the test set's, the layout and the graph once at step 0,
// and one projector entry at the last epoch with --embed rows (at most the
// test set), the labels and predictions of the test pass and a sprite.
func TestDashboardTags(t *testing.T) {
	cfg := smallConfig()
	cfg.Embed = 60 // fewer than the 100 test images
	dir, logs := trainedRun(t, cfg)
	var perDigit [10]float64
	for _, y := range testSet.Labels[:cfg.LimitTest] {
		perDigit[y]++
	}
	ends := steps(pointsOf(logs["test/acc"]))
	for d := range 10 {
		tag := "pr/" + strconv.Itoa(d)
		if got := steps(pointsOf(logs[tag])); !slices.Equal(got, ends) {
			t.Errorf("%s at steps %v, want the epoch ends %v", tag, got, ends)
			continue
		}
		for _, p := range logs[tag] {
			c, ok := tbwriter.PRCurveOf(p.Value)
			if !ok || c.Thresholds() != tbwriter.DefaultPRThresholds {
				t.Fatalf("%s step %d: not a PR curve of %d thresholds", tag, p.Step, tbwriter.DefaultPRThresholds)
			}
			// At threshold 0 every image is predicted positive.
			if c.TP[0] != perDigit[d] || c.FP[0] != float64(cfg.LimitTest)-perDigit[d] || c.FN[0] != 0 || c.TN[0] != 0 {
				t.Errorf("%s step %d: counts at threshold 0 TP %v FP %v FN %v TN %v; the test set has %v images of %d out of %d",
					tag, p.Step, c.TP[0], c.FP[0], c.FN[0], c.TN[0], perDigit[d], d, cfg.LimitTest)
			}
		}
	}
	// The layout: once, at step 0.
	cs := logs[tbwriter.CustomScalarsTag]
	if len(cs) != 1 || cs[0].Step != 0 {
		t.Fatalf("custom scalars layout at steps %v, want [0]", steps(pointsOf(cs)))
	}
	l, ok := tbwriter.CustomScalarsOf(cs[0].Value)
	if !ok || len(l.GetCategory()) != 1 || len(l.GetCategory()[0].GetChart()) != 3 {
		t.Fatalf("custom scalars layout %v, want one category of 3 charts", l)
	}
	// The graph: once, at step 0, LeNet-5's parameters among its nodes.
	gs := graphsOf(t, dir)
	if len(gs) != 1 || gs[0].GetStep() != 0 {
		t.Fatalf("%d graph events, want 1 at step 0", len(gs))
	}
	gd, _ := tbwriter.GraphOf(gs[0])
	params := 0
	for _, n := range gd.GetNode() {
		if n.GetOp() == "Parameter" {
			params++
		}
	}
	if params != 10 {
		t.Errorf("graph has %d parameter nodes, want LeNet-5's 10", params)
	}

	// The projector: one entry, at the last epoch's end.
	pc, err := tbwriter.ReadProjectorConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	last := ends[len(ends)-1]
	if len(pc.GetEmbeddings()) != 1 {
		t.Fatalf("%d projector entries, want 1", len(pc.GetEmbeddings()))
	}
	e := pc.GetEmbeddings()[0]
	if want := tbwriter.EmbeddingTensorName("penultimate", last); e.GetTensorName() != want {
		t.Errorf("projector entry %q, want %q", e.GetTensorName(), want)
	}
	if !slices.Equal(e.GetTensorShape(), []uint32{60, 84}) {
		t.Errorf("tensor shape %v, want [60 84]", e.GetTensorShape())
	}
	// The vectors and predictions are those of the final model: recompute
	// them from the last checkpoint.
	m := model.NewLeNet5(rand.New(rand.NewPCG(1, 1)))
	for i, p := range ckpttest.FinalParams(t, dir) {
		copy(m.Params()[i].Data, p.GetData())
	}
	x, labels := make([]float32, 60*model.ImageSize), make([]uint8, 60)
	idx := make([]int, 60)
	for i := range idx {
		idx[i] = i
	}
	testSet.Batch(x, labels, idx)
	out := model.EvalOutputs{Pred: make([]uint8, 60), Features: make([]float32, 60*model.FeatureSize)}
	m.EvalTo(x, labels, out)

	files := projectorFiles(t, dir)
	tensors := strings.Split(strings.TrimSuffix(string(files[e.GetTensorPath()]), "\n"), "\n")
	if len(tensors) != 60 {
		t.Fatalf("tensors.tsv has %d lines, want 60", len(tensors))
	}
	for i, line := range tensors {
		vals := strings.Split(line, "\t")
		if len(vals) != model.FeatureSize {
			t.Fatalf("tensors.tsv line %d has %d values, want 84", i, len(vals))
		}
		for j, v := range vals {
			f, err := strconv.ParseFloat(v, 64)
			if want := out.Features[i*model.FeatureSize+j]; err != nil || float32(f) != want {
				t.Fatalf("tensors.tsv line %d value %d: %q, the final model computes %v", i, j, v, want)
			}
		}
	}
	md := strings.Split(strings.TrimSuffix(string(files[e.GetMetadataPath()]), "\n"), "\n")
	if len(md) != 61 || md[0] != "label\tpredicted\tresult" {
		t.Fatalf("metadata.tsv: %d lines, header %q; want 61 lines under label, predicted, result", len(md), md[0])
	}
	for i, row := range md[1:] {
		result := "correct"
		if labels[i] != out.Pred[i] {
			result = "wrong"
		}
		if want := fmt.Sprintf("%d\t%d\t%s", labels[i], out.Pred[i], result); row != want {
			t.Errorf("metadata row %d = %q, want %q", i, row, want)
		}
	}
	sprite, err := png.Decode(bytes.NewReader(files[e.GetSprite().GetImagePath()]))
	if err != nil {
		t.Fatal(err)
	}
	// ceil(sqrt(60)) = 8 digits of 28 pixels a side.
	if b := sprite.Bounds(); b.Dx() != 8*28 || b.Dy() != 8*28 || !slices.Equal(e.GetSprite().GetSingleImageDim(), []uint32{28, 28}) {
		t.Errorf("sprite %v, single image %v; want 224x224 of 28x28", b, e.GetSprite().GetSingleImageDim())
	}
}

// TestEmbedOff: --embed 0 writes no projector files, and --embed larger than
// the test set shows all of it.
func TestEmbedOff(t *testing.T) {
	cfg := smallConfig()
	cfg.Embed = 0
	dir, _ := trainedRun(t, cfg)
	if _, err := os.Stat(filepath.Join(dir, tbwriter.ProjectorConfigFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("--embed 0 wrote %s (%v)", tbwriter.ProjectorConfigFile, err)
	}
	cfg.Embed = 5000
	dir, _ = trainedRun(t, cfg)
	pc, err := tbwriter.ReadProjectorConfig(dir)
	if err != nil || len(pc.GetEmbeddings()) != 1 || !slices.Equal(pc.GetEmbeddings()[0].GetTensorShape(), []uint32{100, 84}) {
		t.Fatalf("--embed 5000 with 100 test images: %v, %v; want one entry of 100 vectors", pc, err)
	}
}

func pointsOf(ps []tbwriter.Point) []point {
	out := make([]point, len(ps))
	for i, p := range ps {
		out[i] = point{Step: p.Step, Value: p.Value}
	}
	return out
}

// projectorEntries returns the tensor names of the run's projector config.
func projectorEntries(t *testing.T, dir string) []string {
	t.Helper()
	pc, err := tbwriter.ReadProjectorConfig(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range pc.GetEmbeddings() {
		names = append(names, e.GetTensorName())
	}
	return names
}

// TestResumeDropsLaterEmbeddings: a session resumed from an older
// checkpoint drops the projector entries of the timeline it replaces (as
// TensorBoard drops that timeline's events), and the run ends with the
// entries of an uninterrupted run.
func TestResumeDropsLaterEmbeddings(t *testing.T) {
	cfg := smallConfig() // 2 epochs of 12 steps: the entry at 24
	logdir := t.TempDir()
	dir, err := runFresh(t, logdir, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	ext := cfg
	ext.Epochs = 3
	epochs := func(f string) bool { return f == "epochs" }
	if err := resume(t, trainer.Latest, logdir, ext, epochs, 0); err != nil {
		t.Fatal(err)
	}
	e24, e36 := tbwriter.EmbeddingTensorName("penultimate", 24), tbwriter.EmbeddingTensorName("penultimate", 36)
	if got := projectorEntries(t, dir); !slices.Equal(got, []string{e24, e36}) {
		t.Fatalf("after extending to 3 epochs: entries %v, want [%s %s]", got, e24, e36)
	}
	// Back to the end of epoch 0 (step 12), now with --epochs 3 from there
	// on, stopped at step 30: the entries at 24 and 36 belong to the
	// timeline being replaced.
	if err := resume(t, filepath.Join(dir, "LenetMnist0.ckpt"), logdir, ext, epochs, 30); !errors.Is(err, trainer.ErrInterrupted) {
		t.Fatal(err)
	}
	if got := projectorEntries(t, dir); len(got) != 0 {
		t.Errorf("after resuming from step 12: entries %v, want none", got)
	}
	for _, p := range []string{"00024/penultimate/tensors.tsv", "00036/penultimate/sprite.png"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of a dropped entry still there (%v)", p, err)
		}
	}
	// Finishing the 3 epochs writes the entry of step 36 again; the one at
	// 24 (the end of the 2-epoch timeline) is gone for good. The new
	// timeline trained epochs 1 and 2 with T_max 3, as a run started with
	// --epochs 3 (epoch 0's rate is the initial one for any T_max), and its
	// projector files are that run's, byte for byte.
	if err := resume(t, dir, logdir, trainer.Config{}, nil, 0); err != nil {
		t.Fatal(err)
	}
	if got := projectorEntries(t, dir); !slices.Equal(got, []string{e36}) {
		t.Errorf("after finishing again: entries %v, want [%s]", got, e36)
	}
	straight, err := runFresh(t, t.TempDir(), ext, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := projectorFiles(t, straight)
	got := projectorFiles(t, dir)
	if len(got) != len(want) {
		t.Errorf("projector files %v, straight 3-epoch run %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s differs from a straight 3-epoch run's", name)
		}
	}
}

// TestFinishedRunEmbedChange: --embed given when resuming a finished run
// writes the projector entry of its last epoch again with that many test
// images, the files of a run that had that --embed from its start;
// --embed 0 then leaves the entry as it is.
func TestFinishedRunEmbedChange(t *testing.T) {
	cfg := smallConfig() // 2 epochs of 12 steps: the entry at 24
	cfg.Embed = 30
	logdir := t.TempDir()
	dir, err := runFresh(t, logdir, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	straight := cfg
	straight.Embed = 60
	want, err := runFresh(t, t.TempDir(), straight, 0)
	if err != nil {
		t.Fatal(err)
	}
	embed := func(f string) bool { return f == "embed" }
	if err := resume(t, dir, logdir, trainer.Config{Embed: 60}, embed, 0); err != nil {
		t.Fatal(err)
	}
	got, wantFiles := projectorFiles(t, dir), projectorFiles(t, want)
	if len(wantFiles) != 4 || !maps.EqualFunc(got, wantFiles, bytes.Equal) {
		t.Errorf("projector files after --embed 60 on the finished run: %v, want those of a run with --embed 60: %v",
			slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(wantFiles)))
	}
	if names := projectorEntries(t, dir); !slices.Equal(names, []string{tbwriter.EmbeddingTensorName("penultimate", 24)}) {
		t.Errorf("projector entries %q, want only the last epoch's", names)
	}
	if err := resume(t, dir, logdir, trainer.Config{Embed: 0}, embed, 0); err != nil {
		t.Fatal(err)
	}
	if again := projectorFiles(t, dir); !maps.EqualFunc(again, wantFiles, bytes.Equal) {
		t.Errorf("--embed 0 on the finished run changed its projector files: %v", slices.Sorted(maps.Keys(again)))
	}
}
