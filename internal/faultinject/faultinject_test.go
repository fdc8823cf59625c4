package faultinject

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		want    Hooks
		wantErr string
	}{
		{env: nil, want: Hooks{}},
		{env: map[string]string{CommitDelayEnv: "25ms", FlushDelayEnv: "10ms", StepDelayEnv: "1s", MarkersEnv: "1"},
			want: Hooks{CommitDelay: 25 * time.Millisecond, FlushDelay: 10 * time.Millisecond, StepDelay: time.Second, Markers: true}},
		{env: map[string]string{MarkersEnv: "0"}, want: Hooks{}},
		{env: map[string]string{CommitDelayEnv: "25"}, wantErr: `TBTRAIN_TEST_COMMIT_DELAY="25": want a non-negative Go duration such as 25ms`},
		{env: map[string]string{FlushDelayEnv: "-1ms"}, wantErr: `TBTRAIN_TEST_FLUSH_DELAY="-1ms": want a non-negative Go duration such as 25ms`},
		{env: map[string]string{MarkersEnv: "yes"}, wantErr: `TBTRAIN_TEST_MARKERS="yes": want 1 or 0`},
	} {
		t.Cleanup(SetCommitDelay(time.Hour))
		t.Cleanup(SetFlushDelay(time.Hour))
		got, err := FromEnv(func(k string) string { return tc.env[k] })
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("FromEnv(%v) error = %v, want %q", tc.env, err, tc.wantErr)
			}
			if CommitDelay() != time.Hour || FlushDelay() != time.Hour {
				t.Errorf("FromEnv(%v) failed but changed the installed delays to %v, %v", tc.env, CommitDelay(), FlushDelay())
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("FromEnv(%v) = %+v, %v; want %+v", tc.env, got, err, tc.want)
		}
		if CommitDelay() != tc.want.CommitDelay || FlushDelay() != tc.want.FlushDelay {
			t.Errorf("FromEnv(%v) installed %v, %v; want %v, %v", tc.env, CommitDelay(), FlushDelay(), tc.want.CommitDelay, tc.want.FlushDelay)
		}
	}
}

func TestSetRestores(t *testing.T) {
	restore := SetCommitDelay(3 * time.Millisecond)
	inner := SetCommitDelay(5 * time.Millisecond)
	if got := CommitDelay(); got != 5*time.Millisecond {
		t.Errorf("CommitDelay = %v, want 5ms", got)
	}
	inner()
	if got := CommitDelay(); got != 3*time.Millisecond {
		t.Errorf("after restore CommitDelay = %v, want 3ms", got)
	}
	restore()
	if got := CommitDelay(); got != 0 {
		t.Errorf("after both restores CommitDelay = %v, want 0", got)
	}
}

// TestLibrariesIgnoreEnvironment keeps the seam the only one: outside cmd/
// and this package, no non-test Go file of the module names a TBTRAIN_*
// variable, and the only environment reads are the allowed ones below
// (where the Go toolchain keeps its module cache; CI=true for the generator
// check, which runs only under go test). internal/s3test is skipped whole:
// like gentest it is test support that only tests import (it finds or starts
// the S3 test server, named by TBTRAIN_S3_ENDPOINT, and fails instead of
// skipping under CI=true).
func TestLibrariesIgnoreEnvironment(t *testing.T) {
	allowed := map[string]bool{
		"mnist/default.go:GOMODCACHE":          true,
		"mnist/default.go:GOPATH":              true,
		"proto/internal/gentest/gentest.go:CI": true,
	}
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "cmd" || rel == "internal/faultinject" || rel == "internal/s3test" || rel == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && strings.HasPrefix(s, "TBTRAIN_") {
					t.Errorf("%s: library code names the environment variable %s; read it in cmd/ and pass it through internal/faultinject", fset.Position(n.Pos()), s)
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "os" || (sel.Sel.Name != "Getenv" && sel.Sel.Name != "LookupEnv" && sel.Sel.Name != "Environ") {
					return true
				}
				key := ""
				if len(n.Args) == 1 {
					if lit, ok := n.Args[0].(*ast.BasicLit); ok {
						key, _ = strconv.Unquote(lit.Value)
					}
				}
				if !allowed[rel+":"+key] {
					t.Errorf("%s: library code reads the environment (os.%s %q)", fset.Position(n.Pos()), sel.Sel.Name, key)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
