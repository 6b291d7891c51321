package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/workspace"
)

// TestReadingCommandsOnReadOnlyWorkspace: the commands that only read a
// workspace — check (policy, hold-out, workbook) and rules naming a VM of
// its inventory in --focus — work for a user who may not write it (they
// opened it as writers: "attempt to write a readonly database"), with the
// results its owner gets. It runs the binary as nobody, so it needs root.
func TestReadingCommandsOnReadOnlyWorkspace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs the binary as another user: needs root")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir() // the workspace's: the owner's alone to write
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o777)
	for _, d := range []string{filepath.Dir(dir), dir, out} {
		if err := os.Chmod(d, map[bool]os.FileMode{true: 0o777, false: 0o755}[d == out]); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "flowsleuth")
	if data, err := os.ReadFile(binary(t)); err != nil || os.WriteFile(bin, data, 0o755) != nil {
		t.Fatal("copy the binary:", err)
	}
	ws, logf, inv := filepath.Join(dir, "w.flowsleuth"), filepath.Join(dir, "demo.log"), filepath.Join(dir, "inv.csv")
	flowsleuthOK(t, "demo", "--vendor", "nsxt", "--sessions", "2000", "--out", logf, "--inventory", inv)
	flowsleuthOK(t, "import", "-q", "--workspace", ws, logf)
	flowsleuthOK(t, "inventory", "import", "--workspace", ws, inv)
	policy := filepath.Join(dir, "nsx.json")
	flowsleuthOK(t, "export", "--workspace", ws, "--nsx", policy)
	runs := [][]string{
		{"check", "--workspace", ws, "--policy", policy, "--format", "csv"},
		{"check", "--workspace", ws, "--holdout", "1d"},
		{"check", "--workspace", ws, "--policy", policy, "--xlsx", filepath.Join(out, "whatif.xlsx")},
		{"rules", "--workspace", ws, "--focus", "dc-01", "--format", "csv"},
	}
	want := make([]string, len(runs))
	codes := make([]int, len(runs))
	for i, args := range runs {
		var errs string
		codes[i], want[i], errs = flowsleuth(t, "", args...)
		if codes[i] != exitOK && codes[i] != exitFailure || want[i] == "" {
			t.Fatalf("%v as the owner: exit %d: %s", args, codes[i], errs)
		}
	}
	for i, args := range runs {
		settle(t, ws)
		cmd := childCommand(bin, args...)
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != codes[i] || stdout.String() != want[i] {
			t.Errorf("%s as another user: exit %d (the owner's %d): %s\n%s", strings.Join(args, " "), code, codes[i],
				stderr.String(), stdout.String())
		}
	}
}

// settle leaves the workspace at path as a writer leaves it when it
// closes: without its WAL and shared-memory files (a reader cannot remove
// them; another user could use them, where he cannot create them).
func settle(t *testing.T, path string) {
	t.Helper()
	w, err := workspace.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatalf("%s-wal left after a writer closed", path)
	}
}
