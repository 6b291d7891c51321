package ingest

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEverySentinelIsAReason reads the package's source: every exported
// Err variable is made by reason, so it is in reasons, and Reason finds it
// inside a wrapped error. A sentinel made with errors.New would be missing
// from the counts by reason.
func TestEverySentinelIsAReason(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	declared := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			declared += sentinelsIn(t, fset, d)
		}
	}
	if declared == 0 || declared != len(reasons) {
		t.Errorf("%d Err variables declared, %d reasons", declared, len(reasons))
	}
	for _, r := range reasons {
		if got := Reason(fmt.Errorf("line 3: %w", errAt(r, "field", 4))); got != r {
			t.Errorf("Reason of a wrapped %q = %v", r, got)
		}
	}
	if other := errors.New("other"); Reason(other) != other {
		t.Error("Reason of an error that wraps no sentinel is not the error")
	}
}

// sentinelsIn counts the exported Err variables d declares and fails the
// test for each one not made by reason.
func sentinelsIn(t *testing.T, fset *gotoken.FileSet, d ast.Decl) int {
	t.Helper()
	g, ok := d.(*ast.GenDecl)
	if !ok || g.Tok != gotoken.VAR {
		return 0
	}
	n := 0
	for _, s := range g.Specs {
		vs := s.(*ast.ValueSpec)
		for i, id := range vs.Names {
			if !strings.HasPrefix(id.Name, "Err") || !id.IsExported() {
				continue
			}
			n++
			if !madeByReason(vs, i) {
				t.Errorf("%s: %s is not made by reason", fset.Position(id.Pos()), id.Name)
			}
		}
	}
	return n
}

// madeByReason reports whether the i-th value of vs is a call of reason.
func madeByReason(vs *ast.ValueSpec, i int) bool {
	if i >= len(vs.Values) {
		return false
	}
	call, ok := vs.Values[i].(*ast.CallExpr)
	if !ok {
		return false
	}
	fn, ok := call.Fun.(*ast.Ident)
	return ok && fn.Name == "reason"
}
