package gentest

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

// RequireProtoc skips t when protoc is not installed, except in CI (env
// CI=true), where a missing protoc fails t.
func RequireProtoc(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("protoc"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("protoc not found on PATH but CI=true: %v", err)
		}
		t.Skipf("protoc not found on PATH (install protobuf-compiler to run this test): %v", err)
	}
}

// CheckFresh regenerates package pkg (a directory under proto/) with
// ../gen.sh into a temporary directory and reports every committed *.pb.go
// file in the current directory that differs from the fresh output, and any
// difference in the set of files. The test must run in proto/<pkg>.
func CheckFresh(t testing.TB, pkg string) {
	t.Helper()
	RequireProtoc(t)
	out := t.TempDir()
	cmd := exec.Command("sh", "../gen.sh", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.sh failed: %v\n%s", err, b)
	}

	committed, err := filepath.Glob("*.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := filepath.Glob(filepath.Join(out, pkg, "*.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fresh {
		fresh[i] = filepath.Base(f)
	}
	slices.Sort(committed)
	slices.Sort(fresh)
	if !slices.Equal(committed, fresh) {
		t.Fatalf("generated file set differs: committed %v, fresh %v (run `go generate ./proto/%s`)", committed, fresh, pkg)
	}
	if len(fresh) == 0 {
		t.Fatal("gen.sh produced no *.pb.go files")
	}
	for _, name := range fresh {
		want, err := os.ReadFile(filepath.Join(out, pkg, name))
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
			t.Errorf("%s is stale: it differs from a fresh generation; run `go generate ./proto/%s` and commit", name, pkg)
		}
	}
}
