package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeNotice: a command that opens a workspace of an older schema
// says, before it opens it, that it upgrades it once and how long that
// takes (schema 4's, which moved the sample lines: half a minute for a
// million conversations; schema 5's and 6's, which move the conversations
// into blocks: a few seconds; and compact gives back the space they free);
// the next command says nothing.
func TestUpgradeNotice(t *testing.T) {
	for _, c := range []struct {
		ws, from, took string
		compact        bool
	}{
		{schema4Workspace(t), "4", "about half a minute", true},
		{schemaWorkspace(t, "schema5.flowsleuth"), "5", "a few seconds", true},
		{schemaWorkspace(t, "schema6.flowsleuth"), "6", "a few seconds", true},
	} {
		want := "upgrading workspace " + c.ws + " from schema " + c.from + " to "
		for i, args := range [][]string{
			{"rules", "-q", "--format", "csv", "--workspace", c.ws},
			{"workspace", "info", "--workspace", c.ws},
		} {
			code, out, errOut := flowsleuth(t, "", args...)
			if code != 0 || out == "" {
				t.Fatalf("%s: exit %d, stdout %q, stderr %q", args[0], code, out, errOut)
			}
			if got := strings.Contains(errOut, want); got != (i == 0) {
				t.Errorf("%s (run %d): stderr %q; want the upgrade notice only on the first run", args[0], i+1, errOut)
			}
			if i == 0 && (!strings.Contains(errOut, c.took) || strings.Contains(errOut, "compact") != c.compact) {
				t.Errorf("schema %s: notice %q; want %q, compact mentioned: %v", c.from, errOut, c.took, c.compact)
			}
		}
	}
}

// TestCompactCLI compacts an upgraded workspace: the file shrinks, what it
// holds does not change, and a second compact has nothing to give back.
func TestCompactCLI(t *testing.T) {
	ws := schema4Workspace(t)
	flowsCSV := func() string {
		code, out, errOut := flowsleuth(t, "", "flows", "--format", "csv", "--workspace", ws)
		if code != 0 || out == "" {
			t.Fatalf("flows: exit %d, stderr %q", code, errOut)
		}
		return out
	}
	before := flowsCSV() // upgrades it, leaving free pages
	st, err := os.Stat(ws)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := flowsleuth(t, "", "workspace", "compact", "--workspace", ws)
	if code != 0 || !strings.Contains(out, "given back") {
		t.Fatalf("compact: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if st2, err := os.Stat(ws); err != nil || st2.Size() >= st.Size() {
		t.Errorf("compact left the file at %d bytes (was %d): %v", st2.Size(), st.Size(), err)
	}
	if after := flowsCSV(); after != before {
		t.Errorf("flows after compacting differ:\n%s\nwas\n%s", after, before)
	}
	code, out, errOut = flowsleuth(t, "", "workspace", "compact", "--workspace", ws)
	if code != 0 || !strings.Contains(out, "nothing to give back") {
		t.Errorf("second compact: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// schema4Workspace is a copy of the schema-4 fixture, which a writer
// upgrades.
func schema4Workspace(t *testing.T) string {
	t.Helper()
	return schemaWorkspace(t, "schema4.flowsleuth")
}

// schemaWorkspace returns a copy of a workspace fixture of an older schema
// (analysis/workspace/testdata/name).
func schemaWorkspace(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("analysis/workspace/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(t.TempDir(), "old.flowsleuth")
	if err := os.WriteFile(ws, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return ws
}
