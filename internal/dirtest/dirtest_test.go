package dirtest

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tbtrain/tbtrain/tbwriter"
)

// TestFiles: a file's content, an empty file, and a subdirectory (whose
// files are not read) are listed.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"a": "alpha", "empty": "", "sub/deeper": "not read"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"a": "alpha", "empty": "", "sub/": ""}
	if diff := cmp.Diff(want, Files(t, dir)); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
}

// TestProjectorFiles: a run without a projector config has none; one with
// an entry gives the config, the tensors and the metadata (no sprite was
// written), each as on disk; a named file that is gone is an error naming
// the entry.
func TestProjectorFiles(t *testing.T) {
	dir := t.TempDir()
	if files, err := ProjectorFiles(dir); files != nil || err != nil {
		t.Fatalf("no config: %v, %v; want nil, nil", files, err)
	}
	w, err := tbwriter.Create(dir, tbwriter.Options{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddEmbedding("emb", 3, [][]float32{{1, 2}, {3, 4}}, tbwriter.Metadata{Labels: []string{"a", "b"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := ProjectorFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("files %v, want the config, tensors and metadata", slices.Sorted(maps.Keys(files)))
	}
	for rel, b := range files {
		disk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || !bytes.Equal(b, disk) || len(b) == 0 {
			t.Errorf("%s: %d bytes, on disk %d (%v)", rel, len(b), len(disk), err)
		}
	}
	for rel := range files {
		if rel != tbwriter.ProjectorConfigFile {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if _, err := ProjectorFiles(dir); err == nil || !strings.Contains(err.Error(), "projector entry emb:") {
		t.Errorf("a named file gone: %v, want an error naming the entry", err)
	}
}
