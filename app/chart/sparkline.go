package chart

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// DefaultCapacity is the number of values a Sparkline keeps when its
// Capacity is 0: two minutes at one value per second.
const DefaultCapacity = 120

// Sparkline is a compact live line of the last values of a rate, such as
// messages per second over the last two minutes, headed by the current value
// and the maximum. New values enter on the right. It is cheap to refresh at
// 2–10 Hz: one text pair and one raster.
type Sparkline struct {
	widget.BaseWidget

	// Format formats the current and maximum values; nil means Compact.
	Format Formatter
	// Unit follows the current value, as in "1.2k msg/s".
	Unit string
	// Color draws the line (and, faded, the area below); nil means Palette(0).
	Color color.Color
	// Capacity is the number of values kept and the width of the window in
	// values; 0 means DefaultCapacity.
	Capacity int

	values []float64
}

// NewSparkline returns an empty sparkline; it shows "No data" until values
// arrive.
func NewSparkline() *Sparkline {
	s := &Sparkline{}
	s.ExtendBaseWidget(s)
	return s
}

func (l *Sparkline) capacity() int {
	if l.Capacity > 0 {
		return l.Capacity
	}
	return DefaultCapacity
}

// SetValues replaces the values (oldest first), keeps the last Capacity of
// them and refreshes. Negative and NaN values count as 0.
func (l *Sparkline) SetValues(values []float64) {
	if n := l.capacity(); len(values) > n {
		values = values[len(values)-n:]
	}
	l.values = l.values[:0]
	for _, v := range values {
		l.values = append(l.values, clean(v))
	}
	l.Refresh()
}

// Push appends one value, drops the oldest beyond Capacity and refreshes.
func (l *Sparkline) Push(v float64) {
	if n := l.capacity(); len(l.values) >= n {
		copy(l.values, l.values[len(l.values)-n+1:])
		l.values = l.values[:n-1]
	}
	l.values = append(l.values, clean(v))
	l.Refresh()
}

// Values returns a copy of the values kept, oldest first.
func (l *Sparkline) Values() []float64 {
	return append([]float64(nil), l.values...)
}

func (l *Sparkline) format(v float64) string {
	if l.Format != nil {
		return l.Format(v)
	}
	return Compact(v)
}

// CreateRenderer implements fyne.Widget.
func (l *Sparkline) CreateRenderer() fyne.WidgetRenderer {
	return newRenderer(fyne.NewSize(120, 48), l.build)
}

func (l *Sparkline) build(s *scene, size fyne.Size) {
	if size.Width < 1 || size.Height < 1 {
		return
	}
	col, z := themeColors(l), themeSizes(l)
	if len(l.values) == 0 {
		s.noData(size, col, z)
		return
	}
	peak := 0.0
	for _, v := range l.values {
		peak = math.Max(peak, v)
	}
	current := l.format(l.values[len(l.values)-1])
	if l.Unit != "" {
		current += " " + l.Unit
	}
	th := lineHeight(z.text)
	maxText := "max " + l.format(peak)
	mw := textWidth(maxText, z.caption) + 2
	t := s.text(current, col.fg, z.text, fyne.NewPos(0, 0), size.Width-mw-2-z.pad, fyne.TextAlignLeading)
	t.TextStyle.Bold = true
	t.Text = ellipsis(current, z.text, size.Width-mw-2-z.pad)
	s.text(maxText, col.muted, z.caption, fyne.NewPos(size.Width-mw-2, (th-lineHeight(z.caption))/2), mw, fyne.TextAlignTrailing)

	const pad = 2 // room for the stroke at the top and ends
	top, bottom := snap(th+z.pad), size.Height-1
	if bottom-top < 4 {
		return
	}
	s.line(col.grid, 1, fyne.NewPos(0, bottom), fyne.NewPos(size.Width, bottom))
	if peak <= 0 {
		peak = 1 // all zero: a flat line on the baseline
	}
	scale := (bottom - top - pad) / float32(peak*1.05) // no axis: use the height
	n := l.capacity()
	dx := (size.Width - 2*pad) / float32(max(1, n-1))
	first := n - len(l.values) // slots still empty on the left
	pts := make([]fyne.Position, len(l.values))
	for i, v := range l.values {
		pts[i] = fyne.NewPos(pad+float32(first+i)*dx, bottom-top-float32(v)*scale)
	}
	stroke := l.Color
	if stroke == nil {
		stroke = Palette(0)
	}
	s.raster(polyline{pts: pts, stroke: stroke, width: 1.5, fill: fadeColor(stroke, 0.18)}, fyne.NewPos(0, top), fyne.NewSize(size.Width, bottom-top))
}
