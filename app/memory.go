package app

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The readiness line's synthesis is the app's peak of memory: it runs beside
// the table and the first rules. While it runs, the collector targets less
// growth than the app's 25%, and the memory the heap frees is given back to
// the system as it goes, rather than left to the runtime's scavenger, which
// returns it at about 1% of a core. At that peak on wstag1m the process held
// 735–816 MB, of which 70–200 MB was free heap not yet returned, ~45 MB heap
// pages partly used, ~140 MB not Go's (under Xvfb: LLVM's software GL 55 MB,
// the binary's code 41 MB, C's heap 28 MB). One run each at load 7–9: 720 MB
// with the memory returned alone, 687 MB with a target of 15% too (the
// readiness line 14 s after the rules), 657–670 MB at 10% (21–32 s after).
const (
	tightGCPercent = 15
	tightEvery     = 20 * time.Millisecond
)

// tight counts the callers of tightMemory not yet released: the first one
// in saves the collector's settings and starts the watcher, the last one
// out restores them (readiness lines of two snapshots may compute at once).
var tight struct {
	sync.Mutex
	n          int
	oldPercent int
	oldLimit   int64
	stop, done chan struct{}
}

// tightMemory lowers the collector's target and keeps the runtime's memory
// near the heap's goal until release is called (once), which restores
// both when no other caller holds them. The memory limit it sets follows
// the target's goal, computed from the heap the last collection found live
// (the goal the runtime reports would follow the limit down), and stays
// above it: the collector runs about when the target says, and the memory
// freed goes back sooner.
func tightMemory() (release func()) {
	tight.Lock()
	defer tight.Unlock()
	if tight.n++; tight.n == 1 {
		tight.oldPercent = debug.SetGCPercent(tightGCPercent)
		tight.oldLimit = debug.SetMemoryLimit(-1)
		tight.stop, tight.done = make(chan struct{}), make(chan struct{})
		go followHeap(tight.oldLimit, tight.stop, tight.done)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			tight.Lock()
			defer tight.Unlock()
			if tight.n--; tight.n == 0 {
				close(tight.stop)
				<-tight.done
				debug.SetMemoryLimit(tight.oldLimit)
				debug.SetGCPercent(tight.oldPercent)
			}
		})
	}
}

// followHeap sets the memory limit from the live heap every tightEvery,
// never above most, until stop is closed; then it closes done.
func followHeap(most int64, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	t := time.NewTicker(tightEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		metrics.Read(s)
		live, total := s[0].Value.Uint64(), s[1].Value.Uint64()
		goal := live + live*tightGCPercent/100 // the target's, not the limit's
		var heap uint64                        // what the heap's pages take, used or not
		for _, x := range s[2:] {
			heap += x.Value.Uint64()
		}
		// The runtime's own memory beside the heap, the goal, and a
		// sixteenth of it for the pages partly used.
		limit := min(uint64(most), total-min(total, heap)+goal+goal/16)
		debug.SetMemoryLimit(int64(min(limit, math.MaxInt64)))
	}
}
