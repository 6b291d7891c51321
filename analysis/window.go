package analysis

import (
	"slices"
	"time"
)

// Window returns the rows whose sessions started in the hours that start
// in [since, until) (a zero bound is open), with those sessions only:
// windows that meet at a time share no hour. Sessions and unanswered
// sessions follow the hours; packets and bytes stay whole (the hourly
// counts say nothing of them), as the workspace's time filter does. A row
// with no hourly counts is kept whole when the range is open at the start,
// else left out.
//
// The window is a view of t, not a copy: it shares t's rows, lists,
// samples and hourly counts (a row's hours ascend, so those of a window
// are a run of them), and holds 20 bytes a row of its own, its row's
// number and what the window changes of it (a row of t is about 150): a
// readiness check windows a table of a million conversations while the
// app shows it.
func (t *Table) Window(since, until time.Time) *Table {
	rows := 0
	for i := range t.Len() {
		if t.inWindow(i, since, until) {
			rows++
		}
	}
	w := &Table{tagSets: t.tagSets, hostSets: t.hostSets, actSets: t.actSets, inv: t.inv,
		samples: t.samples, loader: t.loader, rows: t.rows, hours: t.hours,
		sel: make([]int32, 0, rows), win: make([]windowRow, 0, rows)}
	for i := range t.Len() {
		hs := t.HourCounts(i)
		at, _ := t.hourRange(i)
		if len(hs) == 0 {
			if since.IsZero() {
				w.sel = append(w.sel, int32(t.at(i)))
				w.win = append(w.win, windowRow{sessions: t.Sessions(i), hourAt: at})
			}
			continue
		}
		lo, hi := hourRun(hs, since, until)
		var sessions uint64
		for _, h := range hs[lo:hi] {
			sessions += uint64(h.N)
		}
		if sessions > 0 {
			w.sel = append(w.sel, int32(t.at(i)))
			w.win = append(w.win, windowRow{sessions: sessions, hourAt: at + uint32(lo), hourN: uint32(hi - lo)})
		}
	}
	return w
}

// hourRun returns where the run of hours hs (ascending) that start in
// [since, until) begins and ends.
func hourRun(hs []HourCount, since, until time.Time) (lo, hi int) {
	for lo < len(hs) && !startsIn(hs[lo], since, until) {
		lo++
	}
	hi = lo
	for hi < len(hs) && startsIn(hs[hi], since, until) {
		hi++
	}
	return lo, hi
}

// startsIn reports whether hour h starts in [since, until) (a zero bound
// is open).
func startsIn(h HourCount, since, until time.Time) bool {
	start := time.Unix(int64(h.Hour)*3600, 0)
	return (since.IsZero() || !start.Before(since)) && (until.IsZero() || start.Before(until))
}

// inWindow reports whether Window keeps row i: some hour of its that
// starts in [since, until) holds sessions, or it has no hourly counts and
// the range is open at the start.
func (t *Table) inWindow(i int, since, until time.Time) bool {
	hs := t.HourCounts(i)
	if len(hs) == 0 {
		return since.IsZero()
	}
	return slices.ContainsFunc(hs, func(h HourCount) bool { return h.N > 0 && startsIn(h, since, until) })
}

// HasSessions reports whether some row has sessions in [since, until) (a
// zero bound is open), as Window counts them.
func (t *Table) HasSessions(since, until time.Time) bool {
	for i := range t.Len() {
		if t.inWindow(i, since, until) {
			return true
		}
	}
	return false
}
