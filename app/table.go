package app

import (
	"image/color"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// dataTable is a read-only table with sortable header buttons, built for
// large row counts: it reports no rows until it has a size, which avoids
// Fyne 2.7's one-separator-per-row layout at zero size (700 MB and 7 s
// for a million rows; reference/fyne.md §7).
//
// It selects whole rows: a click highlights every cell of the row, and the
// Up, Down, Page Up, Page Down, Home and End keys move the selection when
// the table has the focus. One column may be flexible: it takes the width
// the table has left for it.
type dataTable struct {
	widget.Table

	headers []string
	widths  []float32
	rows    func() int
	cell    func(row, col int) string

	sortCol  int // -1: none
	desc     bool
	onSort   func(col int, desc bool)
	onSelect func(row int) // row -1: the selection was cleared
	sized    bool

	selRow   int     // selected row, or -1
	focusCol int     // the column the selection was made in (keys keep it)
	flexCol  int     // the column that takes the width left, or -1
	flexMin  float32 // its narrowest width
	flexKeep int     // columns after it kept in view when it can still have flexMin
}

// pageRows is how far Page Up and Page Down move the selection.
const pageRows = 10

// newDataTable makes a table of len(headers) columns.
func newDataTable(headers []string, widths []float32, rows func() int, cell func(row, col int) string) *dataTable {
	t := &dataTable{headers: headers, widths: slices.Clone(widths), rows: rows, cell: cell, sortCol: -1, selRow: -1, flexCol: -1}
	t.Length = func() (int, int) {
		if !t.sized {
			return 0, len(t.headers)
		}
		return t.rows(), len(t.headers)
	}
	t.CreateCell = func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return container.NewStack(canvas.NewRectangle(color.Transparent), l)
	}
	t.UpdateCell = t.updateCell
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
		// Fyne marks one cell; the row highlight replaces that mark.
		t.Table.Unselect(id)
		t.focusCol = id.Col
		// A click selects, and the keys should then move the selection, but
		// Fyne's Table focuses itself through the canvas of its embedded
		// value, which the real driver does not know: focus the whole widget.
		if c := fyne.CurrentApp().Driver().CanvasForObject(t); c != nil && c.Focused() != t {
			c.Focus(t)
		}
		t.selectRow(id.Row)
	}
	t.ExtendBaseWidget(t)
	for i, w := range widths {
		t.SetColumnWidth(i, w)
	}
	return t
}

// updateCell fills a cell and paints the selected row.
func (t *dataTable) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	c := o.(*fyne.Container)
	bg, l := c.Objects[0].(*canvas.Rectangle), cellLabel(o)
	if id.Row >= t.rows() {
		return
	}
	l.SetText(printable.Field(t.cell(id.Row, id.Col))) // cells quote logs
	want := color.Color(color.Transparent)
	if id.Row == t.selRow {
		want = t.Theme().Color(theme.ColorNameSelection, fyne.CurrentApp().Settings().ThemeVariant())
	}
	if bg.FillColor != want {
		bg.FillColor = want
		bg.Refresh()
	}
}

// cellLabel is the label of a dataTable cell (under it: the rectangle that
// paints the selected row).
func cellLabel(o fyne.CanvasObject) *widget.Label {
	return o.(*fyne.Container).Objects[1].(*widget.Label)
}

// selectRow selects row (or clears the selection for -1), tells onSelect
// and repaints.
func (t *dataTable) selectRow(row int) {
	if row >= t.rows() {
		row = -1
	}
	t.selRow = row
	if row >= 0 {
		t.ScrollTo(widget.TableCellID{Row: row, Col: t.focusCol})
	}
	t.Refresh()
	if t.onSelect != nil {
		t.onSelect(row)
	}
}

// SelectRow selects row without telling onSelect: for a view that keeps
// its selection across new data. -1 clears it.
func (t *dataTable) SelectRow(row int) {
	if row >= t.rows() {
		row = -1
	}
	if row == t.selRow {
		return
	}
	t.selRow = row
	t.Refresh()
}

// Selected returns the selected row, or -1.
func (t *dataTable) Selected() int { return t.selRow }

// TypedKey moves the selection with the arrow keys (and scrolls sideways
// with Left and Right, as Fyne's table does).
func (t *dataTable) TypedKey(ev *fyne.KeyEvent) {
	n := t.rows()
	row := t.selRow
	switch ev.Name {
	case fyne.KeyDown:
		row++
	case fyne.KeyUp:
		row--
	case fyne.KeyPageDown:
		row += pageRows
	case fyne.KeyPageUp:
		row -= pageRows
	case fyne.KeyHome:
		row = 0
	case fyne.KeyEnd:
		row = n - 1
	default:
		t.Table.TypedKey(ev)
		return
	}
	if n == 0 {
		return
	}
	if t.selRow < 0 && (ev.Name == fyne.KeyDown || ev.Name == fyne.KeyUp) {
		row = 0 // the first arrow press selects the first row
	}
	row = min(max(row, 0), n-1)
	if row != t.selRow {
		// Through Fyne's Select, so that its focus mark follows; OnSelected
		// then selects the row.
		t.Table.Select(widget.TableCellID{Row: row, Col: t.focusCol})
		if t.selRow != row { // a table not laid out yet has no rows for Fyne
			t.selectRow(row)
		}
	}
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
	case "Sessions", sessionsInRange, "Bytes", "Events", "Lines", "Malformed", "Conversations", "Messages", "Size":
		return true
	}
	return false
}

// setFlex makes col take the width the other columns leave (at least min).
func (t *dataTable) setFlex(col int, min float32) {
	t.flexCol, t.flexMin = col, min
}

// fitFlex sizes the flexible column to the table's width: the columns
// before it stay as they are, and it takes the rest (less the columns kept
// in view after it, see keepAfterFlex); the columns after it are reached by
// scrolling.
func (t *dataTable) fitFlex(width float32) {
	if t.flexCol < 0 || width <= 0 {
		return
	}
	pad := theme.Padding()
	used := 2 * pad // the flexible column ends at the edge: the next one is off the table
	for i := 0; i < t.flexCol && i < len(t.widths); i++ {
		used += t.widths[i] + pad // each column and its divider
	}
	rest := width - used
	var after float32
	for i := t.flexCol + 1; i <= t.flexCol+t.flexKeep && i < len(t.widths); i++ {
		after += t.widths[i] + pad
	}
	if after > 0 && rest-after >= t.flexMin {
		rest -= after
	}
	t.widths[t.flexCol] = max(t.flexMin, rest)
	t.SetColumnWidth(t.flexCol, t.widths[t.flexCol])
}

// keepAfterFlex keeps the n columns after the flexible one in view, when
// the table is wide enough for them and the flexible column's minimum;
// else they are reached by scrolling, as the others.
func (t *dataTable) keepAfterFlex(n int) {
	if n == t.flexKeep {
		return
	}
	t.flexKeep = n
	t.fitFlex(t.Size().Width)
}

// Resize shows the rows once the table has a real size.
func (t *dataTable) Resize(s fyne.Size) {
	first := !t.sized && s.Width > 0 && s.Height > 0
	if first {
		t.sized = true
	}
	if s.Width != t.Size().Width {
		t.fitFlex(s.Width)
	}
	t.Table.Resize(s)
	if first {
		t.Refresh()
	}
}
