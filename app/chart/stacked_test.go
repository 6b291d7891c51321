package chart

import (
	"fmt"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

var (
	tags   = []string{"SGTSWEB", "SGTSDB", "SGTSAPP-BACKEND-WITH-A-VERY-LONG-NAME", "SGTSMON"}
	dirs   = []string{"inbound", "outbound", "intra"}
	tagVal = [][]float64{{12400, 3000, 500}, {8000, 200, 4000}, {1500, 6500, 0}, {300, 100, 50}}
)

// seg returns the drawn box of category row r, series s.
func seg(t *testing.T, c *StackedBars, r, s int) barSeg {
	t.Helper()
	for _, g := range c.segs {
		if g.row == r && g.series == s {
			return g
		}
	}
	t.Fatalf("no segment for row %d series %d in %v", r, s, c.segs)
	return barSeg{}
}

func TestStackedBarsData(t *testing.T) {
	many := make([]string, 300)
	manyVals := make([][]float64, 300)
	for i := range many {
		many[i] = fmt.Sprintf("tag-%03d", i)
		manyVals[i] = []float64{float64(i), float64(300 - i), 1}
	}
	tests := []struct {
		Name   string
		Cats   []string
		Vals   [][]float64
		TopN   int
		Rows   int
		Text   string // a text that must be drawn
		NoText string // a text that must not be drawn
	}{
		{Name: "empty", Rows: 0, Text: "No data"},
		{Name: "one", Cats: tags[:1], Vals: tagVal[:1], Rows: 1, Text: "SGTSWEB", NoText: "No data"},
		{Name: "zeros", Cats: tags, Vals: [][]float64{{0, 0, 0}}, Rows: 4, Text: "SGTSMON"},
		{Name: "missing values", Cats: tags, Vals: nil, Rows: 4, Text: "1"},
		{Name: "huge", Cats: tags[:2], Vals: [][]float64{{1e12, 2e11, 0}, {3e11, math.NaN(), -5}}, Rows: 2, Text: "1.2T"},
		{Name: "many", Cats: many, Vals: manyVals, Rows: 300, Text: "tag-000"},
		{Name: "top n", Cats: many, Vals: manyVals, TopN: 10, Rows: 11, Text: OtherLabel},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			c := NewStackedBars()
			c.TopN = tc.TopN
			show(t, nil, c, fyne.NewSize(400, 300))
			c.SetData(tc.Cats, dirs, tc.Vals)
			if len(c.rows) != tc.Rows {
				t.Errorf("rows = %d, want %d", len(c.rows), tc.Rows)
			}
			if !hasText(c, tc.Text) {
				t.Errorf("%q not drawn; texts: %q", tc.Text, texts(c))
			}
			if tc.NoText != "" && hasText(c, tc.NoText) {
				t.Errorf("%q drawn", tc.NoText)
			}
			for _, g := range c.segs {
				if g.pos.X < 0 || g.pos.X+g.size.Width > 400.5 || g.pos.Y < 0 || g.pos.Y+g.size.Height > 300.5 {
					t.Fatalf("segment %+v outside the widget", g)
				}
			}
		})
	}
}

func TestStackedBarsGeometry(t *testing.T) {
	c := NewStackedBars()
	show(t, nil, c, fyne.NewSize(500, 300))
	c.SetData(tags, dirs, tagVal)
	// Widths are proportional to values, and segments of one bar abut.
	unit := seg(t, c, 0, 0).size.Width / 12400
	for r, vals := range tagVal {
		x := seg(t, c, r, 0).pos.X
		for s, v := range vals {
			if v == 0 {
				continue
			}
			g := seg(t, c, r, s)
			if math.Abs(float64(g.size.Width-float32(v)*unit)) > 1.01 || math.Abs(float64(g.pos.X-x)) > 0.01 {
				t.Errorf("row %d series %d: box %+v, want x %.1f width %.1f", r, s, g, x, float32(v)*unit)
			}
			x += g.size.Width
		}
	}
	if a, b := seg(t, c, 0, 0), seg(t, c, 1, 0); a.pos.Y >= b.pos.Y {
		t.Errorf("rows out of order: %v above %v", b, a)
	}
}

func TestStackedBarsTap(t *testing.T) {
	c := NewStackedBars()
	c.TopN = 3
	gotCat, gotSeries, gotLabel := -2, -2, -2
	c.OnTapped = func(cat, series int) { gotCat, gotSeries = cat, series }
	c.OnTappedCategory = func(cat int) { gotLabel = cat }
	cv := show(t, nil, c, fyne.NewSize(500, 300))
	c.SetData(tags, dirs, tagVal)
	// TopN sorts by total: SGTSWEB 15.9k, SGTSDB 12.2k, SGTSAPP 8k, then Other.
	tests := []struct {
		Name         string
		Row, Series  int
		Cat, WantSer int
	}{
		{"first bar inbound", 0, 0, 0, 0},
		{"second bar intra", 1, 2, 1, 2},
		{"third bar outbound", 2, 1, 2, 1},
		{"other", 3, 0, Other, 0},
	}
	for _, tc := range tests {
		gotCat, gotSeries = -2, -2
		test.TapCanvas(cv, seg(t, c, tc.Row, tc.Series).centre())
		if gotCat != tc.Cat || gotSeries != tc.WantSer {
			t.Errorf("%s: tapped (%d, %d), want (%d, %d)", tc.Name, gotCat, gotSeries, tc.Cat, tc.WantSer)
		}
	}
	gotCat = -2
	test.TapCanvas(cv, fyne.NewPos(499, 299)) // the axis corner: nothing
	if gotCat != -2 {
		t.Errorf("tap on empty space reported category %d", gotCat)
	}
	test.TapCanvas(cv, c.labels[1].centre())
	if gotLabel != 1 {
		t.Errorf("label tap reported %d, want 1", gotLabel)
	}
}

func TestStackedBarsHover(t *testing.T) {
	c := NewStackedBars()
	c.Unit = "sessions"
	cv := show(t, nil, c, fyne.NewSize(500, 300))
	c.SetData(tags, dirs, tagVal)
	test.MoveMouse(cv, seg(t, c, 0, 0).centre())
	if want := "SGTSWEB · inbound: 12.4k sessions"; !hasText(c, want) {
		t.Errorf("tooltip %q missing; texts: %q", want, texts(c))
	}
	test.MoveMouse(cv, seg(t, c, 1, 2).centre())
	if want := "SGTSDB · intra: 4k sessions"; !hasText(c, want) {
		t.Errorf("tooltip %q missing; texts: %q", want, texts(c))
	}
	test.MoveMouse(cv, fyne.NewPos(499, 299))
	if hasTextPrefix(c, "SGTSDB ·") {
		t.Errorf("tooltip still shown after the mouse left the bar: %q", texts(c))
	}
}

func TestStackedBarsFormat(t *testing.T) {
	c := NewStackedBars()
	c.Format = func(v float64) string { return fmt.Sprintf("%.0f B", v) }
	show(t, nil, c, fyne.NewSize(500, 300))
	c.SetData(tags[:1], dirs, [][]float64{{100, 0, 0}})
	if !hasText(c, "100 B") {
		t.Errorf("the caller's formatter is not used for ticks: %q", texts(c))
	}
}

func TestStackedBarsThemes(t *testing.T) {
	c := NewStackedBars()
	renderBothThemes(t, "stacked", c, fyne.NewSize(520, 300), func() { c.SetData(tags, dirs, tagVal) })
}

func TestStackedBarsMarkup(t *testing.T) {
	test.NewTempApp(t)
	c := NewStackedBars()
	c.Resize(fyne.NewSize(300, 120))
	c.SetData([]string{"web", "db"}, dirs, [][]float64{{30, 10, 5}, {20, 0, 15}})
	test.AssertObjectRendersToMarkup(t, "stacked_small.xml", c)
}

func BenchmarkStackedBars50(b *testing.B) {
	cats := make([]string, 50)
	vals := make([][]float64, 50)
	for i := range cats {
		cats[i] = fmt.Sprintf("SGTS-TAG-%02d", i)
		vals[i] = []float64{float64(i * 1000), float64(i * 300), float64(i * 70)}
	}
	c := NewStackedBars()
	show(b, nil, c, fyne.NewSize(600, 800))
	r := test.WidgetRenderer(c)
	b.ReportAllocs()
	for b.Loop() {
		c.SetData(cats, dirs, vals)
		r.Layout(fyne.NewSize(600, 800))
	}
}

func TestStackedBarsRowHeight(t *testing.T) {
	c := NewStackedBars()
	c.RowHeight = 20
	show(t, nil, c, fyne.NewSize(400, 300))
	c.SetData(make([]string, 100), dirs, nil)
	if h := c.MinSize().Height; h < 2000 || h > 2100 {
		t.Errorf("min height %v for 100 rows of 20, want about 2000 plus legend and axis", h)
	}
	c.RowHeight = 0
	if h := c.MinSize().Height; h > 100 {
		t.Errorf("min height %v without RowHeight, want the small default", h)
	}
}
