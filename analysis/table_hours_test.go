package analysis

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestTableHoursReserved: a table of a given size whose conversations have
// four hours each grows its list of hours once or twice, to about the
// length it needs (appending grew it a quarter at a time, seven copies, up
// to a quarter too long), and every row keeps its hours.
func TestTableHoursReserved(t *testing.T) {
	const n = 200000
	b := NewTableBuilder(nil, n, nil)
	var st ConvState
	st.Src, st.Dst = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	st.Sides[1].Sessions = 4
	grows, last := 0, 0
	for i := range n {
		st.Sides[1].Hourly = []HourCount{{int32(i), 1}, {int32(i) + 24, 1}, {int32(i) + 48, 1}, {int32(i) + 72, 1}}
		b.Add(&st, int64(i), 0)
		if c := cap(b.t.hours); c != last {
			grows, last = grows+1, c
		}
	}
	tab := b.Finish(NewLearnedMonitored(nil), nil)
	if need := 4 * n; grows > 3 || cap(tab.hours) > need*11/10 {
		t.Errorf("hours grown %d times to %d for %d", grows, cap(tab.hours), need)
	}
	for i := range tab.Len() {
		if hs := tab.HourCounts(i); len(hs) != 4 || hs[3].Hour != hs[0].Hour+72 {
			t.Fatalf("row %d: hours %v", i, hs)
		}
	}
}

// TestWindowHours: the rows of a window keep the hours of the window, a run
// of their own (shared with the table, not copied), their sessions summed
// from them; rows with none in the window are left out.
func TestWindowHours(t *testing.T) {
	b := NewTableBuilder(nil, 3, nil)
	var st ConvState
	st.Src, st.Dst = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	for i, hs := range [][]HourCount{{{10, 1}, {20, 2}, {30, 4}, {40, 8}}, {{35, 3}}, {{5, 1}, {45, 2}}} {
		st.DPort = uint16(i + 1)
		st.Sides[1].Sessions = 16
		st.Sides[1].Hourly = hs
		b.Add(&st, int64(i), 0)
	}
	tab := b.Finish(NewLearnedMonitored(nil), nil)
	w := tab.Window(time.Unix(20*3600, 0), time.Unix(40*3600, 0))
	if w.Len() != 2 || &w.hours[0] != &tab.hours[0] {
		t.Fatalf("%d rows, hours shared %v", w.Len(), &w.hours[0] == &tab.hours[0])
	}
	for i, want := range []struct {
		port     uint16
		hours    []HourCount
		sessions uint64
	}{{1, []HourCount{{20, 2}, {30, 4}}, 6}, {2, []HourCount{{35, 3}}, 3}} {
		if hs := w.HourCounts(i); w.DPort(i) != want.port || !slices.Equal(hs, want.hours) || w.Sessions(i) != want.sessions {
			t.Errorf("row %d: port %d, hours %v, %d sessions; want %+v", i, w.DPort(i), hs, w.Sessions(i), want)
		}
	}
}

// TestHasSessionsAsWindow: HasSessions says whether Window keeps a row,
// for rows with hours in and out of the range, an hour without sessions,
// and a row without hourly counts (kept only when the range is open at
// the start).
func TestHasSessionsAsWindow(t *testing.T) {
	at := func(h int) time.Time { return time.Unix(int64(h)*3600, 0) }
	for _, tc := range []struct {
		name  string
		hours [][]HourCount
	}{
		{"hours", [][]HourCount{{{10, 1}, {20, 2}}, {{35, 3}}}},
		{"an hour without sessions", [][]HourCount{{{10, 1}, {50, 0}}}},
		{"no hourly counts", [][]HourCount{nil}},
	} {
		b := NewTableBuilder(nil, len(tc.hours), nil)
		var st ConvState
		st.Src, st.Dst = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
		for i, hs := range tc.hours {
			st.DPort = uint16(i + 1)
			st.Sides[1].Sessions = 5
			st.Sides[1].Hourly = hs
			b.Add(&st, int64(i), 0)
		}
		tab := b.Finish(NewLearnedMonitored(nil), nil)
		for _, r := range [][2]time.Time{{}, {at(20), at(40)}, {at(36), {}}, {{}, at(10)}, {{}, at(11)}, {at(40), at(60)}, {at(60), {}}} {
			want := tab.Window(r[0], r[1]).Len() > 0
			if got := tab.HasSessions(r[0], r[1]); got != want {
				t.Errorf("%s: HasSessions(%v, %v) = %v, Window keeps rows: %v", tc.name, r[0], r[1], got, want)
			}
		}
	}
}

// TestWindowIsAView: a window shares its table's rows rather than copying
// them, and whatever reads or copies its rows (accessors, totals, a window
// of it, Reordered, WithLabels) sees the window's hours and sessions, its
// unanswered sessions at most those, and every other field of the table's
// row; the table itself is unchanged.
func TestWindowIsAView(t *testing.T) {
	b := NewTableBuilder(nil, 3, nil)
	var st ConvState
	st.Src, st.Dst = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	for i, hs := range [][]HourCount{{{5, 1}, {45, 2}}, {{10, 1}, {20, 2}, {30, 4}, {40, 8}}, {{35, 3}}} {
		st.DPort = uint16(i + 1)
		st.Sides[1].Sessions, st.Sides[1].Unanswered = 16, 5
		st.Sides[1].Counts = [4]uint64{7, 700, 1, 100}
		st.Sides[1].Hourly = hs
		b.Add(&st, int64(i), 0)
	}
	tab := b.Finish(NewLearnedMonitored(nil), nil)
	w := tab.Window(time.Unix(20*3600, 0), time.Unix(40*3600, 0))
	if w.Len() != 2 || &w.rows[0] != &tab.rows[0] {
		t.Fatalf("%d rows, rows shared %v", w.Len(), &w.rows[0] == &tab.rows[0])
	}
	var tot Totals
	for i := range w.Len() {
		tot.AddRow(w, i)
	}
	if tot.Sessions != 9 || tot.Conversations != 2 {
		t.Errorf("totals %+v, want 9 sessions of 2 conversations", tot)
	}
	for name, x := range map[string]*Table{"window": w, "Reordered": w.Reordered([]int32{0, 1}),
		"WithLabels": w.WithLabels(nil), "window of the window": w.Window(time.Time{}, time.Unix(36*3600, 0))} {
		checkWindowRows(t, name, x)
	}
	if tab.Len() != 3 || tab.Sessions(1) != 16 || len(tab.HourCounts(1)) != 4 {
		t.Errorf("the table changed: %d rows, row 1 %d sessions, hours %v", tab.Len(), tab.Sessions(1), tab.HourCounts(1))
	}
}

// windowSeen is what TestWindowIsAView reads of a row.
type windowSeen struct {
	port                      uint16
	sessions, unanswered, pkt uint64
	hours                     []HourCount
}

// checkWindowRows checks the rows TestWindowIsAView's window sees in x.
func checkWindowRows(t *testing.T, name string, x *Table) {
	t.Helper()
	want := []windowSeen{{2, 6, 5, 8, []HourCount{{20, 2}, {30, 4}}}, {3, 3, 3, 8, []HourCount{{35, 3}}}}
	if x.Len() != len(want) {
		t.Fatalf("%s: %d rows", name, x.Len())
	}
	for i := range want {
		got := windowSeen{x.DPort(i), x.Sessions(i), x.Unanswered(i), x.Packets(i), x.HourCounts(i)}
		if got.port != want[i].port || got.sessions != want[i].sessions || got.unanswered != want[i].unanswered ||
			got.pkt != want[i].pkt || !slices.Equal(got.hours, want[i].hours) {
			t.Errorf("%s row %d: %+v, want %+v", name, i, got, want[i])
		}
	}
}
