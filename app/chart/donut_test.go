package chart

import (
	"fmt"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

var (
	services = []string{"dns/53", "https/443", "ssh/22", "ldap/389"}
	svcVals  = []float64{21000, 52000, 9000, 0}
)

// slicePoint returns a point in the middle of slice i (position in d.slices).
func slicePoint(d *Donut, i int) fyne.Position {
	s := d.slices[i]
	mid := float64(s.start+s.end) / 2 * math.Pi / 180
	r := float64(d.inner+d.outer) / 2
	return fyne.NewPos(d.centre.X+float32(math.Sin(mid)*r), d.centre.Y-float32(math.Cos(mid)*r))
}

func TestDonutData(t *testing.T) {
	many := make([]string, 500)
	manyVals := make([]float64, 500)
	for i := range many {
		many[i] = fmt.Sprintf("svc-%03d", i)
		manyVals[i] = float64(i + 1)
	}
	tests := []struct {
		Name   string
		Labels []string
		Vals   []float64
		TopN   int
		Slices int
		Text   string
	}{
		{Name: "empty", Slices: 0, Text: "No data"},
		{Name: "all zero", Labels: services, Vals: []float64{0, 0, 0, 0}, Slices: 4, Text: "No data"},
		{Name: "one", Labels: services[:1], Vals: svcVals[:1], Slices: 1, Text: "100%"},
		{Name: "zero slice listed", Labels: services, Vals: svcVals, Slices: 4, Text: "0%"},
		{Name: "huge", Labels: services[:2], Vals: []float64{1e12, 3e12}, Slices: 2, Text: "4T"},
		{Name: "many default top n", Labels: many, Vals: manyVals, Slices: DefaultTopN + 1, Text: OtherLabel},
		{Name: "no limit", Labels: many, Vals: manyVals, TopN: -1, Slices: 500, Text: "svc-499"},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			d := NewDonut()
			d.TopN = tc.TopN
			show(t, nil, d, fyne.NewSize(400, 220))
			d.SetData(tc.Labels, tc.Vals)
			if len(d.slices) != tc.Slices {
				t.Errorf("slices = %d, want %d", len(d.slices), tc.Slices)
			}
			if !hasText(d, tc.Text) {
				t.Errorf("%q not drawn; texts: %q", tc.Text, texts(d))
			}
			if n := len(d.slices); n > 0 && d.total > 0 && math.Abs(float64(d.slices[n-1].end)-360) > 0.01 {
				t.Errorf("slices end at %v degrees, want 360", d.slices[n-1].end)
			}
		})
	}
}

func TestDonutTap(t *testing.T) {
	d := NewDonut()
	got := -2
	d.OnTapped = func(i int) { got = i }
	cv := show(t, nil, d, fyne.NewSize(400, 220))
	d.SetData(services, svcVals)
	// Largest first, clockwise from the top: https (1) covers 0°–228°,
	// dns (0) 228°–320°, ssh (2) 320°–360°.
	tests := []struct {
		Name string
		Pos  fyne.Position
		Want int
	}{
		{"right of centre is https", fyne.NewPos(d.centre.X+(d.inner+d.outer)/2, d.centre.Y), 1},
		{"left of centre is dns", fyne.NewPos(d.centre.X-(d.inner+d.outer)/2, d.centre.Y), 0},
		{"just left of the top is ssh", slicePoint(d, 2), 2},
		{"hole is nothing", d.centre, -2},
		{"legend row of dns", d.legend[1].centre(), 0},
	}
	for _, tc := range tests {
		got = -2
		test.TapCanvas(cv, tc.Pos)
		if got != tc.Want {
			t.Errorf("%s: tapped %d, want %d", tc.Name, got, tc.Want)
		}
	}
}

func TestDonutTapOther(t *testing.T) {
	d := NewDonut()
	d.TopN = 2
	got := -2
	d.OnTapped = func(i int) { got = i }
	cv := show(t, nil, d, fyne.NewSize(400, 220))
	d.SetData(services, []float64{21000, 52000, 9000, 8000})
	test.TapCanvas(cv, slicePoint(d, 2))
	if got != Other {
		t.Errorf("tapped %d, want Other", got)
	}
}

func TestDonutHover(t *testing.T) {
	d := NewDonut()
	d.Unit = "sessions"
	cv := show(t, nil, d, fyne.NewSize(400, 220))
	d.SetData(services, svcVals)
	test.MoveMouse(cv, slicePoint(d, 1))
	if want := "dns/53: 21k sessions (26%)"; !hasText(d, want) {
		t.Errorf("tooltip %q missing; texts: %q", want, texts(d))
	}
	if d.hover != 1 {
		t.Errorf("hover = %d, want 1", d.hover)
	}
	test.MoveMouse(cv, d.centre)
	if hasTextPrefix(d, "dns/53:") || d.hover != -1 {
		t.Errorf("tooltip still shown in the hole: %q", texts(d))
	}
	test.MoveMouse(cv, d.legend[2].centre())
	if want := "ssh/22: 9k sessions (11%)"; !hasText(d, want) || d.hover != 2 {
		t.Errorf("legend hover: tooltip %q missing; texts: %q", want, texts(d))
	}
}

func TestDonutThemes(t *testing.T) {
	d := NewDonut()
	d.Unit = "sessions"
	renderBothThemes(t, "donut", d, fyne.NewSize(420, 220), func() { d.SetData(services, svcVals) })
}

func TestDonutMarkup(t *testing.T) {
	test.NewTempApp(t)
	d := NewDonut()
	d.Resize(fyne.NewSize(300, 120))
	d.SetData([]string{"https", "dns", "ssh"}, []float64{60, 30, 10})
	test.AssertObjectRendersToMarkup(t, "donut_small.xml", d)
}

// TestDonutTotal: labelled values that are the top of a larger whole get
// an "Other" slice for the rest, so the middle figure and the percentages
// are of the whole; a total below the values' sum changes nothing.
func TestDonutTotal(t *testing.T) {
	for _, tc := range []struct {
		Name        string
		Total       float64
		Slices      int
		Other, Want float64
	}{
		{"rest becomes Other", 100000, 5, 100000 - 82000, 100000},
		{"no rest", 82000, 4, 0, 82000},
		{"total too small", 50000, 4, 0, 82000},
	} {
		t.Run(tc.Name, func(t *testing.T) {
			d := NewDonut()
			d.SetDataTotal(services, svcVals, tc.Total)
			if d.Total() != tc.Want {
				t.Errorf("total %v, want %v", d.Total(), tc.Want)
			}
			if len(d.slices) != tc.Slices {
				t.Fatalf("%d slices, want %d", len(d.slices), tc.Slices)
			}
			label, v, _ := d.Slice(len(d.slices) - 1)
			if tc.Other > 0 && (label != OtherLabel || v != tc.Other) {
				t.Errorf("last slice %s %v, want Other %v", label, v, tc.Other)
			}
		})
	}
	// With TopN, the slices beyond it and the rest make one Other.
	d := NewDonut()
	d.TopN = 2
	d.SetDataTotal(services, svcVals, 100000)
	if label, v, _ := d.Slice(2); label != OtherLabel || v != 9000+18000 || d.Total() != 100000 {
		t.Errorf("Other %s %v, total %v", label, v, d.Total())
	}
}
