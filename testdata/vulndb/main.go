// Command vulndb builds a Go vulnerability database that govulncheck reads
// with -db file://DIR, from the OSV entries of a golang.org/x/vulndb module
// version, which the Go module proxy serves when vuln.go.dev cannot be reached.
//
//	go run . -module golang.org/x/vulndb@VERSION -out DIR
//	go run . -src DIR/data/osv -out DIR
//
// The database follows the v1 API that golang.org/x/vuln's client reads
// (https://go.dev/security/vuln/database#api; x/vuln internal/client,
// schema.go and index.go, v1.10.0):
//
//	index/db.json       {"modified": T}: the newest entry's time, or the module version's
//	index/modules.json  [{"path": M, "vulns": [{"id", "modified", "fixed"}]}], by path and id
//	ID/<id>.json        each OSV entry as the module holds it
//
// "fixed" is the latest fix no later introduction supersedes (x/vuln's
// semver.NonSupersededFix): the client fetches an entry only for versions
// below it. The module's entries carry no modification time (the public
// database adds it when it publishes), so a version's pseudo-version time
// stands for the database's.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

func main() {
	mod := flag.String("module", "", "the vulndb module version to read, path@version")
	src := flag.String("src", "", "a directory of OSV entries <ID>.json (instead of -module)")
	out := flag.String("out", "", "the directory to write the database into")
	flag.Parse()
	if err := run(*mod, *src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(mod, src, out string) error {
	if out == "" || (mod == "") == (src == "") {
		return errors.New("usage: vulndb (-module path@version | -src DIR) -out DIR")
	}
	var since time.Time
	if mod != "" {
		dir, t, err := download(mod)
		if err != nil {
			return err
		}
		src, since = filepath.Join(dir, "data", "osv"), t
	}
	n, err := build(src, out, since)
	if err != nil {
		return err
	}
	fmt.Printf("vulndb: %d entries from %s into %s\n", n, src, out)
	return nil
}

// download fetches the module version through the Go command (and so the
// module proxy and the checksum database) and returns its directory and, for
// a pseudo-version, its time.
func download(mod string) (string, time.Time, error) {
	path, version, ok := strings.Cut(mod, "@")
	if !ok {
		return "", time.Time{}, fmt.Errorf("-module %s: want path@version", mod)
	}
	b, err := exec.Command("go", "mod", "download", "-json", path+"@"+version).Output()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("go mod download %s: %w", mod, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(b, &info); err != nil {
		return "", time.Time{}, fmt.Errorf("go mod download %s: %w", mod, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", time.Time{}, fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	t, _ := module.PseudoVersionTime(version) // zero for a release
	return info.Dir, t, nil
}

// entry is the part of an OSV entry the index needs.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

// build writes the database of the entries in src into out and returns how
// many entries it holds. modified is the database's time at least.
func build(src, out string, modified time.Time) (int, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no OSV entries in %s", src)
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o755); err != nil {
		return 0, err
	}
	mods := map[string]*moduleMeta{}
	for _, f := range files {
		e, err := copyEntry(f, out)
		if err != nil {
			return 0, err
		}
		if e.Modified.After(modified) {
			modified = e.Modified
		}
		index(mods, e)
	}
	return len(files), writeIndex(out, mods, modified)
}

// copyEntry checks that file is an OSV entry named for its ID and copies it
// to out/ID.
func copyEntry(file, out string) (*entry, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if filepath.Base(file) != e.ID+".json" {
		return nil, fmt.Errorf("read %s: an OSV entry's file is <ID>.json, its ID is %q", file, e.ID)
	}
	return &e, os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), b, 0o644)
}

// index adds e to the modules index, once per affected module as x/vuln does.
func index(mods map[string]*moduleMeta, e *entry) {
	for _, a := range e.Affected {
		m := mods[a.Package.Name]
		if m == nil {
			m = &moduleMeta{Path: a.Package.Name, Vulns: []moduleVuln{}}
			mods[a.Package.Name] = m
		}
		m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: nonSupersededFix(a.Ranges)})
	}
}

// nonSupersededFix returns the latest fixed version of the SEMVER ranges
// that no introduction after it supersedes, or "" (x/vuln internal/semver,
// fixed.go). Versions in OSV carry no "v".
func nonSupersededFix(ranges []osvRange) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && less(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && less(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// less compares OSV versions ("1.2.3"; "" sorts first).
func less(a, b string) bool { return semver.Compare("v"+a, "v"+b) < 0 }

// writeIndex writes index/db.json and index/modules.json.
func writeIndex(out string, mods map[string]*moduleMeta, modified time.Time) error {
	list := make([]*moduleMeta, 0, len(mods))
	for _, m := range mods {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b *moduleMeta) int { return strings.Compare(a.Path, b.Path) })
	if err := os.MkdirAll(filepath.Join(out, "index"), 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(out, "index", "modules.json"), list); err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, "index", "db.json"), struct {
		Modified time.Time `json:"modified"`
	}{modified})
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
