package chart

import (
	"math"
	"slices"
	"testing"
)

func TestCompact(t *testing.T) {
	tests := []struct {
		In   float64
		Want string
	}{
		{0, "0"},
		{1, "1"},
		{7.25, "7.25"},
		{12.5, "12.5"},
		{950, "950"},
		{999, "999"},
		{999.6, "1k"},
		{1000, "1k"},
		{1234, "1.2k"},
		{12400, "12.4k"},
		{99960, "100k"},
		{340000, "340k"},
		{5.6e6, "5.6M"},
		{7.8e9, "7.8G"},
		{1e12, "1T"},
		{2.5e15, "2.5P"},
		{-1500, "-1.5k"},
		{0.001, "0.001"},
		{math.NaN(), "–"},
		{math.Inf(1), "∞"},
	}
	for _, tc := range tests {
		if got := Compact(tc.In); got != tc.Want {
			t.Errorf("Compact(%v) = %q, want %q", tc.In, got, tc.Want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		Name string
		Max  float64
		N    int
		Want []float64
	}{
		{"zero max gives 0..1", 0, 4, []float64{0, 0.25, 0.5, 0.75, 1}},
		{"NaN max gives 0..1", math.NaN(), 1, []float64{0, 1}},
		{"exact", 100, 5, []float64{0, 20, 40, 60, 80, 100}},
		{"rounds up", 15900, 4, []float64{0, 5000, 10000, 15000, 20000}},
		{"huge", 1.3e12, 3, []float64{0, 5e11, 1e12, 1.5e12}},
		{"one tick", 7, 1, []float64{0, 10}},
		{"small", 0.37, 4, []float64{0, 0.1, 0.2, 0.3, 0.4}},
		{"one more tick wastes less", 420, 4, []float64{0, 100, 200, 300, 400, 500}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			got := niceTicks(tc.Max, tc.N)
			if len(got) != len(tc.Want) {
				t.Fatalf("niceTicks(%v, %d) = %v, want %v", tc.Max, tc.N, got, tc.Want)
			}
			for i := range got {
				if math.Abs(got[i]-tc.Want[i]) > 1e-9*math.Max(1, tc.Want[i]) {
					t.Fatalf("niceTicks(%v, %d) = %v, want %v", tc.Max, tc.N, got, tc.Want)
				}
			}
		})
	}
}

func TestDirectionColor(t *testing.T) {
	if DirectionColor("INBOUND") != DirectionColor("inbound") {
		t.Error("direction colours must not depend on case")
	}
	dirs := []string{"inbound", "outbound", "intra", "unknown"}
	var seen []string
	for _, d := range dirs {
		r, g, b, _ := DirectionColor(d).RGBA()
		key := string(rune(r)) + string(rune(g)) + string(rune(b))
		if slices.Contains(seen, key) {
			t.Errorf("%s shares its colour with another direction", d)
		}
		seen = append(seen, key)
	}
	if Palette(0) != Palette(10) || Palette(1) == Palette(0) {
		t.Error("the palette should cycle after ten distinct colours")
	}
	if Palette(Other) != DirectionColor("unknown") {
		t.Error("Other and unknown should share the neutral grey")
	}
}
