package workspace

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's target percentage.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestLowGCOverlapping: two commits at once, ending in either order, leave
// the collector as it was, and low while either runs.
func TestLowGCOverlapping(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	a, b := lowGC(), lowGC()
	a()
	if p := gcPercent(); p != commitGCPercent {
		t.Fatalf("one commit still running: %d, want %d", p, commitGCPercent)
	}
	b()
	if p := gcPercent(); p != 150 {
		t.Fatalf("after both: %d, want 150", p)
	}
}
