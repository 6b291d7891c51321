package app

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// TestTightMemory: while tight, the collector's target is tightGCPercent
// and a memory limit follows the heap, as long as one caller has not
// released it; the last release restores both as they were.
func TestTightMemory(t *testing.T) {
	read := func() (percent, limit uint64) {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64(), s[1].Value.Uint64()
	}
	defer debug.SetGCPercent(debug.SetGCPercent(40))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(8 << 30))
	release := tightMemory()
	second := tightMemory() // a second readiness line computing at once
	time.Sleep(5 * tightEvery)
	release()
	release() // once only
	percent, limit := read()
	if percent != tightGCPercent || limit >= 8<<30 || limit == 0 {
		t.Errorf("tight: GC percent %d, limit %d", percent, limit)
	}
	second()
	if percent, limit := read(); percent != 40 || limit != 8<<30 {
		t.Errorf("released: GC percent %d, limit %d; want 40, %d", percent, limit, 8<<30)
	}
}
