package analysis

import "time"

// Window returns the rows whose sessions started in the hours that start
// in [since, until) (a zero bound is open), with those sessions only:
// windows that meet at a time share no hour. Sessions and unanswered
// sessions follow the hours; packets and bytes stay whole (the hourly
// counts say nothing of them), as the workspace's time filter does. A row
// with no hourly counts is kept whole when the range is open at the start,
// else left out. The new table shares t's lists, samples and hourly
// counts: a row's hours ascend, so those of a window are a run of them.
func (t *Table) Window(since, until time.Time) *Table {
	rows := 0
	for i := range t.rows {
		if n := t.hoursIn(i, since, until); n > 0 || t.rows[i].hourN == 0 && since.IsZero() {
			rows++
		}
	}
	w := &Table{tagSets: t.tagSets, hostSets: t.hostSets, actSets: t.actSets, inv: t.inv,
		samples: t.samples, loader: t.loader, rows: make([]tableRow, 0, rows), hours: t.hours}
	for i := range t.rows {
		r := t.rows[i]
		hs := t.HourCounts(i)
		if len(hs) == 0 {
			if since.IsZero() {
				w.rows = append(w.rows, r)
			}
			continue
		}
		lo, hi := hourRun(hs, since, until)
		r.hourAt, r.hourN, r.sessions = r.hourAt+uint32(lo), uint32(hi-lo), 0
		for _, h := range hs[lo:hi] {
			r.sessions += uint64(h.N)
		}
		r.unanswered = min(r.unanswered, r.sessions)
		if r.sessions > 0 {
			w.rows = append(w.rows, r)
		}
	}
	return w
}

// hourRun returns where the run of hours hs (ascending) that start in
// [since, until) begins and ends.
func hourRun(hs []HourCount, since, until time.Time) (lo, hi int) {
	in := func(h HourCount) bool {
		start := time.Unix(int64(h.Hour)*3600, 0)
		return (since.IsZero() || !start.Before(since)) && (until.IsZero() || start.Before(until))
	}
	for lo < len(hs) && !in(hs[lo]) {
		lo++
	}
	hi = lo
	for hi < len(hs) && in(hs[hi]) {
		hi++
	}
	return lo, hi
}

// hoursIn counts the hours of row i that start in [since, until) and hold
// sessions.
func (t *Table) hoursIn(i int, since, until time.Time) int {
	n := 0
	for _, h := range t.HourCounts(i) {
		start := time.Unix(int64(h.Hour)*3600, 0)
		if h.N > 0 && (since.IsZero() || !start.Before(since)) && (until.IsZero() || start.Before(until)) {
			n++
		}
	}
	return n
}

// HasSessions reports whether some row has sessions in [since, until) (a
// zero bound is open), as Window counts them.
func (t *Table) HasSessions(since, until time.Time) bool {
	for i := range t.rows {
		if t.hoursIn(i, since, until) > 0 || t.rows[i].hourN == 0 && since.IsZero() {
			return true
		}
	}
	return false
}
