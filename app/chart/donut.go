package chart

import (
	"image/color"
	"math"
	"sort"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// DefaultTopN is the number of slices a Donut shows before it merges the rest
// into "Other".
const DefaultTopN = 8

// Donut is a ring chart of labelled values with a legend of values and
// percentages beside it and the total in the middle. Slices run clockwise
// from the top, largest first. Hovering a slice or its legend row highlights
// it and shows a tooltip; tapping it calls OnTapped.
type Donut struct {
	widget.BaseWidget

	// OnTapped is called with the caller's index of the tapped slice (or
	// legend row), or Other for the merged slice.
	OnTapped func(slice int)
	// Format formats values; nil means Compact.
	Format Formatter
	// Unit follows values in the tooltip and under the total.
	Unit string
	// TopN is the number of slices shown before the rest are merged into
	// "Other"; 0 means DefaultTopN, a negative value means no limit.
	TopN int
	// SliceColor, if set, colours a slice by the caller's index (Other for
	// the merged slice); the default is Palette of the rank.
	SliceColor func(index int, label string) color.Color

	slices []slice
	total  float64
	hover  int           // hovered position in slices, or -1
	mouse  fyne.Position // last pointer position, where the tooltip goes

	// geometry of the last layout, for hit tests
	centre        fyne.Position
	inner, outer  float32
	legend        []barSeg // legend row boxes; row is the position in slices
	ringHighlight float32  // how far the hovered slice grows
}

type slice struct {
	label      string
	index      int
	value      float64
	start, end float32 // degrees clockwise from the top
}

var (
	_ fyne.Tappable     = (*Donut)(nil)
	_ desktop.Hoverable = (*Donut)(nil)
)

// NewDonut returns an empty donut; it shows "No data" until SetData.
func NewDonut() *Donut {
	d := &Donut{hover: -1}
	d.ExtendBaseWidget(d)
	return d
}

// SetData replaces the slices and refreshes the chart. values[i] belongs to
// labels[i]; missing, negative and NaN values count as 0. Slices are ordered
// largest first; beyond TopN they merge into "Other".
func (d *Donut) SetData(labels []string, values []float64) { d.SetDataTotal(labels, values, 0) }

// SetDataTotal is SetData for labelled values that are the top of a larger
// whole: the part of total that they leave becomes "Other" (with the slices
// beyond TopN), so that the ring, the percentages and the figure in the
// middle are of total. A total below the values' sum is ignored.
func (d *Donut) SetDataTotal(labels []string, values []float64, total float64) {
	sl := make([]slice, len(labels))
	for i, l := range labels {
		sl[i] = slice{label: printable.Field(l), index: i} // labels may quote logs
		if i < len(values) {
			sl[i].value = clean(values[i])
		}
	}
	sort.SliceStable(sl, func(i, j int) bool { return sl[i].value > sl[j].value })
	n := d.TopN
	if n == 0 {
		n = DefaultTopN
	}
	rest := clean(total)
	for _, s := range sl {
		rest -= s.value
	}
	if n > 0 && len(sl) > n || rest > 0 {
		other := slice{label: OtherLabel, index: Other, value: max(rest, 0)}
		if n > 0 && len(sl) > n {
			for _, s := range sl[n:] {
				other.value += s.value
			}
			sl = sl[:n:n]
		}
		sl = append(sl, other)
	}
	d.total = 0
	for _, s := range sl {
		d.total += s.value
	}
	angle := float32(0)
	for i := range sl {
		sl[i].start = angle
		if d.total > 0 {
			angle += float32(sl[i].value / d.total * 360)
		}
		sl[i].end = angle
	}
	d.slices = sl
	d.hover = -1
	d.Refresh()
}

// Total returns the sum of the slices: the figure in the middle.
func (d *Donut) Total() float64 { return d.total }

// Slice returns the label and value of the i-th slice as drawn (largest
// first, "Other" last), and false past the last.
func (d *Donut) Slice(i int) (string, float64, bool) {
	if i < 0 || i >= len(d.slices) {
		return "", 0, false
	}
	return d.slices[i].label, d.slices[i].value, true
}

func (d *Donut) format(v float64) string {
	if d.Format != nil {
		return d.Format(v)
	}
	return Compact(v)
}

func (d *Donut) color(i int) color.Color {
	s := d.slices[i]
	if d.SliceColor != nil {
		return d.SliceColor(s.index, s.label)
	}
	if s.index == Other {
		return otherColor
	}
	return Palette(i)
}

func (d *Donut) percent(v float64) string {
	if d.total <= 0 || v <= 0 {
		return "0%"
	}
	p := v / d.total * 100
	if p > 0 && p < 0.1 {
		return "<0.1%"
	}
	if p < 10 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// CreateRenderer implements fyne.Widget.
func (d *Donut) CreateRenderer() fyne.WidgetRenderer {
	return newRenderer(fyne.NewSize(200, 100), d.build)
}

func (d *Donut) build(s *scene, size fyne.Size) {
	d.legend, d.outer = d.legend[:0], 0
	if size.Width < 1 || size.Height < 1 {
		return
	}
	col, z := themeColors(d), themeSizes(d)
	if len(d.slices) == 0 || d.total <= 0 {
		s.noData(size, col, z)
		return
	}
	diam := fyne.Min(size.Height, size.Width*0.36)
	d.ringHighlight = fyne.Max(2, diam/40)
	d.outer = diam/2 - d.ringHighlight
	d.inner = d.outer * 0.6
	d.centre = fyne.NewPos(diam/2, size.Height/2)
	if d.outer < 4 {
		d.outer = 0 // too small for a ring: no hits either
		return
	}
	for i, sl := range d.slices {
		if sl.end <= sl.start {
			continue
		}
		c, r := d.color(i), d.outer
		if d.hover >= 0 && d.hover != i {
			c = fadeColor(c, 0.45)
		}
		if d.hover == i {
			r += d.ringHighlight
		}
		a := s.arc(c, sl.start, sl.end, d.inner/r, d.centre, r)
		if len(d.slices) > 1 {
			a.StrokeColor, a.StrokeWidth = col.bg, 1
		}
	}
	d.buildCentre(s, col, z)
	legendW := fyne.Min(size.Width-diam-z.pad*3, 300) // keep values near their labels
	d.buildLegend(s, fyne.NewPos(diam+z.pad*3, 0), fyne.NewSize(legendW, size.Height), col, z)
	if d.hover >= 0 {
		sl := d.slices[d.hover]
		text := sl.label + ": " + d.format(sl.value)
		if d.Unit != "" {
			text += " " + d.Unit
		}
		text += " (" + d.percent(sl.value) + ")"
		s.tooltipSide(text, d.mouse.AddXY(6, 8), 1, 1, size, col, z) // below right of the pointer
	}
}

// buildCentre writes the total (or the hovered share) in the hole.
func (d *Donut) buildCentre(s *scene, col colors, z sizes) {
	w := d.inner * 1.6
	if w < 30 {
		return
	}
	big := d.format(d.total)
	small := d.Unit
	if d.hover >= 0 {
		big, small = d.percent(d.slices[d.hover].value), ellipsis(d.slices[d.hover].label, z.caption, w)
	}
	lt, lc := lineHeight(z.text), lineHeight(z.caption)
	h := lt
	if small != "" {
		h += lc
	}
	y := d.centre.Y - h/2
	t := s.text(big, col.fg, z.text, fyne.NewPos(d.centre.X-w/2, y), w, fyne.TextAlignCenter)
	t.TextStyle.Bold = true
	if small != "" {
		s.text(small, col.muted, z.caption, fyne.NewPos(d.centre.X-w/2, y+lt), w, fyne.TextAlignCenter)
	}
}

// buildLegend draws one row per slice: swatch, label, value, percentage. Rows
// that do not fit are left out, and the last shown row says how many.
func (d *Donut) buildLegend(s *scene, pos fyne.Position, size fyne.Size, col colors, z sizes) {
	lh := lineHeight(z.caption)
	rowH := lh + z.pad
	n := len(d.slices)
	fit := int(size.Height / rowH)
	if fit < n {
		n = fit
	}
	if n <= 0 || size.Width < 40 {
		return
	}
	pctW := textWidth("100%", z.caption) + 2
	valW := float32(0)
	for _, sl := range d.slices {
		valW = fyne.Max(valW, textWidth(d.format(sl.value), z.caption)+2)
	}
	sw := lh * 0.6
	labelW := size.Width - sw - pctW - valW - z.pad*4
	y := pos.Y + (size.Height-float32(n)*rowH)/2
	for i := 0; i < n; i++ {
		sl := d.slices[i]
		label, fg := sl.label, col.fg
		if d.hover >= 0 && d.hover != i {
			fg = col.muted
		}
		if i == n-1 && n < len(d.slices) {
			s.text("+"+strconv.Itoa(len(d.slices)-i)+" more", col.muted, z.caption, fyne.NewPos(pos.X, y+z.pad/2), size.Width, fyne.TextAlignLeading)
			break
		}
		x := pos.X
		s.rect(d.color(i), fyne.NewPos(x, y+z.pad/2+(lh-sw)/2), fyne.NewSquareSize(sw)).CornerRadius = 2
		x += sw + z.pad
		if labelW > 10 {
			s.text(ellipsis(label, z.caption, labelW), fg, z.caption, fyne.NewPos(x, y+z.pad/2), labelW, fyne.TextAlignLeading)
			x += labelW + z.pad
		}
		s.text(d.format(sl.value), fg, z.caption, fyne.NewPos(x, y+z.pad/2), valW, fyne.TextAlignTrailing)
		x += valW + z.pad
		s.text(d.percent(sl.value), col.muted, z.caption, fyne.NewPos(x, y+z.pad/2), pctW, fyne.TextAlignTrailing)
		d.legend = append(d.legend, barSeg{row: i, series: -1, pos: fyne.NewPos(pos.X, y), size: fyne.NewSize(size.Width, rowH)})
		y += rowH
	}
}

// hit returns the position in slices under p, or -1.
func (d *Donut) hit(p fyne.Position) int {
	for _, g := range d.legend {
		if g.contains(p) {
			return g.row
		}
	}
	if d.outer <= 0 {
		return -1
	}
	dx, dy := float64(p.X-d.centre.X), float64(p.Y-d.centre.Y)
	r := math.Hypot(dx, dy)
	if r < float64(d.inner) || r > float64(d.outer+d.ringHighlight) {
		return -1
	}
	angle := float32(math.Atan2(dx, -dy) * 180 / math.Pi)
	if angle < 0 {
		angle += 360
	}
	for i, sl := range d.slices {
		if angle >= sl.start && angle < sl.end {
			return i
		}
	}
	return -1
}

// Tapped implements fyne.Tappable.
func (d *Donut) Tapped(ev *fyne.PointEvent) {
	if i := d.hit(ev.Position); i >= 0 && d.OnTapped != nil {
		d.OnTapped(d.slices[i].index)
	}
}

// MouseIn implements desktop.Hoverable.
func (d *Donut) MouseIn(ev *desktop.MouseEvent) { d.MouseMoved(ev) }

// MouseMoved implements desktop.Hoverable.
func (d *Donut) MouseMoved(ev *desktop.MouseEvent) {
	d.mouse = ev.Position
	if i := d.hit(ev.Position); i != d.hover || i >= 0 {
		d.hover = i // the tooltip follows the pointer
		d.Refresh()
	}
}

// MouseOut implements desktop.Hoverable.
func (d *Donut) MouseOut() {
	if d.hover >= 0 {
		d.hover = -1
		d.Refresh()
	}
}
