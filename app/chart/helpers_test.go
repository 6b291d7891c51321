package chart

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// show puts o in a test window of the given size under the given theme and
// returns the window's canvas.
func show(t testing.TB, th fyne.Theme, o fyne.CanvasObject, size fyne.Size) fyne.Canvas {
	t.Helper()
	a := test.NewTempApp(t)
	if th != nil {
		a.Settings().SetTheme(th)
	}
	w := test.NewTempWindow(t, o)
	w.SetPadded(false)
	w.Resize(size)
	return w.Canvas()
}

// savePNG writes the canvas to /tmp/charts/name.png when CHART_PNG is set, for
// looking at the charts by eye.
func savePNG(t testing.TB, c fyne.Canvas, name string) image.Image {
	t.Helper()
	img := c.Capture()
	if os.Getenv("CHART_PNG") == "" {
		return img
	}
	dir := "/tmp/charts"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return img
}

// inked counts the pixels that differ from the background colour bg.
func inked(img image.Image, bg color.Color) int {
	br, bgc, bb, _ := bg.RGBA()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if diff(r, br) > 0x800 || diff(g, bgc) > 0x800 || diff(bl, bb) > 0x800 {
				n++
			}
		}
	}
	return n
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

var themes = []struct {
	name string
	th   fyne.Theme
}{
	{"light", lightTheme()},
	{"dark", darkTheme()},
}

// fixedTheme is the default theme in one variant whatever the user prefers,
// as the deprecated theme.LightTheme and theme.DarkTheme were.
type fixedTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

// Color is the default theme's colour n in t's variant.
func (t fixedTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

func lightTheme() fyne.Theme { return fixedTheme{theme.DefaultTheme(), theme.VariantLight} }
func darkTheme() fyne.Theme  { return fixedTheme{theme.DefaultTheme(), theme.VariantDark} }

// texts returns the strings of the widget's visible canvas.Text objects.
func texts(w fyne.Widget) []string {
	var out []string
	for _, o := range test.WidgetRenderer(w).Objects() {
		if t, ok := o.(*canvas.Text); ok && t.Visible() && t.Text != "" {
			out = append(out, t.Text)
		}
	}
	return out
}

func hasText(w fyne.Widget, s string) bool {
	return slices.Contains(texts(w), s)
}

// hasTextPrefix reports whether some text starts with s.
func hasTextPrefix(w fyne.Widget, s string) bool {
	for _, t := range texts(w) {
		if strings.HasPrefix(t, s) {
			return true
		}
	}
	return false
}

// renderBothThemes captures o in light and dark and checks that each capture
// has ink (pixels that differ from the theme background) and that the two
// captures differ.
func renderBothThemes(t *testing.T, name string, o fyne.CanvasObject, size fyne.Size, set func()) {
	t.Helper()
	var caps []image.Image
	for _, th := range themes {
		cv := show(t, th.th, o, size)
		set()
		img := savePNG(t, cv, name+"-"+th.name)
		bg := th.th.Color(theme.ColorNameBackground, fyne.CurrentApp().Settings().ThemeVariant())
		total := img.Bounds().Dx() * img.Bounds().Dy()
		if n := inked(img, bg); n < total/50 {
			t.Errorf("%s %s: only %d of %d pixels differ from the background", name, th.name, n, total)
		}
		caps = append(caps, img)
	}
	if inked(caps[0], color.White) == inked(caps[1], color.White) {
		t.Errorf("%s: light and dark captures look the same", name)
	}
}

type textBox struct {
	text  string
	pos   fyne.Position
	width float32
}

func asText(o fyne.CanvasObject) (*textBox, bool) {
	t, ok := o.(*canvas.Text)
	if !ok || !t.Visible() {
		return nil, false
	}
	// The drawn width of the text, placed in its box by its alignment.
	w := fyne.MeasureText(t.Text, t.TextSize, t.TextStyle).Width
	x := t.Position().X
	switch t.Alignment {
	case fyne.TextAlignCenter:
		x += (t.Size().Width - w) / 2
	case fyne.TextAlignTrailing:
		x += t.Size().Width - w
	}
	return &textBox{text: t.Text, pos: fyne.NewPos(x, t.Position().Y), width: w}, true
}

// TestThemeSwitch checks that a chart already on screen recolours when the
// app's theme changes.
func TestThemeSwitch(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(lightTheme())
	c := NewStackedBars()
	w := test.NewTempWindow(t, c)
	w.Resize(fyne.NewSize(300, 150))
	c.SetData([]string{"web"}, []string{"inbound"}, [][]float64{{5}})
	label := func() color.Color {
		for _, o := range test.WidgetRenderer(c).Objects() {
			if tx, ok := o.(*canvas.Text); ok && tx.Text == "web" {
				return tx.Color
			}
		}
		t.Fatal("no label")
		return nil
	}
	light := label()
	a.Settings().SetTheme(darkTheme())
	if dark := label(); dark == light {
		t.Errorf("label colour %v did not change with the theme", dark)
	}
}

// TestTinySizes lays every chart out at sizes below its minimum, as a split
// or a shrinking window can: nothing may panic.
func TestTinySizes(t *testing.T) {
	test.NewTempApp(t)
	bars, donut, hours, rate := NewStackedBars(), NewDonut(), NewTimeBars(), NewSparkline()
	bars.SetData([]string{"a", "b", "c"}, []string{"inbound", "outbound"}, [][]float64{{1, 2}, {3, 4}, {5, 6}})
	donut.SetData([]string{"a", "b"}, []float64{1, 2})
	hours.SetData(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, []float64{1, 2, 3})
	rate.SetValues([]float64{1, 2, 3})
	for _, w := range []fyne.Widget{bars, donut, hours, rate} {
		r := test.WidgetRenderer(w)
		for _, s := range []fyne.Size{{Width: 0, Height: 0}, {Width: 1, Height: 1}, {Width: 10, Height: 10}, {Width: 30, Height: 30}, {Width: 100, Height: 20}, {Width: 20, Height: 100}} {
			r.Layout(s)
			w.Refresh()
		}
	}
}
