package export

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// TestRuleSamplesChunks: the lines of rule after rule, over several chunks
// read ahead on another goroutine, each rule's own and in order; stopping
// early, before every chunk was taken, ends that goroutine.
func TestRuleSamplesChunks(t *testing.T) {
	rs := rules.Set{Rules: make([]rules.Rule, 2500)}
	for i := range rs.Rules {
		rs.Rules[i].Evidence.Samples = []string{strconv.Itoa(i)}
	}
	next, stop := ruleSamples(&rs)
	for i := range rs.Rules {
		if got := next(i); len(got) != 1 || got[0] != strconv.Itoa(i) {
			t.Fatalf("rule %d: samples %q", i, got)
		}
	}
	stop()
	stop() // twice is safe
	before := runtime.NumGoroutine()
	next, stop = ruleSamples(&rs)
	if got := next(0); got[0] != "0" {
		t.Fatalf("rule 0: samples %q", got)
	}
	stop()
	for range 100 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines after stop, %d before", runtime.NumGoroutine(), before)
}
