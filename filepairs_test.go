package main

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNoBackAndForthBetweenFiles: inside a package, files are layered: when
// a.go uses a declaration of b.go (a package-level name, or a method of a
// type declared there), b.go uses nothing of a.go. Two files calling each
// other both ways are one concept split in two, or a view holding a pointer
// back to its owner; a reader cannot read either alone. Uses are found by
// type checking, so a local variable or another type's method of the same
// name does not count. Pairs still to untangle are listed, with their
// reason, in testdata/lint/file-pairs-known.txt; nothing new goes there.
func TestNoBackAndForthBetweenFiles(t *testing.T) {
	known := knownList(t, "testdata/lint/file-pairs-known.txt", 3, "dir a.go b.go reason")
	seen := map[string]bool{}
	for _, p := range filePairs(t) {
		seen[p] = true
		if !known[p] {
			t.Errorf("%s use each other's declarations both ways: move what both need to a file below them, or merge them if they are one concept", p)
		}
	}
	for p := range known {
		if !seen[p] {
			t.Errorf("file-pairs-known.txt: %q no longer refer to each other: remove its line", p)
		}
	}
}

// filePairs returns "dir a.go b.go" (a < b) for every pair of non-test files
// of one package of the module that use each other's declarations.
func filePairs(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Dir}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	imp := exportImporter(t, fset, "./...")
	var pairs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, _ := strings.Cut(line, " ")
		rel, err := filepath.Rel(wd, dir)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, packagePairs(t, fset, imp, path, dir, filepath.ToSlash(rel))...)
	}
	slices.Sort(pairs)
	return pairs
}

// packagePairs type-checks the package in dir and lists its pairs of files.
func packagePairs(t *testing.T, fset *token.FileSet, imp types.Importer, path, dir, rel string) []string {
	t.Helper()
	pkgInfo, err := build.ImportDir(dir, 0)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var files []*ast.File
	for _, name := range append(pkgInfo.GoFiles, pkgInfo.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: imp}
	pkg, err := conf.Check(path, fset, files, info)
	if err != nil {
		t.Fatalf("type-check %s: %v", path, err)
	}
	uses := map[[2]string]bool{}
	for id, obj := range info.Uses {
		if obj == nil || obj.Pkg() != pkg || !declaredAtTop(obj, pkg) {
			continue
		}
		from, to := fset.Position(id.Pos()).Filename, fset.Position(obj.Pos()).Filename
		if from != to {
			uses[[2]string{filepath.Base(from), filepath.Base(to)}] = true
		}
	}
	var pairs []string
	for k := range uses {
		if k[0] < k[1] && uses[[2]string{k[1], k[0]}] {
			pairs = append(pairs, rel+" "+k[0]+" "+k[1])
		}
	}
	return pairs
}

// declaredAtTop reports whether obj is a package-level name or a method.
func declaredAtTop(obj types.Object, pkg *types.Package) bool {
	if obj.Parent() == pkg.Scope() {
		return true
	}
	fn, ok := obj.(*types.Func)
	return ok && fn.Type().(*types.Signature).Recv() != nil
}
