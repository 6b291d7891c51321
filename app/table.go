package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// dataTable is a read-only table with sortable header buttons, built for
// large row counts: it reports no rows until it has a size, which avoids
// Fyne 2.7's one-separator-per-row layout at zero size (700 MB and 7 s
// for a million rows; reference/fyne.md §7).
type dataTable struct {
	widget.Table

	headers []string
	rows    func() int
	cell    func(row, col int) string

	sortCol  int // -1: none
	desc     bool
	onSort   func(col int, desc bool)
	onSelect func(row int)
	sized    bool
}

// newDataTable makes a table of len(headers) columns.
func newDataTable(headers []string, widths []float32, rows func() int, cell func(row, col int) string) *dataTable {
	t := &dataTable{headers: headers, rows: rows, cell: cell, sortCol: -1}
	t.Length = func() (int, int) {
		if !t.sized {
			return 0, len(t.headers)
		}
		return t.rows(), len(t.headers)
	}
	t.CreateCell = func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	t.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < t.rows() {
			o.(*widget.Label).SetText(printable.Field(t.cell(id.Row, id.Col))) // cells quote logs
		}
	}
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		return b
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		if id.Col < 0 || id.Col >= len(t.headers) {
			return
		}
		b.SetText(t.headers[id.Col] + t.arrow(id.Col))
		col := id.Col
		b.OnTapped = func() { t.SortBy(col) }
	}
	t.OnSelected = func(id widget.TableCellID) {
		if t.onSelect != nil && id.Row >= 0 && id.Row < t.rows() {
			t.onSelect(id.Row)
		}
	}
	t.ExtendBaseWidget(t)
	for i, w := range widths {
		t.SetColumnWidth(i, w)
	}
	return t
}

func (t *dataTable) arrow(col int) string {
	switch {
	case col != t.sortCol:
		return ""
	case t.desc:
		return " ▼"
	}
	return " ▲"
}

// SortBy sorts by col, reversing the order when it is already the sort column.
func (t *dataTable) SortBy(col int) {
	if t.onSort == nil {
		return
	}
	if col == t.sortCol {
		t.desc = !t.desc
	} else {
		t.sortCol, t.desc = col, numericColumn(t.headers[col])
	}
	t.onSort(t.sortCol, t.desc)
	t.Refresh()
}

// numericColumn says whether a column sorts largest first at the first tap.
func numericColumn(h string) bool {
	switch h {
	case "Sessions", "Bytes", "Events", "Lines", "Malformed", "Conversations", "Messages", "Size":
		return true
	}
	return false
}

// Resize shows the rows once the table has a real size.
func (t *dataTable) Resize(s fyne.Size) {
	first := !t.sized && s.Width > 0 && s.Height > 0
	if first {
		t.sized = true
	}
	t.Table.Resize(s)
	if first {
		t.Refresh()
	}
}
