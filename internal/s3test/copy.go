package s3test

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"
)

// CopyDir uploads every regular file under the local directory dir to the
// server's bucket under prefix, keeping relative names, and returns the
// s3:// URL of the copy.
func (s *Server) CopyDir(t testing.TB, dir, prefix string) string {
	t.Helper()
	st := s.Store(t)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return st.Put(context.Background(), path.Join(prefix, filepath.ToSlash(rel)), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s.URL(prefix)
}

// Setenv points this process's environment (read by the commands' run) at
// the server for the rest of the test.
func (s *Server) Setenv(t *testing.T) {
	for _, kv := range s.Env() {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				t.Setenv(kv[:i], kv[i+1:])
				break
			}
		}
	}
}
