// Package chart holds FlowSleuth's small chart widgets: StackedBars, Donut,
// TimeBars and Sparkline. They are drawn from Fyne canvas primitives, follow
// the current theme (light and dark) and colour data from one fixed
// categorical palette, so every view colours tags and directions the same.
//
// The widgets are not safe for concurrent use: call their setters on the Fyne
// goroutine (inside fyne.Do from background work); each setter refreshes the
// widget. The package never imports fyne.io/fyne/v2/app, so its tests run on
// the headless test driver.
package chart

import (
	"image/color"
	"math"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Other is the index reported to tap callbacks for the synthetic "Other"
// entry that merges the items beyond a chart's top-N limit.
const Other = -1

// OtherLabel is the label of the synthetic entry that merges the items beyond
// a chart's top-N limit.
const OtherLabel = "Other"

// Formatter turns a value into the text shown on axes, legends and tooltips.
type Formatter func(v float64) string

// palette is Tableau 10: distinct hues that stay readable on white and on
// near-black backgrounds, and that survive the common colour-vision deficits
// better than fully saturated primaries.
var palette = [...]color.NRGBA{
	{0x4e, 0x79, 0xa7, 0xff}, // blue
	{0xf2, 0x8e, 0x2b, 0xff}, // orange
	{0x59, 0xa1, 0x4f, 0xff}, // green
	{0xe1, 0x57, 0x59, 0xff}, // red
	{0x76, 0xb7, 0xb2, 0xff}, // teal
	{0xed, 0xc9, 0x48, 0xff}, // yellow
	{0xb0, 0x7a, 0xa1, 0xff}, // purple
	{0xff, 0x9d, 0xa7, 0xff}, // pink
	{0x9c, 0x75, 0x5f, 0xff}, // brown
	{0xba, 0xb0, 0xac, 0xff}, // grey
}

// otherColor colours the merged "Other" entry and unknown directions.
var otherColor = color.NRGBA{0x8c, 0x8c, 0x8c, 0xff}

// Palette returns the i-th colour of the fixed categorical palette. It cycles
// after ten colours; a negative i (such as Other) gives a neutral grey.
func Palette(i int) color.Color {
	if i < 0 {
		return otherColor
	}
	return palette[i%len(palette)]
}

// DirectionColor returns the colour of a traffic direction, matched without
// regard to case: inbound blue, outbound orange, intra green, anything else
// (unknown, other) grey. Use it for every per-direction series.
func DirectionColor(direction string) color.Color {
	switch strings.ToLower(direction) {
	case "inbound", "in":
		return palette[0]
	case "outbound", "out":
		return palette[1]
	case "intra":
		return palette[2]
	}
	return otherColor
}

// Compact formats v with at most three significant digits and an SI suffix:
// 950, 1.2k, 12.4k, 340k, 5.6M, 7.8G, 1T. It is the default Formatter.
func Compact(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	case v < 0:
		return "-" + Compact(-v)
	case v == 0:
		return "0"
	}
	units := []string{"", "k", "M", "G", "T", "P", "E"}
	u := 0
	for v >= 999.5 && u < len(units)-1 {
		v /= 1000
		u++
	}
	var s string
	switch {
	case v >= 99.95:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 9.995 || u > 0:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 0.01:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + units[u]
}

// niceTicks returns tick values from 0 to a "nice" maximum ≥ max (steps of
// 1, 2, 2.5 or 5 × 10^k), n or n+1 of them, whichever wastes less room above
// max. A max ≤ 0 gives the ticks of 1.
func niceTicks(max float64, n int) []float64 {
	a, b := niceTicksN(max, n), niceTicksN(max, n+1)
	if b[len(b)-1] < a[len(a)-1] && len(b) <= n+2 {
		return b
	}
	return a
}

func niceTicksN(max float64, n int) []float64 {
	if !(max > 0) || math.IsInf(max, 0) {
		max = 1
	}
	if n < 1 {
		n = 1
	}
	rough := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(rough)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if rough <= m*mag {
			step = m * mag
			break
		}
	}
	count := int(math.Ceil(max/step - 1e-9))
	ticks := make([]float64, count+1)
	for i := range ticks {
		ticks[i] = float64(i) * step
	}
	return ticks
}

// colors are the theme colours one layout pass uses.
type colors struct {
	fg, muted, grid, bg, tipBg, tipBorder color.Color
}

func themeColors(w fyne.Widget) colors {
	fg := theme.ColorForWidget(theme.ColorNameForeground, w)
	return colors{
		fg:        fg,
		muted:     theme.ColorForWidget(theme.ColorNamePlaceHolder, w),
		grid:      fadeColor(fg, 0.12), // the separator colour vanishes in dark mode
		bg:        theme.ColorForWidget(theme.ColorNameBackground, w),
		tipBg:     theme.ColorForWidget(theme.ColorNameOverlayBackground, w),
		tipBorder: theme.ColorForWidget(theme.ColorNameInputBorder, w),
	}
}

// sizes are the theme sizes one layout pass uses.
type sizes struct {
	pad, text, caption float32
}

func themeSizes(w fyne.Widget) sizes {
	return sizes{
		pad:     theme.SizeForWidget(theme.SizeNamePadding, w),
		text:    theme.SizeForWidget(theme.SizeNameText, w),
		caption: theme.SizeForWidget(theme.SizeNameCaptionText, w),
	}
}

// measured caches text sizes: layout measures the same labels on every
// refresh (10 Hz for a live chart), and measuring shapes the text each time.
var measured struct {
	sync.Mutex
	m map[measureKey]fyne.Size
}

type measureKey struct {
	s    string
	size float32
}

// measure returns the rendered size of s in the regular style.
func measure(s string, size float32) fyne.Size {
	k := measureKey{s, size}
	measured.Lock()
	sz, ok := measured.m[k]
	measured.Unlock()
	if ok {
		return sz
	}
	sz = fyne.MeasureText(s, size, fyne.TextStyle{})
	measured.Lock()
	if measured.m == nil || len(measured.m) > 8192 { // live values keep changing: bound it
		measured.m = make(map[measureKey]fyne.Size)
	}
	measured.m[k] = sz
	measured.Unlock()
	return sz
}

// textWidth is the rendered width of s.
func textWidth(s string, size float32) float32 {
	return measure(s, size).Width
}

// ellipsis shortens s with a trailing "…" until it fits width.
func ellipsis(s string, size, width float32) string {
	if textWidth(s, size) <= width {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r) // the longest prefix that fits is in [lo, hi)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if textWidth(string(r[:mid])+"…", size) <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return ""
	}
	return string(r[:lo]) + "…"
}

// fadeColor returns c with its alpha scaled by f, to dim the entries that are
// not hovered.
func fadeColor(c color.Color, f float64) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = uint8(float64(n.A) * f)
	return n
}

// sum adds the finite, positive values of vs.
func sum(vs []float64) float64 {
	t := 0.0
	for _, v := range vs {
		t += clean(v)
	}
	return t
}

// clean maps NaN, infinities and negative values to 0: the charts show
// counts, and one bad value must not wreck the scale.
func clean(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// snap rounds a coordinate to a whole unit, so rectangles start and end on
// pixel edges (at scale 1) instead of blurring across two pixels.
func snap(v float32) float32 {
	return float32(math.Round(float64(v)))
}
