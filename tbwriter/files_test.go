package tbwriter

import (
	"errors"
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
