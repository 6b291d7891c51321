package app

import (
	"net/url"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// showExportDone tells what an export wrote: the files, by name, in their
// folder (with a button to open it), the existing NSX groups the body
// references, and the warnings in a list that scrolls, so that a long list
// never fills the screen.
func showExportDone(sh *shell, dir string, res export.Result) {
	written, warnings := res.Written, res.Losses.Messages()
	names := make([]string, len(written))
	for i, p := range written {
		if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			p = rel
		}
		names[i] = "• " + p
	}
	head := widget.NewLabelWithStyle(printable.Text("Wrote "+plural(len(written), "file")+" to "+dir),
		fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	files := widget.NewLabel(printable.Text(strings.Join(names, "\n")))
	open := widget.NewButtonWithIcon("Open the folder", theme.FolderOpenIcon(), func() {
		if err := sh.app.OpenURL(&url.URL{Scheme: "file", Path: dir}); err != nil {
			sh.showErrorNow(err)
		}
	})
	box := container.NewVBox(head, files, container.NewHBox(open))
	if len(res.NSXExternal) > 0 {
		ext := widget.NewLabel(printable.Text("The NSX body references these existing groups: " + strings.Join(res.NSXExternal, ", ")))
		ext.Wrapping = fyne.TextWrapWord
		box.Add(ext)
	}
	if len(warnings) > 0 {
		note := widget.NewLabel(plural(len(warnings), "warning") + ": what the formats cannot express exactly")
		list := widget.NewLabel(printable.Text("• " + strings.Join(warnings, "\n• "))) // rule and tag names
		list.Wrapping = fyne.TextWrapWord
		scroll := container.NewVScroll(list)
		scroll.SetMinSize(fyne.NewSize(0, 160))
		box.Add(widget.NewSeparator())
		box.Add(note)
		box.Add(scroll)
	}
	d := dialog.NewCustom("Export finished", "Close", box, sh.win)
	d.Resize(fyne.NewSize(680, box.MinSize().Height+120))
	d.Show()
}
