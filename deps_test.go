package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/flowsleuth/flowsleuth"

// allowed lists, per package tree, the FlowSleuth trees it may import.
// Imports point one way: ingest → analysis → export → app → main.
var allowed = map[string][]string{
	"ingest":   {"ingest"},
	"analysis": {"ingest", "analysis"},
	"export":   {"ingest", "analysis", "export"},
	"assets":   {},
	"app":      {"ingest", "analysis", "export", "assets", "app"},
	"":         {"ingest", "analysis", "export", "assets", "app"}, // package main
}

// restricted lists packages (and their sub-packages) that only some
// packages may import, besides their own tree: the ClickHouse store is
// wired in by the CLI and the app only, and it alone speaks ClickHouse.
var restricted = map[string][]string{
	module + "/analysis/clickhouse":          {module, module + "/app", module + "/app/message"},
	"github.com/ClickHouse/clickhouse-go/v2": {module + "/analysis/clickhouse"},
}

// forbidden lists, per package, import paths (and their sub-packages) it
// must not import: app/message words errors for the CLI and the app alike,
// so it stays free of Fyne (the CLI must not start a GUI toolkit to print
// an error).
var forbidden = map[string][]string{
	module + "/app/message": {"fyne.io/fyne/v2"},
}

// TestDependencyDirection fails when a package imports against the layers.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		for _, e := range violations(p.ImportPath, p.Imports) {
			t.Error(e)
		}
	}
	if seen < 4 {
		t.Fatalf("go list saw %d packages; expected the whole module", seen)
	}
}

// violations returns what is wrong with pkg importing imports.
func violations(pkg string, imports []string) []string {
	tree := topDir(pkg)
	ok, known := allowed[tree]
	if !known {
		return []string{pkg + ": package tree " + tree + " has no import rule in deps_test.go"}
	}
	var out []string
	for _, imp := range imports {
		if strings.HasPrefix(imp, module) && !contains(ok, topDir(imp)) {
			out = append(out, pkg+" imports "+imp+": "+orMain(tree)+" may only import "+strings.Join(ok, ", "))
		}
		for _, f := range forbidden[pkg] {
			if within(imp, f) {
				out = append(out, pkg+" imports "+imp+": it must not import "+f)
			}
		}
		for r, importers := range restricted {
			if within(imp, r) && !within(pkg, r) && !contains(importers, pkg) {
				out = append(out, pkg+" imports "+imp+": only "+strings.Join(importers, ", ")+" may")
			}
		}
	}
	return out
}

// within reports whether pkg is tree or one of its sub-packages.
func within(pkg, tree string) bool { return pkg == tree || strings.HasPrefix(pkg, tree+"/") }

// TestViolations checks the rule checker itself on imports that must fail.
func TestViolations(t *testing.T) {
	tests := []struct {
		Name, Pkg string
		Imports   []string
		Want      int
	}{
		{"ingest imports nothing of ours", module + "/ingest/listen", []string{module + "/analysis"}, 1},
		{"analysis never imports export", module + "/analysis", []string{module + "/export", "fmt"}, 1},
		{"nothing imports app", module + "/export", []string{module + "/app"}, 1},
		{"unknown tree", module + "/tools", nil, 1},
		{"main may import all", module, []string{module + "/app", module + "/ingest"}, 0},
		{"analysis sub-package may import ingest", module + "/analysis/demo", []string{module + "/ingest"}, 0},
		{"the store is the CLI's and the app's", module + "/analysis/workspace", []string{module + "/analysis/clickhouse"}, 1},
		{"the CLI wires the store", module, []string{module + "/analysis/clickhouse"}, 0},
		{"only the store speaks ClickHouse", module + "/export", []string{"github.com/ClickHouse/clickhouse-go/v2/lib/driver"}, 1},
		{"the store does", module + "/analysis/clickhouse", []string{"github.com/ClickHouse/clickhouse-go/v2"}, 0},
		{"error words name store errors", module + "/app/message", []string{module + "/analysis/clickhouse"}, 0},
		{"error words have no Fyne", module + "/app/message", []string{"fyne.io/fyne/v2/dialog"}, 1},
		{"the app has", module + "/app", []string{"fyne.io/fyne/v2/dialog"}, 0},
		{"main may import the error words", module, []string{module + "/app/message"}, 0},
	}
	for _, tc := range tests {
		if got := violations(tc.Pkg, tc.Imports); len(got) != tc.Want {
			t.Errorf("%s: got %d violations %v, want %d", tc.Name, len(got), got, tc.Want)
		}
	}
}

func topDir(importPath string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(importPath, module), "/")
	top, _, _ := strings.Cut(rest, "/")
	return top
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orMain(tree string) string {
	if tree == "" {
		return "main"
	}
	return tree
}
