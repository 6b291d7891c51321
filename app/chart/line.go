package chart

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// A polyline is drawn into a canvas.Raster rather than from canvas.Line
// segments: the software painter (test driver, screenshots) clips the end of
// every stroked Line, which breaks a polyline into dashes, and one raster
// per line is also cheaper to refresh at 10 Hz than a hundred Line objects.

// polyline is a line through points given in the raster's own coordinates
// (Fyne units); a NaN Y leaves a gap. fill, if not nil, shades the area
// between the line and the raster's bottom edge.
type polyline struct {
	pts    []fyne.Position
	stroke color.Color
	width  float32
	fill   color.Color
}

// image renders the polyline at w×h pixels for a raster of the given size.
func (p polyline) image(w, h int, size fyne.Size) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w <= 0 || h <= 0 || size.Width <= 0 || size.Height <= 0 {
		return img
	}
	sx, sy := float64(w)/float64(size.Width), float64(h)/float64(size.Height)
	px := make([][2]float64, len(p.pts))
	for i, q := range p.pts {
		px[i] = [2]float64{float64(q.X) * sx, float64(q.Y) * sy}
	}
	if p.fill != nil {
		fillBelow(img, px, p.fill)
	}
	cover := make([]float32, w*h)
	half := float64(p.width) * sx / 2
	for i := 1; i < len(px); i++ {
		a, b := px[i-1], px[i]
		if math.IsNaN(a[1]) || math.IsNaN(b[1]) {
			continue
		}
		strokeSegment(cover, w, h, a, b, half)
	}
	if len(px) == 1 && !math.IsNaN(px[0][1]) {
		strokeSegment(cover, w, h, px[0], px[0], half*1.5) // a lone point is a dot
	}
	blend(img, cover, p.stroke)
	return img
}

// strokeSegment records, per pixel, the coverage of a round-capped segment
// of half-width r: 1 inside, fading over one pixel at the edge. Keeping the
// maximum (not the sum) avoids dark knots where segments join.
func strokeSegment(cover []float32, w, h int, a, b [2]float64, r float64) {
	x0 := max(0, int(math.Floor(math.Min(a[0], b[0])-r-1)))
	x1 := min(w-1, int(math.Ceil(math.Max(a[0], b[0])+r+1)))
	y0 := max(0, int(math.Floor(math.Min(a[1], b[1])-r-1)))
	y1 := min(h-1, int(math.Ceil(math.Max(a[1], b[1])+r+1)))
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			cx, cy := float64(x)+0.5, float64(y)+0.5
			t := 0.0
			if l2 > 0 {
				t = math.Max(0, math.Min(1, ((cx-a[0])*dx+(cy-a[1])*dy)/l2))
			}
			d := math.Hypot(cx-a[0]-t*dx, cy-a[1]-t*dy)
			c := float32(math.Max(0, math.Min(1, r+0.5-d)))
			if i := y*w + x; c > cover[i] {
				cover[i] = c
			}
		}
	}
}

// fillBelow shades each pixel column below the line, interpolating between
// the points; gaps (NaN) are left empty.
func fillBelow(img *image.NRGBA, px [][2]float64, c color.Color) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	for i := 1; i < len(px); i++ {
		a, b := px[i-1], px[i]
		if math.IsNaN(a[1]) || math.IsNaN(b[1]) || b[0] <= a[0] {
			continue
		}
		for x := max(0, int(math.Floor(a[0]))); x < min(w, int(math.Ceil(b[0]))); x++ {
			t := (float64(x) + 0.5 - a[0]) / (b[0] - a[0])
			top := int(math.Round(a[1] + t*(b[1]-a[1])))
			for y := max(0, top); y < h; y++ {
				img.SetNRGBA(x, y, n)
			}
		}
	}
}

// blend paints colour c over img with the per-pixel coverage.
func blend(img *image.NRGBA, cover []float32, c color.Color) {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	for i, a := range cover {
		if a <= 0 {
			continue
		}
		fa := float32(n.A) / 255 * a
		o := img.Pix[i*4 : i*4+4]
		ba := float32(o[3]) / 255
		outA := fa + ba*(1-fa)
		for k, v := range [3]uint8{n.R, n.G, n.B} {
			o[k] = uint8((float32(v)*fa + float32(o[k])*ba*(1-fa)) / outA)
		}
		o[3] = uint8(outA * 255)
	}
}

// raster places a raster that draws p over the box at pos with the given
// size.
func (s *scene) raster(p polyline, pos fyne.Position, size fyne.Size) *canvas.Raster {
	if s.nrs == len(s.rasters) {
		s.rasters = append(s.rasters, canvas.NewRaster(nil))
	}
	r := s.rasters[s.nrs]
	s.nrs++
	r.Generator = func(w, h int) image.Image { return p.image(w, h, size) }
	r.Move(pos)
	r.Resize(size)
	s.order = append(s.order, r)
	return r
}
