package export

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// TableOptions shape the text tables written for terminals (the flows and
// rules tables of the CLI).
type TableOptions struct {
	// Width is the terminal's width in columns: rows are cut to fit it.
	// 0 means no limit (output to a file or a pipe): full text.
	Width int
	// Wide keeps the full text whatever the width.
	Wide bool
}

// fits reports whether the table must fit a width.
func (o TableOptions) fits() bool { return o.Width > 0 && !o.Wide }

// tableCol is a column of a text table.
type tableCol struct {
	title    string
	soft     int    // 0: never cut; else it is cut to this before columns are left out
	cut      int    // and to this (at most soft) when leaving columns out is not enough
	optional bool   // left out first (from the right) when the table is too wide
	sep      string // "": a plain cell; else the cells are lists joined with sep
	// short, if set, is the cell's shorter form in a table that fits a width.
	short func(string) string
	// fit, if set, is the cell of row i in a table that fits a width, made
	// from the row's data where its text cannot say what may be summarised
	// (a name with commas beside a list of members), and whether it was.
	fit func(i int) (string, bool)
}

// fitCell is the cell of row i (-1: the titles) as a table that fits a
// width shows it: in its short form, a list summarised. It reports whether
// the list was.
func (c *tableCol) fitCell(i int, text string) (string, bool) {
	if c.fit != nil && i >= 0 {
		return c.fit(i)
	}
	if c.short != nil {
		text = c.short(text)
	}
	if c.sep == "" {
		return text, false
	}
	return summarise(text, c.sep, listMax)
}

// shortTime writes an RFC 3339 time as "2006-01-02 15:04", still UTC.
func shortTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// listMax is how long a list cell may be in a fitted table before it is
// summarised as "its first items +N more".
const listMax = 32

// gap is the space after every cell (as text/tabwriter pads them).
const gap = 2

// textTable writes a table of n rows that row fills, cell by cell; row is
// called twice per row (once to measure, once to write), so the table is
// never held in memory. Without a width to fit, cells are aligned at their
// full width, as text/tabwriter would (padding 2, the last cell too). To fit
// a width, list cells are summarised ("20.10.31.115 +24 more") and columns
// cut (…) or left out (see fitWidths); a note under the table says so.
// Cells quote log text: what a terminal would obey is escaped
// (printable.Field) before they are measured.
func textTable(w io.Writer, cols []tableCol, n int, row func(i int, cells []string), o TableOptions) error {
	cells := make([]string, len(cols))
	titles, widths, summarised := measureTable(cols, n, row, cells, o)
	shown := make([]bool, len(cols))
	for c := range shown {
		shown[c] = true
	}
	cut := false
	if o.fits() {
		cut = fitWidths(cols, widths, shown, o.Width)
	}
	bw := bufio.NewWriter(w)
	writeTableLine(bw, cols, widths, shown, o, -1, titles)
	for i := range n {
		row(i, cells)
		writeTableLine(bw, cols, widths, shown, o, i, cells)
	}
	bw.WriteString(fitNote(titles, shown, summarised || cut, o.Width))
	return bw.Flush()
}

// measureTable fills cells with each of the n rows in turn to measure the
// columns: it returns their titles, their widths (the widest cell, title
// included, as the table shows it) and whether a list cell was summarised.
func measureTable(cols []tableCol, n int, row func(i int, cells []string), cells []string, o TableOptions) (titles []string, widths []int, summarised bool) {
	widths = make([]int, len(cols))
	titles = make([]string, len(cols))
	for c, col := range cols {
		titles[c] = col.title
		widths[c] = utf8.RuneCountInString(col.title)
	}
	for i := range n {
		row(i, cells)
		for c := range cols {
			if o.fits() {
				var cut bool
				cells[c], cut = cols[c].fitCell(i, cells[c])
				summarised = summarised || cut
			}
			widths[c] = max(widths[c], utf8.RuneCountInString(printable.Field(cells[c])))
		}
	}
	return titles, widths, summarised
}

// writeTableLine writes the shown cells of row i (-1: the titles), each
// padded to its column's width and cut to it.
func writeTableLine(bw *bufio.Writer, cols []tableCol, widths []int, shown []bool, o TableOptions, i int, cells []string) {
	var b strings.Builder
	for c := range cols {
		if !shown[c] {
			continue
		}
		text := cells[c]
		if o.fits() {
			text, _ = cols[c].fitCell(i, text)
		}
		text = clip(printable.Field(text), widths[c])
		b.WriteString(text)
		b.WriteString(strings.Repeat(" ", widths[c]-utf8.RuneCountInString(text)+gap))
	}
	out := b.String()
	if o.fits() {
		out = strings.TrimRight(out, " ")
	}
	bw.WriteString(out)
	bw.WriteByte('\n')
}

// fitNote is the note under a table fitted to width, naming the columns
// left out, or "" when the table shows everything in full.
func fitNote(titles []string, shown []bool, shortened bool, width int) string {
	var hidden []string
	for c := range titles {
		if !shown[c] {
			hidden = append(hidden, strings.ToLower(titles[c]))
		}
	}
	if !shortened && len(hidden) == 0 {
		return ""
	}
	note := fmt.Sprintf("(fitted to %d columns", width)
	if len(hidden) > 0 {
		note += ", without " + strings.Join(hidden, ", ")
	}
	return wrap(note+"; --wide shows all)", width) + "\n"
}

// fitWidths makes the shown columns fit width, in steps, each only while
// the table is too wide: the columns that may be cut are cut to their soft
// width (the widest first, a character at a time); optional columns are
// left out, from the right; those cut further, to their hard width; then
// columns are left out from the right. It reports whether it cut any.
func fitWidths(cols []tableCol, widths []int, shown []bool, width int) (cut bool) {
	cut = narrowColumns(cols, widths, shown, width, func(c tableCol) int { return c.soft })
	dropColumns(cols, widths, shown, width, true)
	if narrowColumns(cols, widths, shown, width, func(c tableCol) int { return min(c.cut, c.soft) }) {
		cut = true
	}
	dropColumns(cols, widths, shown, width, false)
	return cut
}

// shownWidth is the width of the table's shown columns, the gaps between
// them included.
func shownWidth(cols []tableCol, widths []int, shown []bool) int {
	t := -gap
	for c := range cols {
		if shown[c] {
			t += widths[c] + gap
		}
	}
	return t
}

// narrowColumns cuts the widest shown column wider than its limit (0: no
// limit) by a character while the table is wider than width. It reports
// whether it cut any.
func narrowColumns(cols []tableCol, widths []int, shown []bool, width int, limit func(tableCol) int) (cut bool) {
	for shownWidth(cols, widths, shown) > width {
		widest := -1
		for c := range cols {
			if shown[c] && limit(cols[c]) > 0 && widths[c] > limit(cols[c]) && (widest < 0 || widths[c] > widths[widest]) {
				widest = c
			}
		}
		if widest < 0 {
			return cut
		}
		widths[widest]--
		cut = true
	}
	return cut
}

// dropColumns leaves out columns from the right, never the first, while
// the table is wider than width: only the optional ones if optionalOnly.
func dropColumns(cols []tableCol, widths []int, shown []bool, width int, optionalOnly bool) {
	for c := len(cols) - 1; c > 0 && shownWidth(cols, widths, shown) > width; c-- {
		if shown[c] && (cols[c].optional || !optionalOnly) {
			shown[c] = false
		}
	}
}

// summarise shortens a list cell longer than limit to as many of its first
// items as fit and "+N more": "20.10.31.115 +24 more". It reports whether
// it did.
func summarise(text, sep string, limit int) (string, bool) {
	if utf8.RuneCountInString(text) <= limit {
		return text, false
	}
	items := strings.Split(text, sep)
	if len(items) < 2 {
		return text, false
	}
	keep := 1
	for keep < len(items) {
		more := " +" + strconv.Itoa(len(items)-keep-1) + " more"
		if utf8.RuneCountInString(strings.Join(items[:keep+1], sep)+more) > limit {
			break
		}
		keep++
	}
	if keep == len(items) {
		return text, false
	}
	return strings.Join(items[:keep], sep) + " +" + strconv.Itoa(len(items)-keep) + " more", true
}

// wrap breaks text at spaces into lines of at most width runes (a word
// longer than that stays whole).
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(text) {
		w := utf8.RuneCountInString(word)
		if i > 0 && n+1+w > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += w
	}
	return b.String()
}

// clip cuts text to width runes, ending with "…" when it cut.
func clip(text string, width int) string {
	if utf8.RuneCountInString(text) <= width {
		return text
	}
	if width <= 1 {
		return string([]rune(text)[:max(width, 0)])
	}
	return string([]rune(text)[:width-1]) + "…"
}
