package dirtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Files returns every file of dir (not below it) by name with its content,
// and every subdirectory as its name and "/" with "". It fails t when dir
// or a file cannot be read.
func Files(t testing.TB, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range ents {
		if e.IsDir() {
			m[e.Name()+"/"] = ""
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}
