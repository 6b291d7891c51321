package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
)

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
		u.own(func() {
			select {
			case <-time.After(idle):
				done <- nil
			case <-u.ctx.Done():
			}
		})
	}
	u.own(func() {
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
			case <-u.ctx.Done(): // the window closed
				return
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
			case <-u.ctx.Done():
				return
			}
		}
	})
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

// ProbeOpen times the opening of the workspace Start opens (call it
// before Start), then sorts and filters in the Flows view as a user would,
// each timed from the request to the table showing its result, then waits
// for the Overview's readiness line (computed after the Overview and before
// the rules: the process's peak of memory is that work's; shown before the
// sorts, but a line computed again after them would be waited for), and
// calls report from a goroutine the UI owns (nothing when the window
// closes first).
func (u *UI) ProbeOpen(report func(OpenReport)) {
	shows := make(chan probeShown, 16)
	views := make(chan *FlowView, 16)
	ready := make(chan time.Duration, 1)
	u.onShown = func(s *Snapshot, rules bool) { shows <- probeShown{s, rules, time.Since(u.started)} }
	u.flows.onView = func(v *FlowView) { views <- v }
	u.overview.ready.onShown = func() {
		select {
		case ready <- time.Since(u.started): // the first line shown
		default:
		}
	}
	u.own(func() {
		var r OpenReport
		if !u.awaitOpen(&r, shows, views) {
			return
		}
		steps, ok := u.flowSteps()
		if !ok {
			return
		}
		for _, st := range steps {
			start := time.Now()
			u.do(st.do)
			v, ok := await(u.ctx, views)
			if !ok {
				return
			}
			r.Steps = append(r.Steps, OpenStep{What: st.what, Took: time.Since(start), Rows: v.Len()})
		}
		if r.Readiness, ok = await(u.ctx, ready); !ok {
			return
		}
		report(r)
	})
}

// probeShown is a snapshot every view showed (UI.onShown), at a time since Start.
type probeShown struct {
	s     *Snapshot
	rules bool
	at    time.Duration
}

// awaitOpen fills r from the snapshots shown and the Flows view's views
// until the rules and the loaded conversations' first view are shown;
// false when the window closes first.
func (u *UI) awaitOpen(r *OpenReport, shows <-chan probeShown, views <-chan *FlowView) bool {
	for r.Rules == 0 {
		sh, ok := await(u.ctx, shows)
		if !ok {
			return false
		}
		if r.Overview == 0 && sh.s.Convs.Len() > 0 {
			r.Overview, r.Conversations = sh.at, sh.s.Convs.Len()
		}
		if sh.rules && r.Overview != 0 {
			r.Rules = sh.at
		}
	}
	for { // the first view of the loaded conversations
		v, ok := await(u.ctx, views)
		if !ok {
			return false
		}
		if v.Convs.Len() == r.Conversations {
			r.Flows = time.Since(u.started)
			return true
		}
	}
}

// await receives from c; false when ctx ends first.
func await[T any](ctx context.Context, c <-chan T) (T, bool) {
	select {
	case v := <-c:
		return v, true
	case <-ctx.Done():
		var zero T
		return zero, false
	}
}

// flowStep is a sort or a filter a user makes in the Flows view.
type flowStep struct {
	what string
	do   func() // on the UI goroutine: it starts a new view
}

// flowSteps are the probe's sorts and filters: on three columns, by the
// first two octets of the first row's source, by the name of its first tag,
// and back to everything; false when the window closes first.
func (u *UI) flowSteps() ([]flowStep, bool) {
	v := u.flows
	sort := func(col int, desc bool) func() {
		return func() { v.sortCol, v.desc = col, desc; v.refresh() }
	}
	filter := func(text string) func() {
		return func() { v.filter.Text = text; v.refresh() }
	}
	steps := []flowStep{{"sort by sessions", sort(ColSessions, true)}, {"sort by source", sort(ColSource, false)},
		{"sort by first seen", sort(ColFirst, false)}}
	tables := make(chan *analysis.Table, 1)
	u.do(func() { tables <- v.snap.Convs })
	t, ok := await(u.ctx, tables)
	if !ok {
		return nil, false
	}
	if t.Len() > 0 {
		if a := t.Src(0); a.Is4() {
			b := a.As4()
			steps = append(steps, flowStep{"filter " + fmt.Sprintf("%d.%d", b[0], b[1]), filter(fmt.Sprintf("%d.%d", b[0], b[1]))})
		}
		if tags := t.Tags(0); len(tags) > 0 {
			steps = append(steps, flowStep{"filter " + tags[0].Name, filter(tags[0].Name)})
		}
	}
	return append(steps, flowStep{"clear the filter", filter("")}, flowStep{"unsorted", sort(-1, false)}), true
}
