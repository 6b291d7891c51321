package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/flowsleuth/flowsleuth/analysis"
)

// plural writes a count and its noun: "1 source", "3,117 sources".
func plural(n int, noun string) string { return analysis.Plural(uint64(max(n, 0)), noun) }

// plural64 is plural for unsigned counts.
func plural64(n uint64, noun string) string { return analysis.Plural(n, noun) }

// nounFor is noun, in the plural unless n is 1.
func nounFor(n uint64, noun string) string { return analysis.Noun(n, noun) }

// columnWidths sizes table columns to their header (with room for the
// sort arrow) or their widest usual cell, whichever is wider, in the
// current theme's text size.
func columnWidths(headers, samples []string) []float32 {
	out := make([]float32, len(headers))
	size := theme.TextSize()
	for i, h := range headers {
		w := fyne.MeasureText(h+" ▼", size, fyne.TextStyle{}).Width
		if i < len(samples) {
			w = max(w, fyne.MeasureText(samples[i], size, fyne.TextStyle{}).Width)
		}
		out[i] = w + 2*theme.InnerPadding() + 2
	}
	return out
}

// rawText is a read-only, selectable block of raw log lines (evidence,
// samples, previews) in a scroll: foreground on background, never the grey
// of a disabled entry, so it reads in both themes (WCAG AA).
func rawText() (*widget.Label, fyne.CanvasObject) {
	l := widget.NewLabel("")
	l.TextStyle.Monospace = true
	l.Selectable = true
	return l, container.NewScroll(l)
}
