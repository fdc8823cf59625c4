package dirtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
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
