package kern

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate regenerates the assembly and its Go declarations
// with asmgen and fails if the committed files differ.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs asmgen")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found: %v", err)
	}
	dir := t.TempDir()
	asm, decl := filepath.Join(dir, "sgemm_amd64.s"), filepath.Join(dir, "kernels_amd64.go")
	asm512, decl512 := filepath.Join(dir, "sgemm512_amd64.s"), filepath.Join(dir, "kernels512_amd64.go")
	asmNeon, declNeon := filepath.Join(dir, "sgemm_arm64.s"), filepath.Join(dir, "kernels_arm64.go")
	cmd := exec.Command(goTool, "run", "./asmgen", "-out", asm, "-goout", decl, "-out512", asm512, "-goout512", decl512, "-outneon", asmNeon, "-goneon", declNeon)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("asmgen: %v\n%s", err, out)
	}
	for _, f := range []string{asm, decl, asm512, decl512, asmNeon, declNeon} {
		got, err := os.ReadFile(filepath.Base(f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./internal/kern", filepath.Base(f))
		}
	}
}
