package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowsleuth/flowsleuth/export"
)

// TestExportFinishedFits: two hundred warnings scroll inside a dialog that
// fits the window, instead of filling the screen.
func TestExportFinishedFits(t *testing.T) {
	u := demoUI(t)
	dir := t.TempDir()
	le := &export.LossError{Format: "Nutanix v3"}
	for i := range 200 {
		le.Losses = append(le.Losses, export.Loss{RuleID: fmt.Sprintf("r-%010d", i), Reason: "intra-group traffic is allowed all or nothing in Nutanix Flow v3"})
	}
	onUI(func() {
		showExportDone(u.shell, dir, export.Result{Written: []string{filepath.Join(dir, "rules.xlsx"), filepath.Join(dir, "csv", "rules.csv")},
			Losses: export.Losses{le}})
	})
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog")
	}
	if h := top.MinSize().Height; h > 600 {
		t.Errorf("the dialog needs %.0f px of an 800 px window", h)
	}
}

// TestExportDefaultFolder: exports go to ~/Documents/FlowSleuth/<workspace>,
// or ~/FlowSleuth/<workspace> without a Documents folder; not beside the
// (hidden) demo workspace.
func TestExportDefaultFolder(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	u := demoUI(t)
	if got, want := u.export.defaultDir(), filepath.Join(home, "FlowSleuth", "demo"); got != want {
		t.Errorf("default folder %s, want %s", got, want)
	}
	os.Mkdir(filepath.Join(home, "Documents"), 0o755)
	if got, want := u.export.defaultDir(), filepath.Join(home, "Documents", "FlowSleuth", "demo"); got != want {
		t.Errorf("default folder %s, want %s", got, want)
	}
	if u.export.dir.Text != filepath.Join(home, "FlowSleuth", "demo") {
		t.Errorf("the form shows %s", u.export.dir.Text)
	}
}
