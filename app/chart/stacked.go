package chart

import (
	"image/color"
	"math"
	"sort"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// StackedBars is a horizontal stacked bar chart: one bar per category (such
// as a security tag), split into segments per series (such as inbound,
// outbound and intra). Category labels sit on the left, a legend on top and
// the value axis below. Hovering a segment shows a tooltip; tapping it calls
// OnTapped.
type StackedBars struct {
	widget.BaseWidget

	// OnTapped is called with the caller's category and series indices when a
	// segment is tapped. The category is Other for the merged row.
	OnTapped func(category, series int)
	// OnTappedCategory, if set, is called with the caller's category index
	// (or Other) when a category label is tapped.
	OnTappedCategory func(category int)
	// Format formats axis ticks and tooltip values; nil means Compact.
	Format Formatter
	// Unit follows values in tooltips, as in "12.4k sessions".
	Unit string
	// TopN, if positive, keeps the TopN categories with the largest totals
	// (largest first) and merges the rest into one "Other" row.
	TopN int
	// RowHeight, if positive, makes the minimum height grow with the rows
	// (RowHeight each), so that in a container.Scroll hundreds of categories
	// scroll instead of thinning out.
	RowHeight float32
	// SeriesColor, if set, colours series i; the default is DirectionColor
	// for direction names and Palette(i) otherwise.
	SeriesColor func(i int, name string) color.Color

	series []string
	rows   []barRow
	segs   []barSeg // geometry of the last layout, for hit tests
	labels []barSeg // label boxes of the last layout (series is -1)
	hover  [2]int   // hovered row and series, or -1
}

type barRow struct {
	label  string
	index  int // caller's category index, or Other
	values []float64
	total  float64
}

// barSeg is the box of one drawn segment or label.
type barSeg struct {
	row, series int
	pos         fyne.Position
	size        fyne.Size
}

func (b barSeg) contains(p fyne.Position) bool {
	return p.X >= b.pos.X && p.X < b.pos.X+b.size.Width && p.Y >= b.pos.Y && p.Y < b.pos.Y+b.size.Height
}

func (b barSeg) centre() fyne.Position {
	return fyne.NewPos(b.pos.X+b.size.Width/2, b.pos.Y+b.size.Height/2)
}

var (
	_ fyne.Tappable     = (*StackedBars)(nil)
	_ desktop.Hoverable = (*StackedBars)(nil)
)

// NewStackedBars returns an empty chart; it shows "No data" until SetData.
func NewStackedBars() *StackedBars {
	c := &StackedBars{hover: [2]int{-1, -1}}
	c.ExtendBaseWidget(c)
	return c
}

// SetData replaces the data and refreshes the chart: values[c][s] is the value
// of series s in category c. Missing values count as 0, and so do negative
// and NaN values. Bars keep the caller's order unless TopN applies. The
// slices are copied.
func (c *StackedBars) SetData(categories, series []string, values [][]float64) {
	c.series = make([]string, len(series)) // labels may quote logs
	for i, name := range series {
		c.series[i] = printable.Field(name)
	}
	rows := make([]barRow, len(categories))
	for i, name := range categories {
		r := barRow{label: printable.Field(name), index: i, values: make([]float64, len(series))}
		if i < len(values) {
			for s := range r.values {
				if s < len(values[i]) {
					r.values[s] = clean(values[i][s])
				}
			}
		}
		r.total = sum(r.values)
		rows[i] = r
	}
	if c.TopN > 0 && len(rows) > c.TopN {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].total > rows[j].total })
		other := barRow{label: OtherLabel, index: Other, values: make([]float64, len(series))}
		for _, r := range rows[c.TopN:] {
			for s, v := range r.values {
				other.values[s] += v
			}
		}
		other.total = sum(other.values)
		rows = append(rows[:c.TopN:c.TopN], other)
	}
	c.rows = rows
	c.hover = [2]int{-1, -1}
	c.Refresh()
}

// RowTotal returns the label and total of the i-th bar as drawn, and false
// past the last.
func (c *StackedBars) RowTotal(i int) (string, float64, bool) {
	if i < 0 || i >= len(c.rows) {
		return "", 0, false
	}
	return c.rows[i].label, c.rows[i].total, true
}

func (c *StackedBars) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return Compact(v)
}

func (c *StackedBars) color(s int) color.Color {
	if c.SeriesColor != nil {
		return c.SeriesColor(s, c.series[s])
	}
	if col := DirectionColor(c.series[s]); col != otherColor {
		return col
	}
	return Palette(s)
}

// CreateRenderer implements fyne.Widget.
func (c *StackedBars) CreateRenderer() fyne.WidgetRenderer {
	r := newRenderer(fyne.NewSize(160, 80), c.build)
	r.min = c.minSize
	return r
}

func (c *StackedBars) minSize() fyne.Size {
	min := fyne.NewSize(160, 80)
	if c.RowHeight > 0 && len(c.rows) > 0 {
		z := themeSizes(c)
		chrome := 2*lineHeight(z.caption) + 3*z.pad + 4 // legend and axis
		min.Height = fyne.Max(min.Height, chrome+float32(len(c.rows))*c.RowHeight)
	}
	return min
}

func (c *StackedBars) build(s *scene, size fyne.Size) {
	c.segs, c.labels = c.segs[:0], c.labels[:0]
	if size.Width < 1 || size.Height < 1 {
		return
	}
	col, z := themeColors(c), themeSizes(c)
	if len(c.rows) == 0 {
		s.noData(size, col, z)
		return
	}
	labelW := float32(0)
	for _, r := range c.rows {
		labelW = fyne.Max(labelW, textWidth(r.label, z.caption))
	}
	labelW = fyne.Min(labelW, size.Width*0.3)
	left := snap(labelW + z.pad*2)

	top := c.buildLegend(s, left, size, col, z)
	lh := lineHeight(z.caption)
	bottom := snap(size.Height - lh - z.pad/2 - 2) // the axis labels go below bottom

	if bottom-top < 4 || size.Width-left < 20 {
		return // too small for a plot
	}
	peak := 0.0
	for _, r := range c.rows {
		peak = math.Max(peak, r.total)
	}
	// The last tick label is centred on the right edge: reserve half of it.
	ticks := niceTicks(peak, int(fyne.Max(1, (size.Width-left)/64)))
	right := size.Width - textWidth(c.format(ticks[len(ticks)-1]), z.caption)/2 - 1
	ticks = niceTicks(peak, int(fyne.Max(1, (right-left)/64)))
	scale := (right - left) / float32(ticks[len(ticks)-1])

	for _, t := range ticks {
		x := left + float32(t)*scale
		s.line(col.grid, 1, fyne.NewPos(x, top), fyne.NewPos(x, bottom))
		label := c.format(t)
		w := textWidth(label, z.caption) + 2
		s.text(label, col.muted, z.caption, fyne.NewPos(x-w/2, bottom+z.pad/2), w, fyne.TextAlignCenter)
	}
	c.buildRows(s, rowGeom{top: top, bottom: bottom, left: left, labelW: labelW, scale: scale, right: right}, col, z)
	if c.hover[0] >= 0 {
		for _, g := range c.segs {
			if g.row == c.hover[0] && g.series == c.hover[1] {
				r := c.rows[g.row]
				text := r.label + " · " + c.series[g.series] + ": " + c.format(r.values[g.series])
				if c.Unit != "" {
					text += " " + c.Unit
				}
				s.tooltip(text, fyne.NewPos(g.centre().X, g.pos.Y), size, col, z)
			}
		}
	}
}

type rowGeom struct {
	top, bottom, left, labelW, scale, right float32
}

func (c *StackedBars) buildRows(s *scene, g rowGeom, col colors, z sizes) {
	lh := lineHeight(z.caption)
	rowH := (g.bottom - g.top) / float32(len(c.rows))
	barH := fyne.Min(rowH*0.7, 28)
	every := int(math.Ceil(float64(lh / rowH))) // label every n-th row when rows are thin
	for i, r := range c.rows {
		y := g.top + float32(i)*rowH
		if i%every == 0 {
			text := ellipsis(r.label, z.caption, g.labelW)
			ly := y + (rowH-lh)/2
			s.text(text, col.fg, z.caption, fyne.NewPos(z.pad, ly), g.labelW, fyne.TextAlignTrailing)
		}
		c.labels = append(c.labels, barSeg{row: i, series: -1, pos: fyne.NewPos(0, y), size: fyne.NewSize(g.labelW+z.pad*2, rowH)})
		x, end := g.left, g.left
		by := snap(y + (rowH-barH)/2)
		bh := fyne.Max(1, snap(by+barH)-by)
		for si, v := range r.values {
			// Whole pixels keep edges crisp; rounding the running end keeps
			// segments abutting and the bar as long as its total. A tiny
			// value still shows as a 1 px sliver that can be hovered.
			end += float32(v) * g.scale
			if v <= 0 {
				continue
			}
			w := fyne.Max(1, snap(end)-x)
			rect := s.rect(c.color(si), fyne.NewPos(x, by), fyne.NewSize(w, bh))
			if c.hover == [2]int{i, si} {
				rect.StrokeColor, rect.StrokeWidth = col.fg, 1.5
			}
			c.segs = append(c.segs, barSeg{row: i, series: si, pos: rect.Position(), size: rect.Size()})
			x += w
		}
		if rowH >= lh && r.total > 0 {
			label := c.format(r.total)
			if w := textWidth(label, z.caption) + 2; x+z.pad+w <= g.right {
				s.text(label, col.muted, z.caption, fyne.NewPos(x+z.pad, y+(rowH-lh)/2), w, fyne.TextAlignLeading)
			}
		}
	}
	s.line(col.muted, 1, fyne.NewPos(g.left, g.top), fyne.NewPos(g.left, g.bottom))
}

// buildLegend draws the legend above the plot, aligned with the bars when
// it fits there, and returns the y where the plot starts.
func (c *StackedBars) buildLegend(s *scene, left float32, size fyne.Size, col colors, z sizes) float32 {
	need := float32(0)
	for _, name := range c.series {
		need += textWidth(name, z.caption) + lineHeight(z.caption) + z.pad*4
	}
	if need > size.Width-left {
		left = 0
	}
	return legendRow(s, c.series, c.color, left, size.Width, col, z)
}

// legendRow draws a wrapping row of swatch + name items from (x0, 0) and
// returns the y below it.
func legendRow(s *scene, names []string, colorOf func(int) color.Color, x0, width float32, col colors, z sizes) float32 {
	if len(names) == 0 {
		return 0
	}
	lh := lineHeight(z.caption)
	sw := lh * 0.6
	x, y := x0, float32(0)
	for i, name := range names {
		w := sw + z.pad + textWidth(name, z.caption) + 2
		if x > x0 && x+w > width {
			x, y = x0, y+lh+z.pad/2
		}
		s.rect(colorOf(i), fyne.NewPos(x, y+(lh-sw)/2), fyne.NewSquareSize(sw)).CornerRadius = 2
		s.text(ellipsis(name, z.caption, width-sw-z.pad), col.fg, z.caption, fyne.NewPos(x+sw+z.pad, y), w-sw-z.pad, fyne.TextAlignLeading)
		x += w + z.pad*3
	}
	return y + lh + z.pad*2
}

func (c *StackedBars) hit(p fyne.Position) (seg barSeg, label bool, ok bool) {
	for _, g := range c.segs {
		if g.contains(p) {
			return g, false, true
		}
	}
	for _, g := range c.labels {
		if g.contains(p) {
			return g, true, true
		}
	}
	return barSeg{}, false, false
}

// Tapped implements fyne.Tappable.
func (c *StackedBars) Tapped(ev *fyne.PointEvent) {
	g, label, ok := c.hit(ev.Position)
	switch {
	case !ok:
	case label && c.OnTappedCategory != nil:
		c.OnTappedCategory(c.rows[g.row].index)
	case !label && c.OnTapped != nil:
		c.OnTapped(c.rows[g.row].index, g.series)
	}
}

// MouseIn implements desktop.Hoverable.
func (c *StackedBars) MouseIn(ev *desktop.MouseEvent) { c.MouseMoved(ev) }

// MouseMoved implements desktop.Hoverable.
func (c *StackedBars) MouseMoved(ev *desktop.MouseEvent) {
	h := [2]int{-1, -1}
	if g, label, ok := c.hit(ev.Position); ok && !label {
		h = [2]int{g.row, g.series}
	}
	if h != c.hover {
		c.hover = h
		c.Refresh()
	}
}

// MouseOut implements desktop.Hoverable.
func (c *StackedBars) MouseOut() {
	if c.hover[0] >= 0 {
		c.hover = [2]int{-1, -1}
		c.Refresh()
	}
}

// SegmentCentre returns the centre of the segment drawn for the caller's
// category and series at the last layout, in the widget's coordinates, and
// whether it was drawn (a category merged into Other or a zero value is
// not): for tests and automation that click a bar.
func (c *StackedBars) SegmentCentre(category, series int) (fyne.Position, bool) {
	for _, g := range c.segs {
		if g.row >= 0 && g.row < len(c.rows) && c.rows[g.row].index == category && g.series == series {
			return g.centre(), true
		}
	}
	return fyne.Position{}, false
}
