package workspace

import (
	"runtime"
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

// TestCommitGC: a commit lets the heap grow as far as commitBudget allows
// beside the model's memory outside the heap, from commitGCPercent to
// readGCPercent: the NSX corpus's few open connections leave it room, a
// million open connections none, and an import that drained commits at
// commitGCPercent.
func TestCommitGC(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name          string
		drained       bool
		outside, live int64
		want          int
	}{
		{"NSX corpus, new workspace", false, 2 * mib, 46 * mib, readGCPercent},
		{"NSX corpus, next day", false, 7 * mib, 49 * mib, readGCPercent},
		{"Nutanix corpus, a million open connections", false, 51 * mib, 48 * mib, commitGCPercent},
		{"a large live heap", false, 0, 400 * mib, commitGCPercent},
		{"some room", false, 16 * mib, 64 * mib, 25},
		{"the runtime says nothing", false, 0, 0, commitGCPercent},
		{"a million conversations, drained", true, 1 * mib, 30 * mib, commitGCPercent},
	} {
		if got := commitGC(c.drained, c.outside, c.live); got != c.want {
			t.Errorf("%s (%d MiB outside, %d MiB live): %d, want %d", c.name, c.outside/mib, c.live/mib, got, c.want)
		}
	}
	runtime.GC() // before the first collection, none is known
	if liveHeap() <= 0 {
		t.Error("the runtime reports no live heap after a collection")
	}
}
