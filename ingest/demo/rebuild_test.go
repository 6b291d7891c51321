package demo_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// An independent conversation builder for TestParse.

type convKey struct {
	Dir      ingest.Direction
	Src, Dst netip.Addr
	Proto    uint8
	DPort    uint16
}

type connKey struct {
	Dir   ingest.Direction // the enforcement point: both ends of a session log it
	Src   netip.Addr
	Dst   netip.Addr
	Proto uint8
	SPort uint16
	DPort uint16
}

// rebuild is a small, independent conversation builder. It learns the
// monitored set from the lines (OUTBOUND/OUT: the source is monitored), counts
// a session at its first enforcement point's [New]/match line and takes the
// counters from that point's [Destroy]/TERM line. On the way it checks that
// no connection is reused while open and that counters never go down.
func rebuild(t *testing.T, evs []ingest.Event) []demo.Row {
	t.Helper()
	mon := map[netip.Addr]bool{}
	for _, ev := range evs {
		switch ev.Direction {
		case ingest.DirOutbound:
			mon[ev.Src] = true
		case ingest.DirInbound:
			mon[ev.Dst] = true
		}
	}
	convs := map[convKey]*demo.Row{}
	open := map[connKey]uint64{} // packets seen so far
	for i := range evs {
		ev := &evs[i]
		r := conversation(convs, mon, ev)
		first := ev.Direction == ingest.DirOutbound || !mon[ev.Src]
		ck := connKey{ev.Direction, ev.Src, ev.Dst, ev.Proto, ev.SPort, ev.DPort}
		pk, isOpen := open[ck]
		switch ev.Kind {
		case ingest.KindNew, ingest.KindMatch:
			if isOpen {
				t.Fatalf("event %d: %+v reused while open", i+1, ck)
			}
			open[ck] = 0
			if first {
				r.Sessions++
			}
			if ev.Action == ingest.ActionDrop && ev.Kind == ingest.KindMatch {
				delete(open, ck) // no TERM follows a dropped first packet
			}
		case ingest.KindUpdate, ingest.KindDestroy, ingest.KindTerm:
			total := ev.OrigPkts + ev.ReplyPkts
			if !isOpen || !ev.HasCounters || total < pk {
				t.Fatalf("event %d: %+v open %v, counters %d after %d", i+1, ck, isOpen, total, pk)
			}
			open[ck] = total
			if ev.Kind != ingest.KindUpdate {
				delete(open, ck)
				if first {
					r.Packets += total
					r.Bytes += ev.OrigBytes + ev.ReplyBytes
				}
			}
		}
		addEvent(r, ev)
	}
	if len(open) > 0 {
		t.Errorf("%d connections never ended", len(open))
	}
	var rows []demo.Row
	for _, r := range convs {
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, compareRows)
	return rows
}

func conversation(convs map[convKey]*demo.Row, mon map[netip.Addr]bool, ev *ingest.Event) *demo.Row {
	dir := ingest.DirUnknown
	switch {
	case mon[ev.Src] && mon[ev.Dst]:
		dir = ingest.DirIntra
	case mon[ev.Src]:
		dir = ingest.DirOutbound
	case mon[ev.Dst]:
		dir = ingest.DirInbound
	}
	k := convKey{dir, ev.Src, ev.Dst, ev.Proto, ev.DPort}
	r := convs[k]
	if r == nil {
		r = &demo.Row{Direction: dir.String(), Src: ev.Src, Dst: ev.Dst, Proto: ev.Proto, DPort: ev.DPort}
		convs[k] = r
	}
	return r
}

func addEvent(r *demo.Row, ev *ingest.Event) {
	ts := ev.Time.Truncate(time.Second)
	if r.FirstSeen.IsZero() || ts.Before(r.FirstSeen) {
		r.FirstSeen = ts
	}
	if ts.After(r.LastSeen) {
		r.LastSeen = ts
	}
	tag := ev.Tag // an NSX-V TERM line has none: its match line had the rule's tag
	if ev.Vendor == ingest.Nutanix {
		tag = ev.Policy
	}
	r.Tags = addSorted(r.Tags, tag)
	if ev.Action != ingest.ActionUnknown {
		r.Actions = addSorted(r.Actions, ev.Action.String())
	}
	r.Hosts = addSorted(r.Hosts, ev.Host)
}

func addSorted(s []string, v string) []string {
	if v == "" {
		return s
	}
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

func compareRows(a, b demo.Row) int {
	rank := map[string]int{"INBOUND": 0, "OUTBOUND": 1, "INTRA": 2}
	ra, ok := rank[a.Direction]
	if !ok {
		ra = 3
	}
	rb, ok := rank[b.Direction]
	if !ok {
		rb = 3
	}
	switch {
	case ra != rb:
		return ra - rb
	case a.Src != b.Src:
		return a.Src.Compare(b.Src)
	case a.Dst != b.Dst:
		return a.Dst.Compare(b.Dst)
	case a.Proto != b.Proto:
		return int(a.Proto) - int(b.Proto)
	}
	return int(a.DPort) - int(b.DPort)
}
