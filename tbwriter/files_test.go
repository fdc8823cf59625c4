package tbwriter

import (
	"bytes"
	"errors"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCleanTemp: the temp files of a put cut short (by a kill) go, beside
// projector_config.pbtxt and in embedding directories, named in the config
// or not yet; everything else stays, among it files that only look alike
// and temp files in other directories.
func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddEmbedding("emb", 120, [][]float32{{1, 2}}, Metadata{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	put := func(rel string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gone := []string{
		".projector_config.pbtxt.tmp-123456",
		".LenetMnist3.ckpt.tmp-123", // an unfinished checkpoint's, in the run directory
		"00120/emb/.tensors.tsv.tmp-42",
		"00200/emb/.sprite.png.tmp-7",      // an entry not in the config yet
		"00200/a%2fb/.metadata.tsv.tmp-99", // an escaped tag
	}
	kept := []string{
		".projector_config.pbtxt.tmp-x",
		"notes.tmp-1",
		"00120/emb/tensors.tsv.tmp-1", // no leading dot
		"0012/emb/.tensors.tsv.tmp-1", // not an embedding directory
		"logs/emb/.tensors.tsv.tmp-1",
		"00120/.x.tmp-1", // not in a tag directory
	}
	for _, p := range append(slices.Clone(gone), kept...) {
		put(p)
	}
	if err := CleanTemp(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range gone {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s not removed (%v)", p, err)
		}
	}
	for _, p := range append(kept, ProjectorConfigFile, "00120/emb/tensors.tsv", filepath.Base(w.Path())) {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if err := CleanTemp(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("missing run directory: %v", err)
	}
}

// TestRemoveEmbeddings: a session resuming at step s drops the entries of
// its tag at steps >= s and their files, as TensorBoard drops those steps'
// events; earlier entries, other tags and foreign entries stay.
func TestRemoveEmbeddings(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	for _, e := range []struct {
		tag  string
		step int64
	}{{"emb", 80}, {"emb", 120}, {"emb", 200}, {"other", 200}, {"emb:x", 200}} {
		if err := w.AddEmbedding(e.tag, e.step, [][]float32{{1}}, Metadata{Labels: []string{"a"}}, []image.Image{img}); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveEmbeddings(dir, "emb", 120); err != nil {
		t.Fatal(err)
	}
	cfg, err := ReadProjectorConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range cfg.GetEmbeddings() {
		names = append(names, e.GetTensorName())
	}
	if want := []string{"emb:00080", "other:00200", "emb:x:00200"}; !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
	for _, p := range []string{"00120/emb/tensors.tsv", "00120/emb/metadata.tsv", "00120/emb/sprite.png", "00200/emb/tensors.tsv"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of a removed entry still there (%v)", p, err)
		}
	}
	// The emptied directories go; a step directory with other entries stays.
	for _, p := range []string{"00120", "00200/emb"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("directory %s of a removed entry still there (%v)", p, err)
		}
	}
	for _, p := range []string{"00080/emb/tensors.tsv", "00200/other/sprite.png", "00200/emb:x/tensors.tsv"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s of a kept entry: %v", p, err)
		}
	}
	// Nothing to remove, or no config: no change, no error.
	before, _ := os.ReadFile(filepath.Join(dir, ProjectorConfigFile))
	if err := RemoveEmbeddings(dir, "emb", 121); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, ProjectorConfigFile)); !bytes.Equal(after, before) {
		t.Error("config rewritten with nothing to remove")
	}
	if err := RemoveEmbeddings(t.TempDir(), "emb", 0); err != nil {
		t.Errorf("run without a projector config: %v", err)
	}
}
