package trainer_test

import (
	"bytes"
	"context"
	"image/png"
	"strconv"
	"strings"
	"testing"

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
