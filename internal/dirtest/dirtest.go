package dirtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/tbtrain/tbtrain/tbwriter"
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

// ProjectorFiles returns a run directory's projector_config.pbtxt and every
// file its entries name, by path relative to runDir, with their content;
// nil if the run has no projector config. A file an entry names that cannot
// be read is an error naming the entry.
func ProjectorFiles(runDir string) (map[string][]byte, error) {
	cfg, err := tbwriter.ReadProjectorConfig(runDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	read := func(rel string) error {
		b, err := os.ReadFile(filepath.Join(runDir, filepath.FromSlash(rel)))
		out[rel] = b
		return err
	}
	if err := read(tbwriter.ProjectorConfigFile); err != nil {
		return nil, err
	}
	for _, e := range cfg.GetEmbeddings() {
		for _, p := range []string{e.GetTensorPath(), e.GetMetadataPath(), e.GetSprite().GetImagePath()} {
			if p == "" {
				continue
			}
			if err := read(p); err != nil {
				return nil, fmt.Errorf("projector entry %s: %v", e.GetTensorName(), err)
			}
		}
	}
	return out, nil
}
