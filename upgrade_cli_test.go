package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeNotice: a command that opens a workspace of an older schema
// says, before it opens it, that it upgrades it once (a million
// conversations take half a minute); the next command says nothing.
func TestUpgradeNotice(t *testing.T) {
	b, err := os.ReadFile("analysis/workspace/testdata/schema4.flowsleuth")
	if err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(t.TempDir(), "old.flowsleuth")
	if err := os.WriteFile(ws, b, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "upgrading workspace " + ws + " from schema 4 to "
	for i, args := range [][]string{
		{"rules", "-q", "--format", "csv", "--workspace", ws},
		{"workspace", "info", "--workspace", ws},
	} {
		code, out, errOut := flowsleuth(t, "", args...)
		if code != 0 || out == "" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", args[0], code, out, errOut)
		}
		if got := strings.Contains(errOut, want); got != (i == 0) {
			t.Errorf("%s (run %d): stderr %q; want the upgrade notice only on the first run", args[0], i+1, errOut)
		}
	}
}
