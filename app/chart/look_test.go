package chart

import (
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// TestLook renders each chart in light and dark, plain and hovered, and
// checks what was drawn: the bars, slices and tooltips the data asks for,
// ink on the background, and light and dark captures that differ. With
// CHART_PNG=1 the captures go to /tmp/charts for review by eye.
func TestLook(t *testing.T) {
	var caps [][]image.Image
	for _, th := range themes {
		var got []image.Image
		c := NewStackedBars()
		c.Unit = "sessions"
		cv := show(t, th.th, c, fyne.NewSize(520, 300))
		c.SetData(append(tags, "SGTSDNS"), dirs, append(tagVal, []float64{0, 0, 0}))
		for _, g := range c.segs {
			if g.row == len(tags) {
				t.Errorf("%s: the all-zero row drew a segment %+v", th.name, g)
			}
		}
		if n := len(c.segs); n != 11 { // the non-zero values of tagVal
			t.Errorf("%s: %d stacked segments, want 11", th.name, n)
		}
		got = append(got, checkInk(t, th, savePNG(t, cv, "look-stacked-"+th.name), "stacked"))
		test.MoveMouse(cv, seg(t, c, 0, 1).centre())
		checkTooltip(t, c, "3k sessions")
		savePNG(t, cv, "look-stacked-hover-"+th.name)

		d := NewDonut()
		d.Unit = "sessions"
		cv = show(t, th.th, d, fyne.NewSize(420, 220))
		d.SetData([]string{"https/443", "dns/53", "ssh/22", "ldap/389", "a-service-with-a-long-name/8443", "ntp/123", "smb/445", "rdp/3389", "snmp/161", "syslog/514"},
			[]float64{52000, 21000, 9000, 4000, 3000, 1200, 800, 300, 120, 80})
		checkArcs(t, d, []float64{52000, 21000, 9000, 4000, 3000, 1200, 800, 300, 120, 80}, DefaultTopN)
		got = append(got, checkInk(t, th, savePNG(t, cv, "look-donut-"+th.name), "donut"))
		test.MoveMouse(cv, slicePoint(d, 1))
		checkTooltip(t, d, "21k sessions")
		savePNG(t, cv, "look-donut-hover-"+th.name)

		tb := NewTimeBars()
		tb.Unit, tb.OverlayName = "sessions", "new conversations"
		cv = show(t, th.th, tb, fyne.NewSize(560, 200))
		vals := hourly(72)
		tb.SetData(t0, time.Hour, vals)
		over := make([]float64, len(vals))
		for i := range over {
			over[i] = vals[i] * 0.3
		}
		tb.SetOverlay(over)
		checkBarHeights(t, tb, vals)
		test.MoveMouse(cv, tb.cols[30].centre())
		checkTooltip(t, tb, Compact(vals[30])+" sessions")
		got = append(got, checkInk(t, th, savePNG(t, cv, "look-timebars-hover-"+th.name), "timebars"))
		tb.SetData(t0, 24*time.Hour, hourly(400))
		checkBarHeights(t, tb, hourly(400))
		savePNG(t, cv, "look-timebars-year-"+th.name)
		// Days without traffic keep their place: a bucket each, no bar.
		week := []float64{5, 0, 0, 3, 0, 8, 1}
		test.MoveMouse(cv, fyne.NewPos(0, 0))
		tb.SetData(t0, 24*time.Hour, week)
		checkBarHeights(t, tb, week)

		sl := NewSparkline()
		sl.Unit = "msg/s"
		cv = show(t, th.th, sl, fyne.NewSize(260, 64))
		sl.SetValues(hourly(90)) // a window not yet full
		if !hasTextPrefix(sl, Compact(hourly(90)[89])) {
			t.Errorf("%s: the sparkline does not show its current value %s: %q", th.name, Compact(hourly(90)[89]), texts(sl))
		}
		got = append(got, checkInk(t, th, savePNG(t, cv, "look-sparkline-"+th.name), "sparkline"))
		caps = append(caps, got)
	}
	for i, name := range []string{"stacked", "donut", "timebars", "sparkline"} {
		if inked(caps[0][i], color.White) == inked(caps[1][i], color.White) {
			t.Errorf("%s: light and dark captures look the same", name)
		}
	}
}

// checkInk fails when fewer than 2% of img's pixels differ from th's
// background: the chart drew (close to) nothing. It returns img.
func checkInk(t *testing.T, th struct {
	name string
	th   fyne.Theme
}, img image.Image, what string) image.Image {
	t.Helper()
	bg := th.th.Color(theme.ColorNameBackground, theme.VariantLight)
	total := img.Bounds().Dx() * img.Bounds().Dy()
	if n := inked(img, bg); n < total/50 {
		t.Errorf("%s %s: only %d of %d pixels differ from the background", what, th.name, n, total)
	}
	return img
}

// checkTooltip fails unless one of w's texts contains want (the tooltip).
func checkTooltip(t *testing.T, w fyne.Widget, want string) {
	t.Helper()
	for _, s := range texts(w) {
		if strings.Contains(s, want) {
			return
		}
	}
	t.Errorf("no tooltip with %q; texts %q", want, texts(w))
}

// bars returns the visible rectangles of w filled with fill, left to right.
func bars(w fyne.Widget, fill color.Color) []*canvas.Rectangle {
	var out []*canvas.Rectangle
	for _, o := range test.WidgetRenderer(w).Objects() {
		if r, ok := o.(*canvas.Rectangle); ok && r.Visible() && sameColor(r.FillColor, fill) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *canvas.Rectangle) int { return int(a.Position().X - b.Position().X) })
	return out
}

func sameColor(a, b color.Color) bool {
	if a == nil || b == nil {
		return a == b
	}
	ar, ag, ab, aa := a.RGBA()
	br, bg, bb, ba := b.RGBA()
	return ar == br && ag == bg && ab == bb && aa == ba
}

// checkBarHeights checks that c has a bucket per value, a bar for each
// positive one inside its bucket and none for zero, and bar heights
// proportional to the values (within the pixel the bars snap to).
func checkBarHeights(t *testing.T, c *TimeBars, vals []float64) {
	t.Helper()
	if len(c.cols) != len(vals) {
		t.Fatalf("%d buckets for %d values", len(c.cols), len(vals))
	}
	rs := bars(c, Palette(0))
	peak, tallest := slices.Max(vals), float32(0)
	for _, r := range rs {
		tallest = max(tallest, r.Size().Height)
	}
	k := float64(tallest) / peak
	j := 0
	for i, v := range vals {
		if v <= 0 {
			continue
		}
		if j == len(rs) {
			t.Fatalf("%d bars for %d positive values", len(rs), j+1)
		}
		r, col := rs[j], c.cols[i]
		j++
		if x := r.Position().X; x < col.pos.X || x >= col.pos.X+col.size.Width {
			t.Errorf("bucket %d: bar at x %.1f outside its bucket [%.1f, %.1f)", i, x, col.pos.X, col.pos.X+col.size.Width)
		}
		if h := float64(r.Size().Height); math.Abs(h-v*k) > 1.01 {
			t.Errorf("bucket %d: bar %.1f high for %.0f, want %.1f (proportional)", i, h, v, v*k)
		}
	}
	if j != len(rs) {
		t.Errorf("%d bars for %d positive values", len(rs), j)
	}
}

// checkArcs checks that d drew one arc per slice shown (the topN largest
// and one for the rest) with sweeps proportional to the values.
func checkArcs(t *testing.T, d *Donut, vals []float64, topN int) {
	t.Helper()
	var sweeps []float64
	for _, o := range test.WidgetRenderer(d).Objects() {
		if a, ok := o.(*canvas.Arc); ok && a.Visible() {
			sweeps = append(sweeps, math.Abs(float64(a.EndAngle-a.StartAngle)))
		}
	}
	want := vals
	if topN > 0 && len(vals) > topN {
		rest := 0.0
		for _, v := range vals[topN:] {
			rest += v
		}
		want = append(slices.Clone(vals[:topN]), rest)
	}
	if len(sweeps) != len(want) {
		t.Fatalf("%d arcs, want %d", len(sweeps), len(want))
	}
	total := 0.0
	for _, v := range want {
		total += v
	}
	for i, s := range sweeps {
		if w := want[i] / total * 360; math.Abs(s-w) > 1.5 {
			t.Errorf("slice %d sweeps %.1f°, want %.1f°", i, s, w)
		}
	}
}

// TestLookOverview renders the four charts together, roughly as the
// Overview and Listener views place them, and checks each drew its data.
func TestLookOverview(t *testing.T) {
	for _, th := range themes {
		c, d, tb, sl := NewStackedBars(), NewDonut(), NewTimeBars(), NewSparkline()
		c.Unit, d.Unit, tb.Unit, sl.Unit = "sessions", "sessions", "sessions", "msg/s"
		grid := container.NewGridWithRows(2,
			container.NewGridWithColumns(2, c, d),
			container.NewBorder(nil, sl, nil, nil, tb))
		cv := show(t, th.th, container.NewPadded(grid), fyne.NewSize(900, 560))
		c.SetData(append(tags, "SGTSDNS"), dirs, append(tagVal, []float64{900, 0, 2500}))
		d.SetData([]string{"https/443", "dns/53", "ssh/22", "ldap/389", "ntp/123"}, []float64{52000, 21000, 9000, 4000, 1200})
		tb.SetData(t0, time.Hour, hourly(72))
		sl.SetValues(hourly(120))
		checkInk(t, th, savePNG(t, cv, "look-overview-"+th.name), "overview")
		// Each chart drew its data in the space the grid gave it.
		for _, o := range []fyne.CanvasObject{c, d, tb, sl} {
			if sz := o.Size(); sz.Width < o.MinSize().Width || sz.Height < o.MinSize().Height {
				t.Errorf("%s: %T laid out at %v, under its minimum %v", th.name, o, sz, o.MinSize())
			}
		}
		if n := len(c.segs); n != 13 { // the non-zero values, SGTSDNS's two included
			t.Errorf("%s: %d stacked segments, want 13", th.name, n)
		}
		checkArcs(t, d, []float64{52000, 21000, 9000, 4000, 1200}, DefaultTopN)
		checkBarHeights(t, tb, hourly(72))
	}
}

// TestLookStress renders the awkward cases: hundreds of rows, a crowded
// legend, a month of hours, a single value and no data, and checks what
// each draws.
func TestLookStress(t *testing.T) {
	th := themes[0]
	many := make([]string, 300)
	vals := make([][]float64, 300)
	for i := range many {
		many[i] = "tag-" + string(rune('A'+i%26)) + "-" + Compact(float64(i))
		vals[i] = []float64{float64(300 - i), float64(i % 7 * 20), 5}
	}
	c := NewStackedBars()
	cv := show(t, th.th, c, fyne.NewSize(400, 300))
	c.SetData(many, dirs, vals)
	savePNG(t, cv, "stress-stacked-300")
	if !hasText(c, many[0]) || len(c.segs) < 300 {
		t.Errorf("300 rows: %d segments, first label drawn %v", len(c.segs), hasText(c, many[0]))
	}
	c.TopN = 12
	c.SetData(many, dirs, vals)
	savePNG(t, cv, "stress-stacked-top12")
	rows := map[int]bool{}
	for _, g := range c.segs {
		rows[g.row] = true
	}
	if len(rows) != 13 || !hasText(c, OtherLabel) { // 12 and the rest merged
		t.Errorf("TopN 12: %d rows drawn, texts %q", len(rows), texts(c))
	}
	// The 12 largest totals (300-i + i%7*20 + 5) are drawn, no other.
	total := func(i int) float64 { return vals[i][0] + vals[i][1] + vals[i][2] }
	idx := make([]int, len(many))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return int(total(b) - total(a)) })
	for k, i := range idx {
		if drawn := hasText(c, many[i]); drawn != (k < 12) {
			t.Errorf("TopN 12: %s (total %.0f, rank %d) drawn %v", many[i], total(i), k, drawn)
		}
	}

	d := NewDonut()
	d.TopN = -1
	cv = show(t, th.th, d, fyne.NewSize(360, 150))
	labels := make([]string, 30)
	dv := make([]float64, 30)
	for i := range labels {
		labels[i], dv[i] = many[i], float64(30-i)
	}
	d.SetData(labels, dv)
	savePNG(t, cv, "stress-donut-30")
	checkArcs(t, d, dv, -1)
	d.SetData(labels[:1], dv[:1])
	savePNG(t, cv, "stress-donut-1")
	checkArcs(t, d, dv[:1], -1)

	tb := NewTimeBars()
	cv = show(t, th.th, tb, fyne.NewSize(600, 180))
	tb.SetData(t0, time.Hour, hourly(24*30))
	savePNG(t, cv, "stress-timebars-month")
	checkBarHeights(t, tb, hourly(24*30))
	tb.SetData(t0.Add(13*time.Hour), time.Hour, []float64{7})
	savePNG(t, cv, "stress-timebars-1")
	checkBarHeights(t, tb, []float64{7})

	sl := NewSparkline()
	cv = show(t, th.th, sl, fyne.NewSize(200, 50))
	sl.SetValues([]float64{3})
	savePNG(t, cv, "stress-sparkline-1")
	if !hasTextPrefix(sl, "3") {
		t.Errorf("one value: texts %q, want the value 3", texts(sl))
	}
	sl.SetValues(nil)
	savePNG(t, cv, "stress-sparkline-0")
	if !hasText(sl, "No data") {
		t.Errorf("no values: texts %q, want No data", texts(sl))
	}
}
