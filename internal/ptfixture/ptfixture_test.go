package ptfixture

import (
	"path/filepath"
	"testing"
)

// TestSHA: the digest is of the little-endian float32 bytes (sha256sum of
// the bytes 00 00 80 3f, 1.0 in float32).
func TestSHA(t *testing.T) {
	if got, want := SHA(nil), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("SHA(nil) = %s, want SHA-256 of nothing %s", got, want)
	}
	if got, want := SHA([]float32{1}), "e00e5eb9444182f352323374ef4e08ebcb784725fdd4fd612d7730540b3e0c8c"; got != want {
		t.Errorf("SHA([1]) = %s, want %s", got, want)
	}
}

// TestRead reads the fixture's expect.json: every file has weights.
func TestRead(t *testing.T) {
	e := Read(t, filepath.Join("..", "..", "testdata", "pytorch-run"))
	for rel, f := range e.Files {
		if len(f.Weights) == 0 {
			t.Errorf("%s: no weights", rel)
		}
	}
}
