package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestTableCellsEscaped: a table cell quoting log text shows its escape
// sequences and bidirectional overrides as visible escapes.
func TestTableCellsEscaped(t *testing.T) {
	test.NewTempApp(t)
	evil := "Evil\x1b[2J\u202eop"
	tb := newDataTable([]string{"Tag"}, []float32{100}, func() int { return 1 }, func(int, int) string { return evil })
	l := tb.CreateCell().(*widget.Label)
	tb.UpdateCell(widget.TableCellID{Row: 0, Col: 0}, l)
	if strings.ContainsAny(l.Text, "\x1b\u202e") || !strings.Contains(l.Text, `\x1b[2J`) {
		t.Errorf("cell %q", l.Text)
	}
}
