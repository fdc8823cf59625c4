package ckptpb_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// protocVersionLine matches the header line in which protoc-gen-go records the
// protoc version. It is the only line allowed to differ between the committed
// files and a fresh generation: it names the compiler, not the schema (the
// embedded descriptor, which the compiler does produce, is still compared).
var protocVersionLine = regexp.MustCompile(`(?m)^// \tprotoc +.*$`)

// requireProtoc skips the test when protoc is not installed, except in CI
// (env CI=true), where a missing protoc is a failure.
func requireProtoc(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("protoc"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("protoc not found on PATH but CI=true: %v", err)
		}
		t.Skipf("protoc not found on PATH (install protobuf-compiler to run this test): %v", err)
	}
}

// TestGeneratedCodeIsFresh regenerates the Go code into a temporary directory
// with ../gen.sh and fails on any difference from the committed *.pb.go files.
func TestGeneratedCodeIsFresh(t *testing.T) {
	requireProtoc(t)
	out := t.TempDir()
	cmd := exec.Command("sh", "../gen.sh", "-o", out, "ckptpb")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.sh failed: %v\n%s", err, b)
	}

	committed, err := filepath.Glob("*.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := filepath.Glob(filepath.Join(out, "ckptpb", "*.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fresh {
		fresh[i] = filepath.Base(f)
	}
	slices.Sort(committed)
	slices.Sort(fresh)
	if !slices.Equal(committed, fresh) {
		t.Fatalf("generated file set differs: committed %v, fresh %v (run `go generate ./proto/ckptpb`)", committed, fresh)
	}
	if len(fresh) == 0 {
		t.Fatal("gen.sh produced no *.pb.go files")
	}
	for _, name := range fresh {
		want, err := os.ReadFile(filepath.Join(out, "ckptpb", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		want = protocVersionLine.ReplaceAll(want, nil)
		got = protocVersionLine.ReplaceAll(got, nil)
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: it differs from a fresh generation; run `go generate ./proto/ckptpb` and commit", name)
		}
	}
}
