package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestScreenshots starts the real binary in a real window under Xvfb, once
// per view, through testdata/gui/screenshots.sh (what `make screenshots`
// runs), and checks each picture: the window covers exactly 1280×800 of
// the 1400×900 screen and is not blank.
func TestScreenshots(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the app under Xvfb six times (~30 s)")
	}
	t.Parallel() // subprocesses and files of its own: overlaps the other long end-to-end tests
	for _, tool := range []string{"Xvfb", "xwd", "xwdtopnm", "pnmtopng", "pnmcut"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: make deps installs it", tool)
			}
			t.Skipf("%s is missing (make deps installs it)", tool)
		}
	}
	out := t.TempDir()
	cmd := childCommand("testdata/gui/screenshots.sh", out)
	cmd.Env = append(os.Environ(), "BIN="+binary(t), "RAW=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshots.sh: %v\n%s", err, b)
	}
	for _, view := range []string{"overview", "flows", "rules", "sources", "listener", "export"} {
		t.Run(view, func(t *testing.T) {
			shot := decodePNG(t, filepath.Join(out, view+".png"))
			if b := shot.Bounds(); b.Dx() != 1280 || b.Dy() != 800 {
				t.Errorf("window picture is %v", b.Size())
			}
			screen := decodePNG(t, filepath.Join(out, view+"-screen.png"))
			w, h := extent(screen)
			if w != 1280 || h != 800 {
				t.Errorf("the window covers %d×%d of the screen, want 1280×800", w, h)
			}
			colors, top := palette(shot)
			if colors < 50 || top > 0.97 {
				t.Errorf("window looks blank: %d colours, the commonest covers %.0f%%", colors, top*100)
			}
		})
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// extent is the size of the screen's non-black area from the top left
// corner: the window (without a window manager it sits at 0,0 on the
// black root window).
func extent(img image.Image) (w, h int) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r|g|bl != 0 {
				w, h = max(w, x+1), max(h, y+1)
			}
		}
	}
	return w, h
}

// palette counts the distinct colours of img and the share of the commonest.
func palette(img image.Image) (int, float64) {
	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}]++
		}
	}
	top := 0
	for _, n := range counts {
		top = max(top, n)
	}
	return len(counts), float64(top) / float64(b.Dx()*b.Dy())
}
