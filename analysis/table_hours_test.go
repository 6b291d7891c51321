package analysis

import (
	"net/netip"
	"testing"
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
