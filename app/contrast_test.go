package app

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// luminance is the WCAG 2.x relative luminance of c.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// over blends c over an opaque background.
func over(c, bg color.Color) color.Color {
	r, g, b, a := c.RGBA()
	br, bgg, bb, _ := bg.RGBA()
	mix := func(x, y uint32) uint8 { return uint8((x + y*(0xffff-a)/0xffff) >> 8) }
	return color.RGBA{mix(r, br), mix(g, bgg), mix(b, bb), 0xff}
}

// contrast is the WCAG contrast ratio of text colour fg on bg.
func contrast(fg, bg color.Color) float64 {
	l1, l2 := luminance(over(fg, bg)), luminance(bg)
	return (max(l1, l2) + 0.05) / (min(l1, l2) + 0.05)
}

// texts returns the text objects o draws.
func texts(o fyne.CanvasObject) []*canvas.Text {
	switch x := o.(type) {
	case *canvas.Text:
		return []*canvas.Text{x}
	case *fyne.Container:
		var out []*canvas.Text
		for _, c := range x.Objects {
			out = append(out, texts(c)...)
		}
		return out
	case fyne.Widget:
		var out []*canvas.Text
		for _, c := range test.WidgetRenderer(x).Objects() {
			out = append(out, texts(c)...)
		}
		return out
	}
	return nil
}

// TestRawTextContrast renders the raw-line panes (flow evidence, rule
// samples, export preview) in the light and the dark theme and checks the
// contrast of their text on the background: at least 4.5:1 (WCAG AA).
// A disabled entry, which they were, gives about 2:1 in the light theme.
func TestRawTextContrast(t *testing.T) {
	u := demoUI(t)
	onUI(func() {
		u.flows.table.selectRow(0)
		u.rules.table.selectRow(0)
		u.export.targets[4].check.SetChecked(true)
	})
	// The preview renders in the background: wait for it (reading the
	// label on the UI goroutine, which writes it).
	eventually(t, "the export preview", func() bool {
		var text string
		onUI(func() { text = u.export.preview.Text })
		return text != "" && text != "Preparing the preview…"
	})
	panes := map[string]*widget.Label{"flow evidence": u.flows.evidence, "rule samples": u.rules.samples,
		"export preview": u.export.preview}
	for _, name := range []string{"light", "dark"} {
		onUI(func() { applyTheme(u.app, name) })
		th := u.app.Settings().Theme()
		bg := th.Color(theme.ColorNameBackground, u.app.Settings().ThemeVariant())
		for pane, l := range panes {
			var ts []*canvas.Text
			var text string
			onUI(func() {
				l.Refresh()
				ts, text = texts(l), l.Text
			})
			if len(ts) == 0 || text == "" {
				t.Errorf("%s, %s theme: nothing shown", pane, name)
				continue
			}
			for _, tx := range ts {
				if tx.Text == "" {
					continue
				}
				if c := contrast(tx.Color, bg); c < 4.5 {
					t.Errorf("%s, %s theme: %q has contrast %.1f:1, want at least 4.5:1", pane, name, tx.Text, c)
					break
				}
			}
		}
	}
}

// TestContrastMaths checks the formula on known pairs.
func TestContrastMaths(t *testing.T) {
	black, white := color.Black, color.White
	if c := contrast(black, white); math.Abs(c-21) > 0.01 {
		t.Errorf("black on white %.2f, want 21", c)
	}
	if c := contrast(color.RGBA{0x77, 0x77, 0x77, 0xff}, white); math.Abs(c-4.48) > 0.01 {
		t.Errorf("#777 on white %.2f, want 4.48", c)
	}
}

// TestDisabledEntryContrast shows the test above can fail: the disabled
// entry the raw lines used to be in is grey on grey in the light theme.
func TestDisabledEntryContrast(t *testing.T) {
	a := test.NewTempApp(t)
	applyTheme(a, "light")
	e := widget.NewMultiLineEntry()
	e.SetText("<14>2025-04-07T11:57:21.382Z esx-01 dfwpktlogs: 56837 INET match PASS")
	e.Disable()
	w := test.NewTempWindow(t, e)
	w.Resize(fyne.NewSize(600, 100))
	bg := a.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantLight)
	worst := 21.0
	for _, tx := range texts(e) {
		if tx.Text != "" {
			worst = min(worst, contrast(tx.Color, bg))
		}
	}
	if worst >= 4.5 {
		t.Errorf("a disabled entry's text has contrast %.1f:1: the contrast test could not tell", worst)
	}
}
