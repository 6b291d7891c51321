package chart

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// scene is the set of canvas objects of one layout pass. It recycles the
// objects of the previous pass, so a refresh at 10 Hz allocates nothing once
// the shape of the chart is stable, and it remembers the drawing order.
type scene struct {
	rects   []*canvas.Rectangle
	texts   []*canvas.Text
	lines   []*canvas.Line
	arcs    []*canvas.Arc
	rasters []*canvas.Raster
	drawn   []textState // per pooled text, its state at the last refresh
	nr, nt  int
	nl, na  int
	nrs     int
	order   []fyne.CanvasObject
}

func (s *scene) reset() {
	s.nr, s.nt, s.nl, s.na, s.nrs = 0, 0, 0, 0, 0
	s.order = s.order[:0]
}

func (s *scene) rect(fill color.Color, pos fyne.Position, size fyne.Size) *canvas.Rectangle {
	if s.nr == len(s.rects) {
		s.rects = append(s.rects, &canvas.Rectangle{})
	}
	r := s.rects[s.nr]
	s.nr++
	*r = canvas.Rectangle{FillColor: fill}
	r.Move(pos)
	r.Resize(size)
	s.order = append(s.order, r)
	return r
}

// text places a single-line label in the box at pos with the given width;
// the box is as tall as the text.
func (s *scene) text(str string, c color.Color, size float32, pos fyne.Position, width float32, align fyne.TextAlign) *canvas.Text {
	if s.nt == len(s.texts) {
		s.texts = append(s.texts, &canvas.Text{})
	}
	t := s.texts[s.nt]
	s.nt++
	t.Text, t.Color, t.TextSize, t.Alignment = str, c, size, align
	t.TextStyle = fyne.TextStyle{}
	t.Move(pos)
	t.Resize(fyne.NewSize(width, lineHeight(size)))
	s.order = append(s.order, t)
	return t
}

func (s *scene) line(c color.Color, width float32, p1, p2 fyne.Position) *canvas.Line {
	if s.nl == len(s.lines) {
		s.lines = append(s.lines, &canvas.Line{})
	}
	l := s.lines[s.nl]
	s.nl++
	l.StrokeColor, l.StrokeWidth = c, width
	l.Position1, l.Position2 = p1, p2
	s.order = append(s.order, l)
	return l
}

// arc places an arc whose bounding square is centred on centre.
func (s *scene) arc(c color.Color, start, end, cutout float32, centre fyne.Position, radius float32) *canvas.Arc {
	if s.na == len(s.arcs) {
		s.arcs = append(s.arcs, &canvas.Arc{})
	}
	a := s.arcs[s.na]
	s.na++
	a.FillColor, a.StartAngle, a.EndAngle, a.CutoutRatio = c, start, end, cutout
	a.StrokeColor, a.StrokeWidth, a.CornerRadius = nil, 0, 0
	a.Move(fyne.NewPos(centre.X-radius, centre.Y-radius))
	a.Resize(fyne.NewSquareSize(2 * radius))
	s.order = append(s.order, a)
	return a
}

// tooltip draws a bordered box with text centred above anchor (below it
// when there is no room above), kept inside bounds.
func (s *scene) tooltip(str string, anchor fyne.Position, bounds fyne.Size, c colors, z sizes) {
	s.tooltipSide(str, anchor, 0, -1, bounds, c, z)
}

// tooltipSide draws a tooltip on one side of anchor: dx < 0 puts the box to
// its left, dx > 0 to its right, 0 centres it; dy < 0 puts it above, else
// below. The box flips vertically when there is no room and stays in bounds.
func (s *scene) tooltipSide(str string, anchor fyne.Position, dx, dy int, bounds fyne.Size, c colors, z sizes) {
	w := textWidth(str, z.caption) + 2*z.pad + 4
	h := lineHeight(z.caption) + z.pad + 2
	left, right := anchor.X-w-z.pad, anchor.X+z.pad
	x := anchor.X - w/2
	switch {
	case dx < 0 && left < 0, dx > 0 && right+w <= bounds.Width:
		x = right
	case dx != 0:
		x = left
	}
	y := anchor.Y + z.pad
	if dy < 0 {
		y = anchor.Y - h - z.pad
	}
	if y < 0 {
		y = anchor.Y + z.pad
	} else if y+h > bounds.Height {
		y = anchor.Y - h - z.pad
	}
	x = clamp(x, 0, bounds.Width-w)
	y = clamp(y, 0, bounds.Height-h)
	r := s.rect(c.tipBg, fyne.NewPos(x, y), fyne.NewSize(w, h))
	r.StrokeColor, r.StrokeWidth, r.CornerRadius = c.tipBorder, 1, 3
	s.text(str, c.fg, z.caption, fyne.NewPos(x, y+(h-lineHeight(z.caption))/2), w, fyne.TextAlignCenter)
}

// noData draws the centred "No data" message.
func (s *scene) noData(size fyne.Size, c colors, z sizes) {
	h := lineHeight(z.text)
	s.text("No data", c.muted, z.text, fyne.NewPos(0, (size.Height-h)/2), size.Width, fyne.TextAlignCenter)
}

// lineHeight is the height of one line of text of the given size.
func lineHeight(size float32) float32 {
	return measure("Mg", size).Height
}

func clamp(v, lo, hi float32) float32 {
	if v > hi {
		v = hi
	}
	if v < lo {
		v = lo
	}
	return v
}

// renderer is the WidgetRenderer of every chart: build draws the whole chart
// into the scene for a size; min is the widget's minimum size.
type renderer struct {
	scene scene
	objs  []fyne.CanvasObject
	size  fyne.Size
	build func(s *scene, size fyne.Size)
	min   func() fyne.Size
}

func newRenderer(min fyne.Size, build func(s *scene, size fyne.Size)) *renderer {
	return &renderer{build: build, min: func() fyne.Size { return min }}
}

func (r *renderer) Layout(size fyne.Size) {
	r.size = size
	r.scene.reset()
	r.build(&r.scene, size)
	r.objs = r.scene.order
}

func (r *renderer) MinSize() fyne.Size { return r.min() }

func (r *renderer) Objects() []fyne.CanvasObject { return r.objs }

// Refresh rebuilds the scene and refreshes its objects, so drivers that
// cache a texture per object (GL: texts and rasters) redraw the recycled
// ones. A text is refreshed only when its texture would change: a hover
// then re-renders the tooltip, not fifty unchanged category labels.
func (r *renderer) Refresh() {
	r.Layout(r.size)
	s := &r.scene
	if len(s.drawn) < s.nt {
		s.drawn = append(s.drawn, make([]textState, s.nt-len(s.drawn))...)
	}
	for i, t := range s.texts[:s.nt] {
		if st := stateOf(t); st != s.drawn[i] {
			s.drawn[i] = st
			t.Refresh()
		}
	}
	for _, o := range r.objs {
		if _, ok := o.(*canvas.Text); !ok {
			o.Refresh() // shapes have no texture; this marks the canvas dirty
		}
	}
}

// textState is what a text's texture depends on.
type textState struct {
	text       string
	size       float32
	style      fyne.TextStyle
	r, g, b, a uint32
}

func stateOf(t *canvas.Text) textState {
	st := textState{text: t.Text, size: t.TextSize, style: t.TextStyle}
	if t.Color != nil {
		st.r, st.g, st.b, st.a = t.Color.RGBA()
	}
	return st
}

func (r *renderer) Destroy() {}
