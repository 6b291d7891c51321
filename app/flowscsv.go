package app

import (
	"bytes"

	"github.com/flowsleuth/flowsleuth/export"
)

// The Flows view's CSV: Copy puts the view's rows on the clipboard, Export
// view writes them to a file. A view may hold a million rows, so both
// render in the UI's background runner and hand the result back with
// fyne.Do; the status line says what is being prepared meanwhile.

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
