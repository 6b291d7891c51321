package chart

import (
	"image"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
)

func TestSparklineData(t *testing.T) {
	tests := []struct {
		Name     string
		Capacity int
		Vals     []float64
		Kept     int
		Text     string
	}{
		{Name: "empty", Text: "No data"},
		{Name: "one", Vals: []float64{5}, Kept: 1, Text: "5 msg/s"},
		{Name: "zeros", Vals: make([]float64, 50), Kept: 50, Text: "max 0"},
		{Name: "huge", Vals: []float64{1e12, 3e12, math.NaN()}, Kept: 3, Text: "max 3T"},
		{Name: "more than capacity", Capacity: 10, Vals: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Kept: 10, Text: "12 msg/s"},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			l := NewSparkline()
			l.Unit, l.Capacity = "msg/s", tc.Capacity
			show(t, nil, l, fyne.NewSize(240, 60))
			l.SetValues(tc.Vals)
			if got := len(l.Values()); got != tc.Kept {
				t.Errorf("kept %d values, want %d", got, tc.Kept)
			}
			if !hasText(l, tc.Text) {
				t.Errorf("%q not drawn; texts: %q", tc.Text, texts(l))
			}
		})
	}
}

func TestSparklinePush(t *testing.T) {
	l := NewSparkline()
	l.Capacity = 5
	show(t, nil, l, fyne.NewSize(240, 60))
	for i := 1; i <= 8; i++ {
		l.Push(float64(i))
	}
	want := []float64{4, 5, 6, 7, 8}
	got := l.Values()
	if len(got) != len(want) {
		t.Fatalf("values %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("values %v, want %v", got, want)
		}
	}
	if !hasText(l, "8") || !hasText(l, "max 8") {
		t.Errorf("current and max not drawn: %q", texts(l))
	}
}

// TestSparklineShape checks that a rising line is drawn low on the left and
// high on the right.
func TestSparklineShape(t *testing.T) {
	l := NewSparkline()
	l.Capacity = 10
	l.Color = Palette(3)
	cv := show(t, lightTheme(), l, fyne.NewSize(200, 100))
	l.SetValues([]float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90})
	img := cv.Capture()
	var r *canvas.Raster
	for _, o := range test.WidgetRenderer(l).Objects() {
		if rr, ok := o.(*canvas.Raster); ok {
			r = rr
		}
	}
	if r == nil {
		t.Fatal("no line drawn")
	}
	box := image.Rect(int(r.Position().X), int(r.Position().Y), int(r.Position().X+r.Size().Width), int(r.Position().Y+r.Size().Height))
	highest := func(x0, x1 int) int { // the top-most row with line colour in the columns
		for y := box.Min.Y; y < box.Max.Y; y++ {
			for x := x0; x < x1; x++ {
				if rr, g, b, _ := img.At(x, y).RGBA(); rr>>8 > 0xc0 && g>>8 < 0x70 && b>>8 < 0x70 {
					return y
				}
			}
		}
		return -1
	}
	left, right := highest(box.Min.X, box.Min.X+15), highest(box.Max.X-15, box.Max.X)
	if left < 0 || right < 0 || right >= left-20 {
		t.Errorf("line top at left %d, right %d; want the right end well above the left", left, right)
	}
}

func TestSparklineThemes(t *testing.T) {
	l := NewSparkline()
	l.Unit = "msg/s"
	renderBothThemes(t, "sparkline", l, fyne.NewSize(240, 60), func() { l.SetValues(hourly(120)) })
}

func BenchmarkSparklinePush(b *testing.B) {
	l := NewSparkline()
	show(b, nil, l, fyne.NewSize(300, 60))
	l.SetValues(hourly(120))
	r := test.WidgetRenderer(l)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Push(float64(i % 1000))
		i++
		for _, o := range r.Objects() { // what the painter does: regenerate the raster
			if rr, ok := o.(*canvas.Raster); ok {
				rr.Generator(300, 40)
			}
		}
	}
}
