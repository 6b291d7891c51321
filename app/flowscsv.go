package app

import (
	"bufio"
	"bytes"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/flowsleuth/flowsleuth/export"
)

// The Flows view's CSV: Copy puts the view's rows on the clipboard, Export
// view writes them to a file. A view may hold a million rows, so both
// render in the UI's background runner and hand the result back with
// fyne.Do; the status line says what is being prepared meanwhile.

// copyView copies the view's rows (at most copyLimit) as CSV.
func (v *flowsView) copyView() {
	view := v.view
	if view == nil {
		return
	}
	v.u.status.SetText(fmt.Sprintf("Preparing the copy of %s…", plural(min(view.Len(), copyLimit), "conversation")))
	v.u.background(func() {
		b, n := flowsCSV(view, copyLimit)
		v.u.do(func() {
			v.u.app.Clipboard().SetContent(string(b))
			msg := fmt.Sprintf("Copied %s as CSV.", plural(min(n, copyLimit), "conversation"))
			if n > copyLimit {
				msg += fmt.Sprintf(" (%s more: use Export view.)", thousands(n-copyLimit))
			}
			v.u.status.SetText(msg)
		})
	})
}

// flowsCSV renders view's rows as CSV (at most limit rows; 0 = all) and
// returns how many rows the view has.
func flowsCSV(view *FlowView, limit int) ([]byte, int) {
	rows := view.Rows
	n := len(rows)
	if limit > 0 && n > limit {
		rows = rows[:limit]
	}
	var buf bytes.Buffer
	export.WriteFlowsCSV(&buf, view.Convs, rows) // writes to memory: cannot fail
	return buf.Bytes(), n
}

// exportView asks for a file and writes the view's rows to it as CSV.
func (v *flowsView) exportView() {
	view := v.view
	if view == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			v.u.showError(err)
			return
		}
		path := w.URI().Path()
		w.Close()
		v.u.setStatus(fmt.Sprintf("Writing %s to %s…", plural(view.Len(), "conversation"), path))
		v.u.background(func() {
			err := export.WriteFile(path, func(bw *bufio.Writer) error { return export.WriteFlowsCSV(bw, view.Convs, view.Rows) })
			if err != nil {
				v.u.showError(err)
				return
			}
			v.u.setStatus(fmt.Sprintf("Wrote %s to %s", plural(view.Len(), "conversation"), path))
		})
	}, v.u.win)
	d.SetFileName("flows.csv")
	d.Show()
}
