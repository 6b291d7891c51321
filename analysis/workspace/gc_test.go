package workspace

import (
	"runtime/debug"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// gcPercent reads the collector's target percentage.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestLowGCOverlapping: two commits at once, ending in either order, leave
// the collector as it was, and low while either runs; a commit inside an
// import lowers it further, and the import's target holds again after it.
func TestLowGCOverlapping(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	a, b := analysis.LowerGC(commitGCPercent), analysis.LowerGC(commitGCPercent)
	a()
	if p := gcPercent(); p != commitGCPercent {
		t.Fatalf("one commit still running: %d, want %d", p, commitGCPercent)
	}
	b()
	if p := gcPercent(); p != 150 {
		t.Fatalf("after both: %d, want 150", p)
	}
	read := analysis.LowerGC(readGCPercent)
	commit := analysis.LowerGC(commitGCPercent)
	if p := gcPercent(); p != commitGCPercent {
		t.Fatalf("committing: %d, want %d", p, commitGCPercent)
	}
	commit()
	if p := gcPercent(); p != readGCPercent {
		t.Fatalf("reading again: %d, want %d", p, readGCPercent)
	}
	read()
	if p := gcPercent(); p != 150 {
		t.Fatalf("after the import: %d, want 150", p)
	}
}

// TestLowerGCKeepsALowerTarget: a process that collects more often than an
// import asks (the app) keeps its own target.
func TestLowerGCKeepsALowerTarget(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	done := analysis.LowerGC(readGCPercent)
	if p := gcPercent(); p != 25 {
		t.Errorf("while importing: %d, want 25", p)
	}
	done()
	if p := gcPercent(); p != 25 {
		t.Errorf("after: %d, want 25", p)
	}
}
