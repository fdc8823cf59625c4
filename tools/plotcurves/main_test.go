package main

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/tbtrain/tbtrain/tbwriter"
)

// TestPlot writes a small run's curves and checks that the picture decodes,
// has the expected size, and holds both curve colours.
func TestPlot(t *testing.T) {
	dir := t.TempDir()
	w, err := tbwriter.Create(dir, tbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for e := int64(1); e <= 5; e++ {
		step := 100 * e
		w.AddScalar("test/acc", step, 0.9+0.01*float32(e))
		w.AddScalar("train/loss", step, 1/float32(e))
		w.AddScalar("test/loss", step, 1.2/float32(e))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "c.png")
	if err := run(dir, out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 520 {
		t.Errorf("picture is %v, want 640x520", b)
	}
	seen := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	for _, c := range []struct {
		name string
		rgb  [3]uint32
	}{{"blue", [3]uint32{31, 119, 180}}, {"orange", [3]uint32{255, 127, 14}}} {
		if !seen[c.rgb] {
			t.Errorf("no %s pixel: a curve is missing", c.name)
		}
	}

	if err := run(t.TempDir(), out); err == nil {
		t.Error("run on a directory without event files succeeded")
	}
}
