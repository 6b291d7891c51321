package app

import (
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"

	"github.com/flowsleuth/flowsleuth/analysis/workspace"
)

// LatencyReport is how long functions queued for the UI goroutine waited
// to run: the event loop's latency, which is what a user feels as lag.
type LatencyReport struct {
	Samples       int
	P50, P99, Max time.Duration
	Elapsed       time.Duration // the import's duration (or the idle period)
	Err           error         // the import's error
}

func (r LatencyReport) String() string {
	return fmt.Sprintf("%d samples over %s: p50 %s, p99 %s, max %s", r.Samples, r.Elapsed.Round(time.Millisecond),
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
}

// probeEvery is the latency sampling period; probeWarmup is left to the
// window's first frames (software GL under Xvfb takes a while) first.
const (
	probeEvery  = 10 * time.Millisecond
	probeWarmup = time.Second
)

// ProbeLatency measures the UI's event-loop latency while importing files
// through the Sources view (as a user's import would run), or for idle when
// files is empty, then calls report from a background goroutine. Every
// probeEvery it queues a function with fyne.Do and records how long it
// waited to run; one probe is in flight at a time. It blocks for the
// warm-up, so call it off the UI goroutine.
func (u *UI) ProbeLatency(files []string, idle time.Duration, report func(LatencyReport)) {
	time.Sleep(probeWarmup)
	done := make(chan error, 1)
	start := time.Now()
	if len(files) > 0 {
		u.sources.onDone = func(_ []workspace.FileResult, err error) { done <- err }
		u.do(func() { u.sources.importFiles(files) })
	} else {
		go func() { time.Sleep(idle); done <- nil }()
	}
	go func() {
		var lat []time.Duration
		ran := make(chan time.Duration, 1)
		t := time.NewTicker(probeEvery)
		defer t.Stop()
		for {
			select {
			case err := <-done:
				report(latencyReport(lat, time.Since(start), err))
				return
			case <-t.C:
			}
			queued := time.Now()
			fyne.Do(func() { ran <- time.Since(queued) })
			select {
			case d := <-ran:
				lat = append(lat, d)
			case err := <-done: // the loop is stuck past the import's end
				lat = append(lat, time.Since(queued))
				report(latencyReport(lat, time.Since(start), err))
				return
			}
		}
	}()
}

func latencyReport(lat []time.Duration, elapsed time.Duration, err error) LatencyReport {
	r := LatencyReport{Samples: len(lat), Elapsed: elapsed, Err: err}
	if len(lat) == 0 {
		return r
	}
	slices.Sort(lat)
	r.P50 = lat[len(lat)/2]
	r.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	r.Max = lat[len(lat)-1]
	return r
}
