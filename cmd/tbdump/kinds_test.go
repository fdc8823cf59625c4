package main

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/tbwriter"
)

func TestDescribeVideo(t *testing.T) {
	frames := []image.Image{image.NewGray(image.Rect(0, 0, 4, 3)), image.NewGray(image.Rect(0, 0, 4, 3))}
	v, err := tbwriter.VideoValue("v", frames, 4)
	if err != nil {
		t.Fatal(err)
	}
	got := describeValue(v, "images")
	if !strings.HasPrefix(got, "4x3 colorspace=3 gif ") || !strings.HasSuffix(got, " frames=2") {
		t.Errorf("video: %q", got)
	}
	if k := newJSONKinds(v, "images"); k.Video == nil || k.Video.Frames != 2 || k.Audio != nil || k.PRCurve != nil {
		t.Errorf("video json fields: %+v", k)
	}
}

// A run whose projector config does not parse is reported, and its events
// are still shown.
func TestEmbeddingsBadConfig(t *testing.T) {
	dir := t.TempDir()
	w, err := tbwriter.Create(dir, tbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddEmbedding("e", 1, [][]float32{{1, 2, 3}}, tbwriter.Metadata{}, nil); err != nil {
		t.Fatal(err)
	}
	w.AddScalar("loss", 1, 0.5)
	w.Close()
	r := runInProcess(t, nil, dir)
	if !strings.Contains(r.stdout, "    e:00001  1x3  tensors 00001/e/tensors.tsv\n") || r.code != 0 {
		t.Errorf("embedding not listed:\n%s", r.stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, tbwriter.ProjectorConfigFile), []byte("embeddings {"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runInProcess(t, nil, dir)
	if !strings.Contains(r.stdout, "  embeddings: ERROR: ") || !strings.Contains(r.stdout, "loss") {
		t.Errorf("bad config not reported:\n%s", r.stdout)
	}
}
