package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestNonSupersededFix follows x/vuln's internal/semver fixed_test.go: the
// latest fix, unless something is introduced after it.
func TestNonSupersededFix(t *testing.T) {
	r := func(events ...string) osvRange {
		var out osvRange
		out.Type = "SEMVER"
		for i := 0; i < len(events); i += 2 {
			out.Events = append(out.Events, struct {
				Introduced string `json:"introduced"`
				Fixed      string `json:"fixed"`
			}{events[i], events[i+1]})
		}
		return out
	}
	tests := []struct {
		Name   string
		Ranges []osvRange
		Want   string
	}{
		{"none", nil, ""},
		{"one fix", []osvRange{r("0", "", "", "1.2.7")}, "1.2.7"},
		{"latest of two", []osvRange{r("0", "", "", "1.2.7", "1.3.0", "", "", "1.3.2")}, "1.3.2"},
		{"reintroduced, not fixed", []osvRange{r("0", "", "", "1.2.7", "1.4.0", "")}, ""},
		{"pseudo-versions", []osvRange{r("0.0.0-20250721152936-fe86ceb2c3fa", "", "", "0.0.0-20260626085133-7cb96ac80a6d")}, "0.0.0-20260626085133-7cb96ac80a6d"},
		{"prerelease before release", []osvRange{r("0", "", "", "1.11.0-alpha.1", "", "1.10.3")}, "1.11.0-alpha.1"},
	}
	for _, tc := range tests {
		if got := nonSupersededFix(tc.Ranges); got != tc.Want {
			t.Errorf("%s: got %q, want %q", tc.Name, got, tc.Want)
		}
	}
}

// TestBuild builds a database of two entries and reads its index back.
func TestBuild(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	for id, body := range map[string]string{
		"GO-2026-0001": `{"id":"GO-2026-0001","modified":"2026-01-02T00:00:00Z","affected":[{"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`,
		"GO-2026-0002": `{"id":"GO-2026-0002","modified":"0001-01-01T00:00:00Z","affected":[{"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]},{"package":{"name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.10"}]}]}]}`,
	} {
		if err := os.WriteFile(filepath.Join(src, id+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := build(src, out, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != 2 {
		t.Fatalf("build: %d entries, %v", n, err)
	}
	var mods []moduleMeta
	readJSON(t, filepath.Join(out, "index", "modules.json"), &mods)
	if len(mods) != 2 || mods[0].Path != "example.com/a" || mods[1].Path != "stdlib" {
		t.Fatalf("modules %+v", mods)
	}
	if v := mods[0].Vulns; len(v) != 2 || v[0].ID != "GO-2026-0001" || v[0].Fixed != "1.2.0" || v[1].Fixed != "" {
		t.Errorf("example.com/a's vulns %+v", v)
	}
	var db struct{ Modified time.Time }
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	if want := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC); !db.Modified.Equal(want) {
		t.Errorf("db modified %v, want the newest entry's %v", db.Modified, want)
	}
	if _, err := os.Stat(filepath.Join(out, "ID", "GO-2026-0002.json")); err != nil {
		t.Error(err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
