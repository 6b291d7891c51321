package chart

import (
	"image/color"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// TimeBars is a time series drawn as one bar per bucket (an hour, a day),
// with date/time labels below that never overlap, value ticks on the left and
// an optional overlay line on the same scale. Hovering a bucket shows its time
// and value; tapping it calls OnTapped.
type TimeBars struct {
	widget.BaseWidget

	// OnTapped is called with the index of the tapped bucket; Bucket gives
	// its time range.
	OnTapped func(i int)
	// Format formats value ticks and tooltip values; nil means Compact.
	Format Formatter
	// Unit follows values in tooltips, as in "1.2k sessions".
	Unit string
	// Color fills the bars; nil means Palette(0).
	Color color.Color
	// OverlayColor draws the overlay line; nil means Palette(1).
	OverlayColor color.Color
	// OverlayName names the overlay values in tooltips.
	OverlayName string

	start   time.Time
	step    time.Duration
	values  []float64
	overlay []float64

	cols  []barSeg // hit box of each bucket (the full plot height); row is the index
	tops  []float32
	hover int
}

var (
	_ fyne.Tappable     = (*TimeBars)(nil)
	_ desktop.Hoverable = (*TimeBars)(nil)
)

// NewTimeBars returns an empty chart; it shows "No data" until SetData.
func NewTimeBars() *TimeBars {
	c := &TimeBars{hover: -1}
	c.ExtendBaseWidget(c)
	return c
}

// SetData replaces the series and refreshes the chart: values[i] is the value
// of the bucket that starts at start + i×step; a step ≤ 0 means one hour.
// Labels use start's location. Negative and NaN values count as 0. The overlay
// is kept when it has as many values, and dropped otherwise.
func (c *TimeBars) SetData(start time.Time, step time.Duration, values []float64) {
	if step <= 0 {
		step = time.Hour
	}
	c.start, c.step = start, step
	c.values = make([]float64, len(values))
	for i, v := range values {
		c.values[i] = clean(v)
	}
	if len(c.overlay) != len(values) {
		c.overlay = nil
	}
	c.hover = -1
	c.Refresh()
}

// SetOverlay draws values as a line over the bars, one point per bucket; nil
// removes it. NaN values leave gaps.
func (c *TimeBars) SetOverlay(values []float64) {
	c.overlay = append([]float64(nil), values...)
	c.Refresh()
}

// Values returns a copy of the buckets' values, in time order.
func (c *TimeBars) Values() []float64 { return append([]float64(nil), c.values...) }

// Bucket returns the time range [from, to) of bucket i.
func (c *TimeBars) Bucket(i int) (from, to time.Time) {
	from = c.start.Add(time.Duration(i) * c.step)
	return from, from.Add(c.step)
}

func (c *TimeBars) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return Compact(v)
}

// CreateRenderer implements fyne.Widget.
func (c *TimeBars) CreateRenderer() fyne.WidgetRenderer {
	return newRenderer(fyne.NewSize(160, 80), c.build)
}

func (c *TimeBars) build(s *scene, size fyne.Size) {
	c.cols, c.tops = c.cols[:0], c.tops[:0]
	if size.Width < 1 || size.Height < 1 {
		return
	}
	col, z := themeColors(c), themeSizes(c)
	if len(c.values) == 0 {
		s.noData(size, col, z)
		return
	}
	lh := lineHeight(z.caption)
	top, bottom := snap(lh/2+2), snap(size.Height-lh-z.pad/2-2)
	if bottom-top < 4 {
		return // too small for a plot
	}
	peak := 0.0
	for i, v := range c.values {
		peak = math.Max(peak, v)
		if i < len(c.overlay) {
			peak = math.Max(peak, clean(c.overlay[i]))
		}
	}
	ticks := niceTicks(peak, int(fyne.Max(1, (bottom-top)/40)))
	left := c.buildValueAxis(s, ticks, top, bottom, size.Width, col, z)
	scale := (bottom - top) / float32(ticks[len(ticks)-1])
	pitch := (size.Width - left) / float32(len(c.values))
	if pitch <= 0 {
		return
	}
	c.buildBars(s, left, pitch, top, bottom, scale, col)
	s.line(col.muted, 1, fyne.NewPos(left, bottom), fyne.NewPos(size.Width, bottom))
	c.buildOverlay(s, left, pitch, top, bottom, scale)
	c.buildTimeLabels(s, left, pitch, bottom+z.pad/2, size.Width, col, z)
	if c.hover >= 0 {
		g := c.cols[c.hover]
		s.tooltip(c.tooltipText(c.hover), fyne.NewPos(g.centre().X, c.tops[c.hover]), size, col, z)
	}
}

// buildValueAxis draws the value ticks and grid lines and returns the x
// where the plot starts.
func (c *TimeBars) buildValueAxis(s *scene, ticks []float64, top, bottom, width float32, col colors, z sizes) float32 {
	lh := lineHeight(z.caption)
	left := float32(0)
	for _, t := range ticks {
		left = fyne.Max(left, textWidth(c.format(t), z.caption)+2)
	}
	for i, t := range ticks {
		y := bottom - (bottom-top)*float32(i)/float32(len(ticks)-1)
		s.line(col.grid, 1, fyne.NewPos(left+z.pad, y), fyne.NewPos(width, y))
		s.text(c.format(t), col.muted, z.caption, fyne.NewPos(0, y-lh/2), left, fyne.TextAlignTrailing)
	}
	return left + z.pad*2
}

// buildBars draws one bar per bucket and records the hit boxes.
func (c *TimeBars) buildBars(s *scene, left, pitch, top, bottom, scale float32, col colors) {
	gap := float32(0)
	if pitch >= 4 {
		gap = max(1, pitch*0.2, pitch-48) // a few buckets: keep bars at most 48 wide
	}
	fill := c.Color
	if fill == nil {
		fill = Palette(0)
	}
	for i, v := range c.values {
		x := left + float32(i)*pitch
		if i == c.hover {
			s.rect(col.grid, fyne.NewPos(x, top), fyne.NewSize(pitch, bottom-top))
		}
		h := bottom - snap(bottom-float32(v)*scale)
		if h > 0 {
			x0, x1 := x+gap/2, x+pitch-gap/2
			if pitch >= 3 { // whole pixels keep bars crisp and evenly spaced
				x0, x1 = snap(x0), snap(x1)
			}
			s.rect(fill, fyne.NewPos(x0, bottom-h), fyne.NewSize(x1-x0, h))
		}
		c.cols = append(c.cols, barSeg{row: i, pos: fyne.NewPos(x, top), size: fyne.NewSize(pitch, bottom-top)})
		c.tops = append(c.tops, bottom-h)
	}
}

func (c *TimeBars) buildOverlay(s *scene, left, pitch, top, bottom, scale float32) {
	if len(c.overlay) == 0 {
		return
	}
	stroke := c.OverlayColor
	if stroke == nil {
		stroke = Palette(1)
	}
	const pad = 3 // room for the stroke at the plot's edges
	pts := make([]fyne.Position, len(c.overlay))
	for i, v := range c.overlay {
		y := float32(math.NaN())
		if !math.IsNaN(v) {
			y = bottom - float32(clean(v))*scale - top + pad
		}
		pts[i] = fyne.NewPos((float32(i)+0.5)*pitch+pad, y)
	}
	size := fyne.NewSize(pitch*float32(len(c.overlay))+2*pad, bottom-top+2*pad)
	s.raster(polyline{pts: pts, stroke: stroke, width: 2}, fyne.NewPos(left-pad, top-pad), size)
}

func (c *TimeBars) tooltipText(i int) string {
	from, to := c.Bucket(i)
	var when string
	switch {
	case c.step%day == 0 && c.step > day:
		when = from.Format("Mon Jan 2") + " – " + to.Add(-time.Nanosecond).Format("Mon Jan 2 2006")
	case c.step%day == 0:
		when = from.Format("Mon Jan 2 2006")
	default:
		when = from.Format("Mon Jan 2 15:04") + "–" + to.Format("15:04")
	}
	text := when + " · " + c.format(c.values[i])
	if c.Unit != "" {
		text += " " + c.Unit
	}
	if i < len(c.overlay) && !math.IsNaN(c.overlay[i]) && c.OverlayName != "" {
		text += " · " + c.OverlayName + " " + c.format(c.overlay[i])
	}
	return text
}

const day = 24 * time.Hour

// labelSteps are the label intervals TimeBars tries, shortest first. From 28
// days on they stand for 1, 2, 3, 6 and 12 months (their shortest length).
var labelSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	day, 2 * day, 7 * day, 14 * day, 28 * day, 59 * day, 89 * day, 181 * day, 365 * day,
}

// labelEvery returns the label interval: the shortest interval from
// labelSteps whose labels, width w each, fit pitch apart, provided it is a
// multiple of the bucket step; else the smallest multiple of step that fits.
func labelEvery(step time.Duration, pitch, w float32) time.Duration {
	for _, d := range labelSteps {
		if d < step || float32(d)/float32(step)*pitch < w {
			continue
		}
		if d%step == 0 {
			return d
		}
		break
	}
	n := int64(math.Ceil(float64(w / pitch)))
	return time.Duration(n) * step
}

// months returns how many months a label interval of 28 days or more stands
// for, or 0.
func months(every time.Duration) int {
	switch {
	case every >= 365*day:
		return 12
	case every >= 181*day:
		return 6
	case every >= 89*day:
		return 3
	case every >= 59*day:
		return 2
	case every >= 28*day:
		return 1
	}
	return 0
}

// aligned reports whether t sits on a round multiple of every in its own
// location: whole hours of the day, midnights, Mondays for weeks, the first
// of a month for months.
func aligned(t time.Time, every time.Duration) bool {
	if every < day {
		sinceMidnight := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
		return t.Nanosecond() == 0 && sinceMidnight%every == 0
	}
	if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 {
		return false
	}
	if m := months(every); m > 0 {
		return t.Day() == 1 && (int(t.Month())-1)%m == 0
	}
	y, m, d := t.Date()
	civil := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400 // days since 1970-01-01, a Thursday
	days := int64(every / day)
	if days%7 == 0 {
		civil += 3 // count from a Monday
	}
	return civil%days == 0
}

func (c *TimeBars) buildTimeLabels(s *scene, left, pitch, y, right float32, col colors, z sizes) {
	daily := c.step%day == 0
	w := textWidth("Sep 30", z.caption)
	if !daily {
		w = fyne.Max(w, textWidth("00:00", z.caption))
	}
	every := labelEvery(c.step, pitch, w+z.pad*3)
	if months(every) > 0 {
		every = labelEvery(c.step, pitch, textWidth("Sep 2026", z.caption)+z.pad*3)
	}
	if daily {
		every = max(every, day)
	}
	n := int(every / c.step)
	var idx []int
	for i := range c.values {
		if t, _ := c.Bucket(i); aligned(t, every) {
			idx = append(idx, i)
		}
	}
	if 2*len(idx)*n < len(c.values) || !evenlySpaced(idx, n) {
		// Buckets off the round times (a week from a Wednesday, hours from
		// 13:37): every n-th bucket, labelled with its date or time.
		idx = idx[:0]
		for i := 0; i < len(c.values); i += n {
			idx = append(idx, i)
		}
		every = min(every, day)
	}
	for _, i := range idx {
		t, _ := c.Bucket(i)
		label := timeLabel(t, every, daily)
		lw := textWidth(label, z.caption) + 2
		x := clamp(left+(float32(i)+0.5)*pitch-lw/2, 0, right-lw)
		s.text(label, col.muted, z.caption, fyne.NewPos(x, y), lw, fyne.TextAlignCenter)
	}
}

// timeLabel is the axis label of a bucket starting at t: the time of day,
// the date at midnight and for daily buckets, the month (and the year in
// January) when labels are months apart.
func timeLabel(t time.Time, every time.Duration, daily bool) string {
	switch {
	case months(every) > 0 && t.Month() == time.January:
		return t.Format("Jan 2006")
	case months(every) > 0:
		return t.Format("Jan")
	case daily || every >= day || (t.Hour() == 0 && t.Minute() == 0):
		return t.Format("Jan 2")
	}
	return t.Format("15:04")
}

// evenlySpaced reports whether consecutive indices are at least n apart, so
// the aligned labels (which a DST change or a gap can bunch) cannot overlap.
func evenlySpaced(idx []int, n int) bool {
	for k := 1; k < len(idx); k++ {
		if idx[k]-idx[k-1] < n {
			return false
		}
	}
	return true
}

func (c *TimeBars) hit(p fyne.Position) int {
	for _, g := range c.cols {
		if g.contains(p) {
			return g.row
		}
	}
	return -1
}

// Tapped implements fyne.Tappable.
func (c *TimeBars) Tapped(ev *fyne.PointEvent) {
	if i := c.hit(ev.Position); i >= 0 && c.OnTapped != nil {
		c.OnTapped(i)
	}
}

// MouseIn implements desktop.Hoverable.
func (c *TimeBars) MouseIn(ev *desktop.MouseEvent) { c.MouseMoved(ev) }

// MouseMoved implements desktop.Hoverable.
func (c *TimeBars) MouseMoved(ev *desktop.MouseEvent) {
	if i := c.hit(ev.Position); i != c.hover {
		c.hover = i
		c.Refresh()
	}
}

// MouseOut implements desktop.Hoverable.
func (c *TimeBars) MouseOut() {
	if c.hover >= 0 {
		c.hover = -1
		c.Refresh()
	}
}
