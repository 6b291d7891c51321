package main

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/flowsleuth/flowsleuth"

// The import rules of style.md §3, one line per FlowSleuth package, after
// go/build's deps_test.go: a package may import the standard library, the
// FlowSleuth packages in its Ours list and the third-party modules in its
// Vendors list, nothing else. The rules are declared, not derived: a new
// package, or a new import across packages, means a new line here that a
// reviewer reads. Because every package's list is closed, "nothing imports
// app but main" and "only the workspace store speaks SQLite" follow from the
// lines that do not name them.

// Third-party modules, by what they are for.
const (
	modFyne       = "fyne.io/fyne/v2"                        // the desktop UI
	modExcelize   = "github.com/xuri/excelize/v2"            // XLSX: export, inventory readers
	modSyslog     = "github.com/influxdata/go-syslog/v3"     // <PRI> headers: ingest
	modSQLite     = "modernc.org/sqlite"                     // the workspace store
	modCompress   = "github.com/klauspost/compress"          // the store's zstd, the archive's gzip
	modClickHouse = "github.com/ClickHouse/clickhouse-go/v2" // the shared store
	modXSys       = "golang.org/x/sys"                       // the CLI's terminal width, the store's Windows lock
	modNtnxSDK    = "github.com/nutanix/ntnx-api-golang-clients/microseg-go-client/v4"
	modNSXSDK     = "github.com/vmware/vsphere-automation-sdk-go"
)

// deps is one package's rule. Paths are relative to the module ("" is package
// main); Ours lists packages, not trees. Tests may import what the package may,
// the package itself, and TestOurs/TestVendors besides.
type deps struct {
	Ours, Vendors         []string
	TestOurs, TestVendors []string
}

var importRules = map[string]deps{
	// ingest: readers, framing, parsers. Nothing of ours.
	"ingest":           {Vendors: []string{modSyslog}},
	"ingest/printable": {},
	// The modSyslog server: ingest only; gzip for its archive.
	"ingest/listen": {Ours: []string{"ingest"}, Vendors: []string{modCompress}},
	// Inventory exports (Prism, vCenter; CSV and XLSX): untrusted files read
	// like logs, so beside the log readers. Nothing of ours; excelize for XLSX.
	"ingest/inventory": {Vendors: []string{modExcelize}},
	// The demo generator writes vendor log lines, the parsers' inverse: ingest
	// only. Its tests read the lines back through the model.
	"ingest/demo": {Ours: []string{"ingest"}, TestOurs: []string{"analysis", "analysis/rules", "ingest/inventory"}},

	// The model: events, sessions, conversations, the Table.
	"analysis":              {Ours: []string{"ingest"}, TestOurs: []string{"analysis/analysistest", "ingest/demo"}},
	"analysis/analysistest": {Ours: []string{"ingest", "analysis"}},
	// Service names and labels: protocols and ports, nothing of the model.
	"analysis/services": {Ours: []string{"ingest"}},
	// Rules: synthesis from the model, edits, review, readiness.
	"analysis/rules": {
		Ours:     []string{"ingest", "analysis", "analysis/services"},
		TestOurs: []string{"analysis/analysistest", "ingest/demo"},
	},
	// A radix sort of keys with values: the dashboard's sums, the app's sorts.
	"analysis/radix": {},
	// The dashboard's summary of the model.
	"analysis/summary": {Ours: []string{"ingest", "analysis", "analysis/radix", "analysis/services"}, TestOurs: []string{"analysis/analysistest"}},
	// Policy evaluation: the model; its tests compare with synthesis.
	"analysis/policy": {
		Ours:     []string{"ingest", "analysis", "ingest/inventory"},
		TestOurs: []string{"analysis/analysistest", "analysis/rules"},
	},
	// The workspace store: the model, the rule edits it keeps, SQLite.
	"analysis/workspace": {
		Ours: []string{"ingest", "analysis", "analysis/rules", "ingest/inventory"}, Vendors: []string{modSQLite, modCompress, modXSys},
		TestOurs: []string{"analysis/analysistest", "ingest/demo"},
	},
	// The shared store: the model, ClickHouse; its tests start a server.
	"analysis/clickhouse": {
		Ours: []string{"ingest", "analysis"}, Vendors: []string{modClickHouse},
		TestOurs: []string{"analysis/analysistest", "analysis/clickhouse/chtest", "ingest/demo"},
	},
	"analysis/clickhouse/chtest": {},
	// The listener's wiring into a workspace.
	"analysis/live": {
		Ours:     []string{"ingest", "ingest/listen", "analysis", "analysis/workspace"},
		TestOurs: []string{"analysis/analysistest", "analysis/rules", "ingest/demo"},
	},

	// Spreadsheets and vendor JSON. The vendor SDKs validate bodies in tests only.
	"export": {
		Ours:        []string{"ingest", "ingest/printable", "analysis", "analysis/rules", "analysis/services", "analysis/policy"},
		Vendors:     []string{modExcelize},
		TestOurs:    []string{"analysis/analysistest", "ingest/inventory"},
		TestVendors: []string{modNtnxSDK, modNSXSDK},
	},

	"assets":     {},
	"app/locale": {},
	// What a rule base was made from, described for export, for the app and
	// the CLI: above the store and export, which never import each other.
	"app/inputs": {Ours: []string{"analysis/workspace", "export"}},
	// Errors in words for people, for the app and the CLI: no Fyne.
	"app/message": {Ours: []string{"ingest", "ingest/listen", "analysis/clickhouse", "ingest/inventory",
		"analysis/live", "analysis/policy", "analysis/workspace", "export"}},
	"app/chart": {Ours: []string{"ingest/printable"}, Vendors: []string{modFyne}, TestOurs: []string{"app/locale"}},
	"app": {
		Ours: []string{"ingest", "ingest/listen", "ingest/printable", "analysis", "analysis/radix", "analysis/rules", "analysis/services",
			"analysis/summary", "ingest/demo", "analysis/live", "analysis/policy", "analysis/workspace", "analysis/clickhouse",
			"export", "app/chart", "app/inputs", "app/message"},
		Vendors:  []string{modFyne},
		TestOurs: []string{"analysis/analysistest", "app/locale"},
	},
	// The CLI and the app's start: everything. Fyne only where the app starts
	// (fileRules).
	"": {
		Ours: []string{"ingest", "ingest/listen", "ingest/printable", "analysis", "analysis/rules", "analysis/services",
			"ingest/demo", "ingest/inventory", "analysis/live", "analysis/policy", "analysis/workspace", "analysis/clickhouse",
			"export", "assets", "app", "app/inputs", "app/locale", "app/message"},
		Vendors:     []string{modFyne, modXSys},
		TestOurs:    []string{"analysis/analysistest", "analysis/clickhouse/chtest"},
		TestVendors: []string{modExcelize},
	},
}

// fileRules narrow an import a package may make to some of its files.
var fileRules = []struct {
	Pkg, Import string
	Files       []string
}{
	{"", modFyne, []string{"cmd_gui.go"}}, // the CLI itself never draws
}

// imp is one import statement of one file.
type imp struct {
	Pkg, File, Path string
	Test            bool
}

// TestDependencies fails for each import of the module's packages that its
// rule does not allow.
func TestDependencies(t *testing.T) {
	imps := moduleImports(t)
	for _, e := range checkImports(imps) {
		t.Error(e)
	}
}

// moduleImports reads every import of every file (for any GOOS) of the
// module's packages, tests included.
func moduleImports(t *testing.T) []imp {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var imps []imp
	dec := json.NewDecoder(strings.NewReader(string(out)))
	pkgs := 0
	for dec.More() {
		var p struct {
			ImportPath, Dir                                              string
			GoFiles, CgoFiles, IgnoredGoFiles, TestGoFiles, XTestGoFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs++
		pkg := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, f := range slices.Concat(p.GoFiles, p.CgoFiles, p.IgnoredGoFiles, p.TestGoFiles, p.XTestGoFiles) {
			imps = append(imps, fileImports(t, pkg, filepath.Join(p.Dir, f))...)
		}
	}
	if pkgs < 10 {
		t.Fatalf("go list saw %d packages; expected the whole module", pkgs)
	}
	return imps
}

// fileImports returns the imports of one file of pkg.
func fileImports(t *testing.T, pkg, path string) []imp {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var out []imp
	for _, s := range f.Imports {
		p, err := strconv.Unquote(s.Path.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, imp{Pkg: pkg, File: filepath.Base(path), Path: p, Test: strings.HasSuffix(path, "_test.go")})
	}
	return out
}

// checkImports returns one message for each import that breaks the rules.
func checkImports(imps []imp) []string {
	var out []string
	for _, i := range imps {
		if e := check(i); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// check returns what is wrong with import i, or "".
func check(i imp) string {
	r, ok := importRules[i.Pkg]
	where := filepath.Join(i.Pkg, i.File)
	switch {
	case !ok:
		return fmt.Sprintf("%s: package %s has no import rule: declare one in deps_test.go (style.md §3)", where, orMain(i.Pkg))
	case stdlib(i.Path):
		return ""
	case strings.HasPrefix(i.Path, module+"/") || i.Path == module:
		return checkOurs(i, r, where)
	}
	vendors := r.Vendors
	if i.Test {
		vendors = slices.Concat(vendors, r.TestVendors)
	}
	if !slices.ContainsFunc(vendors, func(m string) bool { return within(i.Path, m) }) {
		return fmt.Sprintf("%s imports %s: %s may use %s (style.md §3)",
			where, i.Path, orMain(i.Pkg), list(vendors, "the third-party modules", "no third-party module"))
	}
	for _, fr := range fileRules {
		if fr.Pkg == i.Pkg && within(i.Path, fr.Import) && !slices.Contains(fr.Files, i.File) && !i.Test {
			return fmt.Sprintf("%s imports %s: in %s only %s may", where, i.Path, orMain(i.Pkg), strings.Join(fr.Files, ", "))
		}
	}
	return ""
}

// checkOurs checks an import of one of our packages.
func checkOurs(i imp, r deps, where string) string {
	to := strings.TrimPrefix(strings.TrimPrefix(i.Path, module), "/")
	ours := r.Ours
	if i.Test {
		ours = slices.Concat(ours, r.TestOurs, []string{i.Pkg})
	}
	if slices.Contains(ours, to) {
		return ""
	}
	return fmt.Sprintf("%s imports %s: %s may import %s (style.md §3: ingest → analysis → export → app → main)",
		where, orMain(to), orMain(i.Pkg), list(ours, "only our", "none of our packages"))
}

// stdlib reports whether path is in the standard library: its first element
// has no dot.
func stdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// within reports whether pkg is mod or one of its packages.
func within(pkg, mod string) bool { return pkg == mod || strings.HasPrefix(pkg, mod+"/") }

// list names xs after some, or says none.
func list(xs []string, some, none string) string {
	if len(xs) == 0 {
		return none
	}
	named := make([]string, len(xs))
	for i, x := range xs {
		named[i] = orMain(x)
	}
	return some + " " + strings.Join(named, ", ")
}

func orMain(pkg string) string {
	if pkg == "" {
		return "main"
	}
	return pkg
}

// TestCheck runs the checker on imports that must fail and on some that must
// pass, so that a rule that cannot fail shows here.
func TestCheck(t *testing.T) {
	ours := func(p string) string { return module + "/" + p }
	tests := []struct {
		Name string
		In   imp
		Want string // a part of the message; "" when allowed
	}{
		{"ingest imports nothing of ours", imp{Pkg: "ingest", File: "parse.go", Path: ours("analysis")}, "ingest may import none of our packages"},
		{"the listener knows no model", imp{Pkg: "ingest/listen", File: "server.go", Path: ours("analysis")}, "ingest/listen may import only our ingest"},
		{"analysis never imports export", imp{Pkg: "analysis", File: "model.go", Path: ours("export")}, "analysis may import only"},
		{"nothing imports app", imp{Pkg: "export", File: "nsx.go", Path: ours("app")}, "export may import only"},
		{"charts know no domain", imp{Pkg: "app/chart", File: "donut.go", Path: ours("analysis")}, "app/chart may import only our ingest/printable"},
		{"a new package needs a rule", imp{Pkg: "tools", File: "x.go", Path: "fmt"}, "has no import rule"},
		{"no fyne below the app", imp{Pkg: "ingest", File: "parse.go", Path: modFyne + "/widget"}, "ingest may use the third-party modules " + modSyslog},
		{"the CLI never draws", imp{Pkg: "", File: "cmd_flows.go", Path: modFyne}, "in main only cmd_gui.go may"},
		{"only the workspace speaks SQLite", imp{Pkg: "export", File: "plan.go", Path: modSQLite}, "export may use the third-party modules"},
		{"only the store speaks ClickHouse", imp{Pkg: "analysis/workspace", File: "ws.go", Path: modClickHouse + "/lib/driver"}, "analysis/workspace may use the third-party modules"},
		{"excelize not in the model", imp{Pkg: "analysis", File: "model.go", Path: modExcelize}, "analysis may use no third-party module"},
		{"SDKs in export's tests only", imp{Pkg: "export", File: "nsx.go", Path: modNSXSDK + "/services/nsxt/model"}, "export may use the third-party modules " + modExcelize},
		{"test helpers in tests only", imp{Pkg: "analysis", File: "model.go", Path: ours("analysis/analysistest")}, "analysis may import only our ingest"},
		{"the server helper is the store's", imp{Pkg: "analysis/workspace", File: "x_test.go", Path: ours("analysis/clickhouse/chtest"), Test: true}, "analysis/workspace may import only"},

		{"stdlib anywhere", imp{Pkg: "ingest", File: "parse.go", Path: "net/netip"}, ""},
		{"main may import all", imp{Pkg: "", File: "cli.go", Path: ours("app")}, ""},
		{"the app starts in cmd_gui.go", imp{Pkg: "", File: "cmd_gui.go", Path: modFyne + "/app"}, ""},
		{"ingest parses syslog", imp{Pkg: "ingest", File: "parse.go", Path: modSyslog + "/rfc5424"}, ""},
		{"external tests import their package", imp{Pkg: "export", File: "x_test.go", Path: ours("export"), Test: true}, ""},
		{"export's tests use the SDKs", imp{Pkg: "export", File: "x_test.go", Path: modNtnxSDK + "/models/microseg/v4/config", Test: true}, ""},
		{"the model never imports the listener", imp{Pkg: "analysis", File: "order.go", Path: ours("ingest/listen")}, "analysis may import only our ingest"},
		{"the model never imports rules", imp{Pkg: "analysis", File: "table.go", Path: ours("analysis/rules")}, "analysis may import only our ingest"},
		{"rules never read the store", imp{Pkg: "analysis/rules", File: "synth.go", Path: ours("analysis/workspace")}, "analysis/rules may import only"},
		{"service names know no model", imp{Pkg: "analysis/services", File: "services.go", Path: ours("analysis")}, "analysis/services may import only our ingest"},
		{"export never reads the store", imp{Pkg: "export", File: "plan.go", Path: ours("analysis/workspace")}, "export may import only"},
		{"the store never imports export", imp{Pkg: "analysis/workspace", File: "info.go", Path: ours("export")}, "analysis/workspace may import only"},
		{"rules from synthesis", imp{Pkg: "export", File: "rules.go", Path: ours("analysis/rules")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			got := check(tc.In)
			if (got == "") != (tc.Want == "") || !strings.Contains(got, tc.Want) {
				t.Errorf("check(%+v) = %q, want %q", tc.In, got, tc.Want)
			}
		})
	}
}
