package selfexec

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestReexecCallsRequire keeps the rule in the package doc: in every test
// file of the module, a function that starts its own test binary (it calls
// os.Executable or passes os.Args[0] to exec.Command) calls selfexec.Require
// itself. Otherwise the linux/arm64 run under qemu-user fails with "exec
// format error" instead of skipping.
func TestReexecCallsRequire(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") || filepath.Dir(path) == "." {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Name.Name == "TestMain" {
				continue
			}
			var reexec, require bool
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					switch callee(n.Fun) {
					case "os.Executable":
						reexec = true
					case "selfexec.Require", "Require":
						require = true
					case "exec.Command", "exec.CommandContext":
						for _, a := range n.Args {
							if ix, ok := a.(*ast.IndexExpr); ok && callee(ix.X) == "os.Args" {
								reexec = true
							}
						}
					}
				case *ast.FuncLit:
					return true
				}
				return true
			})
			if reexec && !require {
				t.Errorf("%s: %s starts its own test binary without calling selfexec.Require first",
					fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// callee names a called function as pkg.Name or Name.
func callee(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	}
	return ""
}
