package app

import (
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"

	"github.com/flowsleuth/flowsleuth/analysis"
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

// OpenReport is how long opening a workspace took as a user sees it, and
// how long the Flows view took to sort and filter its conversations.
type OpenReport struct {
	Conversations int
	Overview      time.Duration // from Start to the Overview showing the conversations
	Flows         time.Duration // to the Flows view showing them
	Rules         time.Duration // to the rules shown (synthesised after the Overview)
	Steps         []OpenStep    // sorts and filters in the Flows view
}

// OpenStep is one sort or filter: from the request to the table showing
// its result.
type OpenStep struct {
	What string
	Took time.Duration
	Rows int
}

func (r OpenReport) String() string {
	s := fmt.Sprintf("%d conversations: overview %s, flows %s, rules %s", r.Conversations,
		r.Overview.Round(time.Millisecond), r.Flows.Round(time.Millisecond), r.Rules.Round(time.Millisecond))
	for _, st := range r.Steps {
		s += fmt.Sprintf("; %s %s (%d rows)", st.What, st.Took.Round(time.Millisecond), st.Rows)
	}
	return s
}

// ProbeOpen times the opening of the workspace Start opens (call it
// before Start), then sorts and filters in the Flows view as a user would,
// each timed from the request to the table showing its result, and calls
// report from a background goroutine.
func (u *UI) ProbeOpen(report func(OpenReport)) {
	type shown struct {
		s     *Snapshot
		rules bool
		at    time.Duration
	}
	shows := make(chan shown, 16)
	views := make(chan *FlowView, 16)
	u.onShown = func(s *Snapshot, rules bool) { shows <- shown{s, rules, time.Since(u.started)} }
	u.flows.onView = func(v *FlowView) { views <- v }
	go func() {
		var r OpenReport
		for r.Rules == 0 {
			sh := <-shows
			if r.Overview == 0 && sh.s.Convs.Len() > 0 {
				r.Overview, r.Conversations = sh.at, sh.s.Convs.Len()
			}
			if sh.rules && r.Overview != 0 {
				r.Rules = sh.at
			}
		}
		for v := range views { // the first view of the loaded conversations
			if v.Convs.Len() == r.Conversations {
				r.Flows = time.Since(u.started)
				break
			}
		}
		for _, st := range u.flowSteps() {
			start := time.Now()
			u.do(st.do)
			v := <-views
			r.Steps = append(r.Steps, OpenStep{What: st.what, Took: time.Since(start), Rows: v.Len()})
		}
		report(r)
	}()
}

// flowStep is a sort or a filter a user makes in the Flows view.
type flowStep struct {
	what string
	do   func() // on the UI goroutine: it starts a new view
}

// flowSteps are the probe's sorts and filters: on three columns, by the
// first two octets of the first row's source, by the name of its first tag,
// and back to everything.
func (u *UI) flowSteps() []flowStep {
	v := u.flows
	sort := func(col int, desc bool) func() {
		return func() { v.sortCol, v.desc = col, desc; v.refresh() }
	}
	filter := func(text string) func() {
		return func() { v.filter.Text = text; v.refresh() }
	}
	steps := []flowStep{{"sort by sessions", sort(ColSessions, true)}, {"sort by source", sort(ColSource, false)},
		{"sort by first seen", sort(ColFirst, false)}}
	var t *analysis.Table
	done := make(chan struct{})
	u.do(func() { t = v.snap.Convs; close(done) })
	<-done
	if t.Len() > 0 {
		if a := t.Src(0); a.Is4() {
			b := a.As4()
			steps = append(steps, flowStep{"filter " + fmt.Sprintf("%d.%d", b[0], b[1]), filter(fmt.Sprintf("%d.%d", b[0], b[1]))})
		}
		if tags := t.Tags(0); len(tags) > 0 {
			steps = append(steps, flowStep{"filter " + tags[0].Name, filter(tags[0].Name)})
		}
	}
	return append(steps, flowStep{"clear the filter", filter("")}, flowStep{"unsorted", sort(-1, false)})
}
