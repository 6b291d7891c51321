package analysis

import "time"

// Totals are the sums of a set of conversations.
type Totals struct {
	Conversations            int
	Suspect                  int // conversations never answered: probable scans
	Sessions, Packets, Bytes uint64
	First, Last              time.Time // zero when no line had a time
}

// AddRow counts row i of tb in t.
func (t *Totals) AddRow(tb *Table, i int) {
	r := &tb.rows[tb.at(i)]
	t.Conversations++
	t.Sessions += tb.Sessions(i)
	t.Packets += r.origPkts + r.replyPkts
	t.Bytes += r.origBytes + r.replyBytes
	if tb.Suspect(i) {
		t.Suspect++
	}
	if r.first != 0 && (t.First.IsZero() || r.first < t.First.UnixNano()) {
		t.First = unixTime(r.first)
	}
	if r.last != 0 && (t.Last.IsZero() || r.last > t.Last.UnixNano()) {
		t.Last = unixTime(r.last)
	}
}
