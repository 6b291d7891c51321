package main

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCommandsDoNotCallEachOther: a command's file (cmd_NAME.go) calls the
// shared steps (conversations.go, sources.go, cli.go, …) and the layers
// below, never a function another command's file declares, so that a
// command can change without changing another (style.md §3: one use-case
// layer, CLI commands call that layer, never each other). The calls still
// to move are listed, with their reason, in testdata/lint/cmd-calls-known.txt.
func TestCommandsDoNotCallEachOther(t *testing.T) {
	decls, calls := rootCalls(t)
	known := knownList(t, "testdata/lint/cmd-calls-known.txt", 2, "caller-file callee reason")
	seen := map[string]bool{}
	for _, c := range calls {
		where, ok := decls[c.name]
		if !ok || where == c.file || !isCmdFile(where) {
			continue
		}
		key := c.file + " " + c.name
		if seen[key] {
			continue
		}
		seen[key] = true
		if !known[key] {
			t.Errorf("%s calls %s, which %s declares: move the shared step to a file named for it", c.pos, c.name, where)
		}
	}
	for k := range known {
		if !seen[k] {
			t.Errorf("cmd-calls-known.txt: %q no longer happens: remove its line", k)
		}
	}
}

func isCmdFile(name string) bool { return strings.HasPrefix(filepath.Base(name), "cmd_") }

type rootCall struct {
	file, name string
	pos        token.Position
}

// rootCalls type-checks the main package (its imports from the build
// cache's export data, as go/packages does) and returns, for each function
// and method of the package, the file that declares it, and the calls in
// the commands' files of those functions and methods.
func rootCalls(t *testing.T) (map[string]string, []rootCall) {
	t.Helper()
	list, err := exec.Command("go", "list", "-f", "{{join .GoFiles \" \"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, name := range strings.Fields(string(list)) {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: exportImporter(t, fset, ".")}
	if _, err := conf.Check("main", fset, parsed, info); err != nil {
		t.Fatal(err)
	}
	decls := map[string]string{}
	var calls []rootCall
	for id, obj := range info.Uses {
		fn, ok := obj.(*types.Func)
		if !ok || fn.Pkg() == nil || fn.Pkg().Name() != "main" {
			continue
		}
		at := fset.Position(id.Pos())
		if !isCmdFile(at.Filename) {
			continue
		}
		name := fn.FullName()
		decls[name] = filepath.Base(fset.Position(fn.Pos()).Filename)
		calls = append(calls, rootCall{file: filepath.Base(at.Filename), name: name, pos: at})
	}
	slices.SortFunc(calls, func(a, b rootCall) int { return strings.Compare(a.pos.String(), b.pos.String()) })
	return decls, calls
}

// exportImporter is a types.Importer of the packages patterns depend on,
// reading their export data from the build cache (go list -export), as
// go/packages does.
func exportImporter(t *testing.T, fset *token.FileSet, patterns ...string) types.Importer {
	t.Helper()
	args := append([]string{"list", "-export", "-deps", "-f", "{{.Export}} {{.ImportPath}}"}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	// A package compiled apart for the main package (with its profile,
	// default.pgo) is listed a second time as "path [main's path]": any
	// one's export data will do for type checking.
	exports := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		file, path, _ := strings.Cut(line, " ")
		path, _, _ = strings.Cut(path, " [")
		if file != "" && exports[path] == "" {
			exports[path] = file
		}
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
}

// knownList reads a lint gate's list of accepted findings: lines of keyLen
// fields naming one, then its reason ("#" comments and blank lines
// skipped). It returns the keys, their fields joined by a space.
func knownList(t *testing.T, path string, keyLen int, form string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) <= keyLen {
			t.Errorf("%s:%d: want %s", path, n, form)
			continue
		}
		known[strings.Join(fs[:keyLen], " ")] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return known
}
