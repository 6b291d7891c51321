package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRacePackagesCoverGoroutines: `make test` runs the race detector only
// on the packages the Makefile's RACE_PKGS names, so that the race pass
// does not repeat the long tests of packages with nothing it could see.
// A package whose code starts a goroutine must be among them; otherwise a
// new goroutine would never be raced.
func TestRacePackagesCoverGoroutines(t *testing.T) {
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RACE_PKGS\s*:=\s*(.+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no RACE_PKGS line")
	}
	patterns := strings.Fields(string(m[1]))
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Dir}} {{join .GoFiles \",\"}}", "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		if rel == f[0] || rel == "" || strings.HasPrefix(rel, "testdata") {
			continue // main is the CLI; testdata holds tools
		}
		if !startsGoroutine(t, f[1], strings.Split(f[2], ",")) {
			continue
		}
		checked++
		if !racePatternsCover(patterns, rel) {
			t.Errorf("%s starts goroutines but RACE_PKGS (%s) does not name it", rel, strings.Join(patterns, " "))
		}
	}
	if checked == 0 {
		t.Error("no package starts a goroutine: the scan is broken")
	}
}

// startsGoroutine reports whether any of the package's files has a go
// statement.
func startsGoroutine(t *testing.T, dir string, files []string) bool {
	fset := token.NewFileSet()
	for _, name := range files {
		file, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		ast.Inspect(file, func(n ast.Node) bool {
			if _, ok := n.(*ast.GoStmt); ok {
				found = true
			}
			return !found
		})
		if found {
			return true
		}
	}
	return false
}

// racePatternsCover reports whether a package pattern ("./x" or "./x/...")
// matches the package at rel.
func racePatternsCover(patterns []string, rel string) bool {
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "./")
		if tree, ok := strings.CutSuffix(p, "/..."); ok {
			if rel == tree || strings.HasPrefix(rel, tree+"/") {
				return true
			}
		} else if rel == p {
			return true
		}
	}
	return false
}
