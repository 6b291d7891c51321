package chart

import (
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC) // a Friday

func hourly(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1000 + 800*math.Sin(float64(i)/24*2*math.Pi) + float64(i%5)*100
	}
	return v
}

// timeLabels returns the x-axis labels drawn (the texts below the plot).
func timeLabels(c *TimeBars) []*textBox {
	var out []*textBox
	for _, o := range test.WidgetRenderer(c).Objects() {
		if tb, ok := asText(o); ok && tb.pos.Y > c.Size().Height-20 {
			out = append(out, tb)
		}
	}
	return out
}

func TestTimeBarsData(t *testing.T) {
	tests := []struct {
		Name   string
		Step   time.Duration
		Vals   []float64
		Text   string
		NoText string
	}{
		{Name: "empty", Step: time.Hour, Text: "No data"},
		{Name: "one", Step: time.Hour, Vals: []float64{5}, Text: "Nov 20", NoText: "No data"},
		{Name: "zeros", Step: time.Hour, Vals: make([]float64, 24), Text: "1"},
		{Name: "huge", Step: 24 * time.Hour, Vals: []float64{1e12, 2e12, math.NaN(), -1}, Text: "2T"},
		{Name: "a month of hours", Step: time.Hour, Vals: hourly(24 * 30), Text: "Nov 23"}, // a Monday
		{Name: "a year of days", Step: 24 * time.Hour, Vals: hourly(365), Text: "Jan 2027"},
		{Name: "minutes", Step: time.Minute, Vals: hourly(120), Text: "00:30"},
		{Name: "weeks from a Friday", Step: 7 * 24 * time.Hour, Vals: hourly(60), Text: "Jan 15"}, // every 8 weeks from Nov 20,
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			c := NewTimeBars()
			show(t, nil, c, fyne.NewSize(500, 200))
			c.SetData(t0, tc.Step, tc.Vals)
			if !hasText(c, tc.Text) {
				t.Errorf("%q not drawn; texts: %q", tc.Text, texts(c))
			}
			if tc.NoText != "" && hasText(c, tc.NoText) {
				t.Errorf("%q drawn", tc.NoText)
			}
			assertNoOverlap(t, timeLabels(c))
		})
	}
}

func assertNoOverlap(t *testing.T, labels []*textBox) {
	t.Helper()
	for i := 1; i < len(labels); i++ {
		a, b := labels[i-1], labels[i]
		if a.pos.X+a.width > b.pos.X {
			t.Errorf("labels %q at %.0f (width %.0f) and %q at %.0f overlap", a.text, a.pos.X, a.width, b.text, b.pos.X)
		}
	}
}

func TestTimeBarsLabels(t *testing.T) {
	c := NewTimeBars()
	show(t, nil, c, fyne.NewSize(600, 200))
	c.SetData(t0, time.Hour, hourly(48))
	var got []string
	for _, l := range timeLabels(c) {
		got = append(got, l.text)
	}
	// 48 hours in ~560 px: about 11 px per bar; labels every 6 hours,
	// on round hours, with the date at midnight.
	want := "Nov 20 06:00 12:00 18:00 Nov 21 06:00 12:00 18:00"
	if strings.Join(got, " ") != want {
		t.Errorf("labels %q, want %q", strings.Join(got, " "), want)
	}
}

func TestLabelEvery(t *testing.T) {
	tests := []struct {
		Name     string
		Step     time.Duration
		Pitch, W float32
		Want     time.Duration
	}{
		{"wide hours label each", time.Hour, 50, 40, time.Hour},
		{"narrow hours", time.Hour, 11, 40, 6 * time.Hour},
		{"very narrow hours", time.Hour, 1, 40, 2 * 24 * time.Hour},
		{"days", 24 * time.Hour, 3, 40, 14 * 24 * time.Hour},
		{"odd step", 7 * time.Minute, 2, 40, 140 * time.Minute},
	}
	for _, tc := range tests {
		if got := labelEvery(tc.Step, tc.Pitch, tc.W); got != tc.Want {
			t.Errorf("%s: labelEvery(%v, %v, %v) = %v, want %v", tc.Name, tc.Step, tc.Pitch, tc.W, got, tc.Want)
		}
	}
}

func TestTimeBarsTapHover(t *testing.T) {
	c := NewTimeBars()
	c.Unit = "sessions"
	got := -1
	c.OnTapped = func(i int) { got = i }
	cv := show(t, nil, c, fyne.NewSize(500, 200))
	vals := hourly(24)
	vals[13] = 4321
	c.SetData(t0, time.Hour, vals)
	test.TapCanvas(cv, c.cols[13].centre())
	if got != 13 {
		t.Errorf("tapped %d, want 13", got)
	}
	from, to := c.Bucket(13)
	if !from.Equal(t0.Add(13*time.Hour)) || to.Sub(from) != time.Hour {
		t.Errorf("Bucket(13) = %v, %v", from, to)
	}
	test.MoveMouse(cv, c.cols[13].centre())
	if want := "Fri Nov 20 13:00–14:00 · 4.3k sessions"; !hasText(c, want) {
		t.Errorf("tooltip %q missing; texts: %q", want, texts(c))
	}
	test.MoveMouse(cv, fyne.NewPos(1, 1)) // over the tick labels
	if hasTextPrefix(c, "Fri Nov 20") {
		t.Errorf("tooltip still shown: %q", texts(c))
	}
}

func TestTimeBarsOverlay(t *testing.T) {
	c := NewTimeBars()
	c.OverlayName = "new"
	cv := show(t, nil, c, fyne.NewSize(500, 200))
	c.SetData(t0, 24*time.Hour, []float64{10, 20, 30})
	c.SetOverlay([]float64{1, math.NaN(), 3})
	if n := len(test.WidgetRenderer(c).Objects()); n == 0 {
		t.Fatal("nothing drawn")
	}
	test.MoveMouse(cv, c.cols[2].centre())
	if want := "Sun Nov 22 2026 · 30 · new 3"; !hasText(c, want) {
		t.Errorf("tooltip %q missing; texts: %q", want, texts(c))
	}
	c.SetData(t0, 24*time.Hour, []float64{1, 2})
	if c.overlay != nil {
		t.Error("an overlay of another length survived SetData")
	}
}

func TestTimeBarsThemes(t *testing.T) {
	c := NewTimeBars()
	renderBothThemes(t, "timebars", c, fyne.NewSize(520, 220), func() { c.SetData(t0, time.Hour, hourly(72)) })
}
