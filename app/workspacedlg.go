package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// The File menu's workspace dialogs: they need the shell and, to open a
// workspace, the UI's open (passed in).

// chooseWorkspace lets the user open another workspace file with open,
// off the UI goroutine.
func chooseWorkspace(sh *shell, open func(path string)) {
	sh.chooseFile([]string{".flowsleuth"}, func(path string) {
		sh.background(func() { open(path) })
	})
}

// newWorkspace lets the user create an empty workspace and open it with
// open, off the UI goroutine.
func newWorkspace(sh *shell, open func(path string)) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			sh.showError(err)
			return
		}
		path := w.URI().Path()
		w.Close()
		os.Remove(path) // the dialog created it empty; the workspace makes its own
		if filepath.Ext(path) != ".flowsleuth" {
			path += ".flowsleuth"
		}
		sh.background(func() { open(path) })
	}, sh.win)
	d.SetFileName("project.flowsleuth")
	d.Show()
}

// chooseInventory imports a VM inventory (RVTools, Prism Central, CSV or
// XLSX) so conversations show VM names and groups.
func chooseInventory(sh *shell) {
	sh.chooseFile([]string{".csv", ".xlsx"}, func(path string) { importInventory(sh, path) })
}

// importInventory stores the inventory at path and reloads the views.
func importInventory(sh *shell, path string) {
	p := sh.Project()
	if p == nil {
		sh.showErrorNow(errNoWorkspace)
		return
	}
	sh.background(func() {
		res, err := p.Workspace().ImportInventory(sh.ctx, path)
		if err != nil {
			sh.showError(err)
			return
		}
		sh.load(p)
		sh.setStatus(fmt.Sprintf("Inventory %s (%s format): %s, %s.", filepath.Base(path),
			res.Report.Format, plural(res.VMs, "VM"), plural(res.Addresses, "address")))
	})
}

// editMonitored lets the user declare the monitored (protected) prefixes
// that directions are relative to; empty means learned from the logs.
func editMonitored(sh *shell) {
	p := sh.Project()
	if p == nil {
		sh.showErrorNow(errNoWorkspace)
		return
	}
	entry := widget.NewMultiLineEntry()
	entry.SetPlaceHolder("one address or CIDR per line, e.g. 10.20.0.0/16\n(empty: learned from the logs)")
	entry.SetText(strings.Join(p.Snapshot().Monitor, "\n"))
	entry.Validator = func(s string) error { _, err := analysis.ParsePeers(s); return err }
	d := dialog.NewForm("Monitored addresses", "Save", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Prefixes", entry)}, func(ok bool) {
		if !ok {
			return
		}
		prefixes, _ := analysis.ParsePeers(entry.Text)
		sh.background(func() {
			if err := p.Workspace().SetMonitored(sh.ctx, prefixes); err != nil {
				sh.showError(err)
				return
			}
			sh.load(p)
		})
	}, sh.win)
	d.Resize(fyne.NewSize(480, 360))
	d.Show()
}
