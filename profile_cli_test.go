package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCPUProfileOfWorkspaceReads: --cpuprofile writes a profile for the
// commands that read a workspace, not only for those that read files (it
// was started only by the reading of files, so a workspace's commands wrote
// none).
func TestCPUProfileOfWorkspaceReads(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "w.flowsleuth")
	logf := filepath.Join(dir, "nsx.log")
	flowsleuth(t, "", "demo", "--vendor", "nsxt", "--sessions", "500", "--out", logf)
	if code, _, errs := flowsleuth(t, "", "import", "-q", "--workspace", ws, logf); code != exitOK {
		t.Fatal(errs)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"rules of the workspace", []string{"rules", "--format", "csv"}},
		{"flows of the workspace", []string{"flows", "--format", "csv"}},
		{"flows --top", []string{"flows", "--top", "5"}},
		{"check --holdout", []string{"check", "--holdout", "1h", "--format", "csv"}},
		{"export", []string{"export", "--csv", filepath.Join(dir, "out.csv")}},
		{"rules of a file", []string{"rules", "--format", "csv", logf}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prof := filepath.Join(t.TempDir(), "cpu.pprof")
			args := append(tc.args, "--workspace", ws, "--cpuprofile", prof)
			if code, _, errs := flowsleuth(t, "", args...); code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
				t.Errorf("no profile written: %v", err)
			}
		})
	}
}
