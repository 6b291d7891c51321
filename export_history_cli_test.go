package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestNSXExportBesideAListener: while a listener (another process, holding
// the workspace's writer lock and committing what it receives) runs, NSX
// exports write their body and record what they wrote: the second marks
// for delete the rules of the first that it no longer has (here the
// suspect traffic's, made rules by --include-suspect the first time).
// Before, the export wrote its file and failed: "written, but not recorded
// in the workspace: … being written by flowsleuth listen".
func TestNSXExportBesideAListener(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a listener")
	}
	bin := binary(t)
	dir := t.TempDir()
	ws, archive := filepath.Join(dir, "live.flowsleuth"), filepath.Join(dir, "archive")
	logf, inv := filepath.Join(dir, "nsx.log"), filepath.Join(dir, "inv.csv")
	flowsleuthOK(t, "demo", "--vendor", "nsxt", "--sessions", "3000", "--out", logf, "--inventory", inv)
	flowsleuthOK(t, "import", "-q", "--workspace", ws, logf)
	flowsleuthOK(t, "inventory", "import", "--workspace", ws, inv)
	l := startListener(t, bin, ws, archive)
	defer func() {
		l.cmd.Process.Signal(syscall.SIGTERM)
		l.cmd.Wait()
	}()
	raw, err := os.ReadFile(logf)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(raw), "\n"), "\n")
	l.send(t, lines[:len(lines)/2]) // the listener commits these meanwhile (every 100 ms)
	export := func(name string, args ...string) (live, deleted []string) {
		t.Helper()
		path := filepath.Join(dir, name)
		args = append([]string{"export", "--workspace", ws, "--nsx", path, "--policy-name", "Books"}, args...)
		if code, out, errs := flowsleuth(t, "", args...); code != exitOK {
			t.Fatalf("export beside the listener: exit %d: %s%s", code, out, errs)
		}
		return nsxRuleIDs(t, path)
	}
	first, _ := export("nsx1.json", "--include-suspect")
	live, deleted := export("nsx2.json")
	var gone []string
	for _, id := range first {
		if !slices.Contains(live, id) {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	slices.Sort(deleted)
	if len(gone) == 0 || !slices.Equal(deleted, gone) {
		t.Errorf("the second export marks %v for delete; the first's rules it no longer has are %v", deleted, gone)
	}
	// The listener held the lock throughout, and still does.
	if l.cmd.ProcessState != nil {
		t.Fatalf("the listener stopped: %s", l.stderr.String())
	}
	cmd := childCommand(bin, "import", "-q", "--workspace", ws, logf)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "being written by") {
		t.Errorf("an import beside the listener: %v\n%s", err, out)
	}
}
