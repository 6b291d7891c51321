package app

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest"
)

func TestFlowFilterMatch(t *testing.T) {
	t0 := time.Date(2025, 4, 7, 10, 0, 0, 0, time.UTC)
	c := analysistest.Conversation{
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.1.0.5"), Proto: ingest.ProtoUDP, DPort: 53,
		Direction: ingest.DirOutbound, Tags: []analysis.Tag{{Name: "SGTSWEB", Direction: ingest.DirOutbound}},
		Actions: []ingest.Action{ingest.ActionAllow}, Sessions: 3, DstVM: "dns-01", First: t0,
		Hourly: []analysis.Hour{{Start: t0, Sessions: 3}}, Hosts: []string{"esx-01"},
	}
	tb := analysistest.Table([]analysistest.Conversation{c})
	for _, tc := range []struct {
		name string
		f    FlowFilter
		want bool
	}{
		{"everything", FlowFilter{}, true},
		{"tag", FlowFilter{Tag: "SGTSWEB"}, true},
		{"other tag", FlowFilter{Tag: "SGTSDB"}, false},
		{"tag and its direction", FlowFilter{Tag: "SGTSWEB", Direction: ingest.DirOutbound, DirSet: true}, true},
		{"tag, other direction", FlowFilter{Tag: "SGTSWEB", Direction: ingest.DirInbound, DirSet: true}, false},
		{"direction", FlowFilter{Direction: ingest.DirOutbound, DirSet: true}, true},
		{"other direction", FlowFilter{Direction: ingest.DirIntra, DirSet: true}, false},
		{"action", FlowFilter{Action: "ALLOW"}, true},
		{"other action", FlowFilter{Action: "DROP"}, false},
		{"protocol", FlowFilter{Proto: ingest.ProtoUDP}, true},
		{"service", FlowFilter{Proto: ingest.ProtoUDP, Service: true, Port: 53}, true},
		{"other port", FlowFilter{Proto: ingest.ProtoUDP, Service: true, Port: 123}, false},
		{"peer as destination", FlowFilter{Peer: c.Dst}, true},
		{"other peer", FlowFilter{Peer: netip.MustParseAddr("10.9.9.9")}, false},
		{"hour", FlowFilter{Since: t0, Until: t0.Add(time.Hour)}, true},
		{"hour before", FlowFilter{Since: t0.Add(-time.Hour), Until: t0}, false},
		{"open-ended from", FlowFilter{Since: t0}, true},
		{"new that day", FlowFilter{NewSince: t0.Truncate(24 * time.Hour), NewUntil: t0.Truncate(24 * time.Hour).Add(24 * time.Hour)}, true},
		{"new the day after", FlowFilter{NewSince: t0.Add(24 * time.Hour)}, false},
		{"suspect", FlowFilter{Suspect: true}, false},
		{"text: VM name, any case", FlowFilter{Text: "DNS-01"}, true},
		{"text: address prefix", FlowFilter{Text: "10.1.0."}, true},
		{"text: service", FlowFilter{Text: "dns 53/udp"}, true},
		{"text: host", FlowFilter{Text: "esx-01"}, true},
		{"text: nothing", FlowFilter{Text: "10.2."}, false},
	} {
		if got := NewFlowView(tb, tc.f, -1, false).Len() == 1; got != tc.want {
			t.Errorf("%s: kept %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestFlowFilterChips checks each field's chip as the flow table shows
// it, that removing the chip clears that field (and only it), and the
// order of the chips.
func TestFlowFilterChips(t *testing.T) {
	t0, t1 := time.Date(2025, 4, 7, 10, 0, 0, 0, time.UTC), time.Date(2025, 4, 7, 11, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		f    FlowFilter
		want string
	}{
		{FlowFilter{Text: "dns 53"}, `"dns 53"`},
		{FlowFilter{Tag: "SGTSWEB"}, "tag SGTSWEB"},
		{FlowFilter{Direction: ingest.DirInbound, DirSet: true}, "inbound"},
		{FlowFilter{Action: "DROP"}, "DROP"},
		{FlowFilter{Proto: ingest.ProtoTCP}, "TCP"},
		{FlowFilter{Proto: ingest.ProtoTCP, Service: true, Port: 443}, "HTTPS (443/tcp)"},
		{FlowFilter{Peer: netip.MustParseAddr("10.1.2.3")}, "peer 10.1.2.3"},
		{FlowFilter{Since: t0, Until: t1}, "2025-04-07 10:00 – 2025-04-07 11:00"},
		{FlowFilter{Since: t0}, "from 2025-04-07 10:00"},
		{FlowFilter{Until: t1}, "before 2025-04-07 11:00"},
		{FlowFilter{NewSince: t0, NewUntil: t1}, "new 2025-04-07 10:00 – 2025-04-07 11:00"},
		{FlowFilter{Suspect: true}, "suspect"},
		{FlowFilter{Verdict: "would break"}, "verdict would break"},
	} {
		chips := tc.f.Chips()
		if len(chips) != 1 || chips[0].Label != tc.want {
			t.Errorf("%+v: chips %q, want [%q]", tc.f, chipLabels(chips), tc.want)
			continue
		}
		f := tc.f
		chips[0].Clear(&f)
		if left := f.Chips(); len(left) != 0 {
			t.Errorf("%q removed: chips %q left", tc.want, chipLabels(left))
		}
	}

	all := FlowFilter{Text: "x", Tag: "SGTSWEB", Direction: ingest.DirInbound, DirSet: true, Action: "ALLOW",
		Proto: ingest.ProtoUDP, Peer: netip.MustParseAddr("10.1.2.3"), Since: t0, NewSince: t0, Suspect: true, Verdict: "allowed"}
	want := []string{`"x"`, "tag SGTSWEB", "inbound", "ALLOW", "UDP", "peer 10.1.2.3", "from 2025-04-07 10:00",
		"new from 2025-04-07 10:00", "suspect", "verdict allowed"}
	if got := chipLabels(all.Chips()); !slices.Equal(got, want) {
		t.Errorf("chips %q, want %q", got, want)
	}
	// Removing the tag keeps the direction: it then filters on its own.
	f := all
	all.Chips()[1].Clear(&f)
	if got := chipLabels(f.Chips()); !slices.Equal(got, slices.Delete(slices.Clone(want), 1, 2)) {
		t.Errorf("tag removed: chips %q", got)
	}
}

// chipLabels are the chips' labels.
func chipLabels(chips []Chip) []string {
	out := make([]string, len(chips))
	for i, c := range chips {
		out[i] = c.Label
	}
	return out
}

// bigConvs makes n distinct conversations.
func bigConvs(n int) []analysistest.Conversation {
	out := make([]analysistest.Conversation, n)
	tags := []analysis.Tag{{Name: "SGTSWEB", Direction: ingest.DirInbound}}
	for i := range out {
		out[i] = analysistest.Conversation{
			Src:   netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}),
			Dst:   netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), 1}),
			Proto: ingest.ProtoTCP, DPort: uint16(1024 + i%5000), Direction: ingest.DirInbound,
			Tags: tags, Sessions: uint64(i*7919) % 1000,
			// over four days, to the nanosecond, as a log's times
			First: time.Unix(1743984000, 0).Add(time.Duration(i*7919%345600)*time.Second + time.Duration(i*104729%1e9)),
		}
	}
	return out
}

func TestFlowViewSort(t *testing.T) {
	convs := analysistest.Table(bigConvs(1000))
	v := NewFlowView(convs, FlowFilter{}, ColSessions, true)
	for i := 1; i < v.Len(); i++ {
		if v.At(i-1).Sessions < v.At(i).Sessions {
			t.Fatalf("row %d out of order", i)
		}
	}
	v = NewFlowView(convs, FlowFilter{Proto: ingest.ProtoTCP, Service: true, Port: 1024}, ColSource, false)
	if v.Len() != 1 || v.At(0).DPort != 1024 {
		t.Fatalf("port filter kept %d rows", v.Len())
	}
}

// TestFlowViewParts: a view made on several goroutines has the rows, in
// the order, and the sessions of the view made on one, filtered or not,
// sorted or not.
func TestFlowViewParts(t *testing.T) {
	convs := analysistest.Table(bigConvs(5000))
	filters := []FlowFilter{{}, {Text: "172.16.3."}, {Text: "sgtsweb 2000"}, {Proto: ingest.ProtoTCP, Service: true, Port: 1024}}
	for _, f := range filters {
		for _, col := range []int{-1, ColSource, ColFirst, ColSessions} {
			want := newFlowViewOn(convs, f, col, col == ColSessions, 1)
			for _, parts := range []int{2, 3} {
				got := newFlowViewOn(convs, f, col, col == ColSessions, parts)
				if !slices.Equal(got.Rows, want.Rows) || got.Sessions != want.Sessions {
					t.Errorf("%+v by column %d on %d parts: %d rows, %d sessions; on one %d rows, %d sessions",
						f, col, parts, got.Len(), got.Sessions, want.Len(), want.Sessions)
				}
			}
		}
	}
}

// BenchmarkFlowView1M is the cost of a filter and a sort of a million rows
// (the table only reads the result): the time a user waits after a click.
func BenchmarkFlowView1M(b *testing.B) {
	convs := analysistest.Table(bigConvs(1_000_000))
	b.Run("filter", func(b *testing.B) {
		for b.Loop() {
			NewFlowView(convs, FlowFilter{Text: "172.16.3."}, -1, false)
		}
	})
	b.Run("filter-word", func(b *testing.B) {
		for b.Loop() {
			NewFlowView(convs, FlowFilter{Text: "sgtsweb 2000"}, -1, false)
		}
	})
	b.Run("sort-sessions", func(b *testing.B) {
		for b.Loop() {
			NewFlowView(convs, FlowFilter{}, ColSessions, true)
		}
	})
	b.Run("sort-source", func(b *testing.B) {
		for b.Loop() {
			NewFlowView(convs, FlowFilter{}, ColSource, false)
		}
	})
	b.Run("sort-first", func(b *testing.B) {
		for b.Loop() {
			NewFlowView(convs, FlowFilter{}, ColFirst, false)
		}
	})
}

func TestProgressText(t *testing.T) {
	for _, tc := range []struct {
		p       analysis.Progress
		elapsed time.Duration
		want    string
		frac    float64
	}{
		{analysis.Progress{File: "/logs/esx01.log", Files: 1, Done: 100 << 20, Total: 400 << 20}, 2 * time.Second,
			"esx01.log · 100.0 MiB of 400.0 MiB · 50.0 MiB/s · 6s left", 0.25},
		{analysis.Progress{File: "b.log.gz", FileIndex: 1, Files: 3, Done: 1 << 20, Total: 1 << 20}, time.Second,
			"b.log.gz (2/3) · 1.0 MiB of 1.0 MiB · 1.0 MiB/s", 1},
		{analysis.Progress{File: "-", Files: 1, Done: 2048, Total: -1}, time.Second, "- · 2.0 KiB · 2.0 KiB/s", 0},
	} {
		got, frac := progressText(tc.p, tc.elapsed)
		if got != tc.want || frac != tc.frac {
			t.Errorf("progressText(%+v) = %q, %v; want %q, %v", tc.p, got, frac, tc.want, tc.frac)
		}
	}
}

// TestParseText: addresses match exactly, CIDRs and whole octets by prefix
// ("10.55.1" is 10.55.1.0/24, never 10.55.199.x), a number is the port,
// other words are names; every word must match.
func TestParseText(t *testing.T) {
	conv := func(src, dst string, port uint16, vm string) analysistest.Conversation {
		return analysistest.Conversation{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: ingest.ProtoTCP,
			DPort: port, DstVM: vm, Tags: []analysis.Tag{{Name: "SGTSWEB"}}}
	}
	in1 := conv("10.55.1.7", "10.20.0.1", 443, "web-01")
	in199 := conv("10.55.199.7", "10.20.0.1", 443, "web-01")
	v6 := conv("2001:db8::7", "2001:db8:1::1", 22, "")
	for _, tc := range []struct {
		Text string
		Want [3]bool // in1, in199, v6
	}{
		{"", [3]bool{true, true, true}},
		{"10.55.1.7", [3]bool{true, false, false}},
		{"10.55.1.0/24", [3]bool{true, false, false}},
		{"10.55.1", [3]bool{true, false, false}},
		{"10.55.1.", [3]bool{true, false, false}},
		{"10.55", [3]bool{true, true, false}},
		{"10.55.1.70", [3]bool{false, false, false}},
		{"10.20.0.1", [3]bool{true, true, false}}, // the destination
		{"10.0.0.0/8", [3]bool{true, true, false}},
		{"2001:db8::/32", [3]bool{false, false, true}},
		{"2001:db8::7", [3]bool{false, false, true}},
		{"443", [3]bool{true, true, false}},
		{"44", [3]bool{false, false, false}}, // a port, not part of one
		{"WEB-0", [3]bool{true, true, false}},
		{"https", [3]bool{true, true, false}},
		{"sgtsweb", [3]bool{true, true, true}},
		{"10.55.1 443", [3]bool{true, false, false}},
		{"10.55.1, 22", [3]bool{false, false, false}}, // every word must match
		{"nothing", [3]bool{false, false, false}},
		{"10.55.1.0/33", [3]bool{false, false, false}}, // not a prefix: a word no name has
	} {
		tb := analysistest.Table([]analysistest.Conversation{in1, in199, v6})
		v := NewFlowView(tb, FlowFilter{Text: tc.Text}, -1, false)
		for i, c := range []*analysistest.Conversation{&in1, &in199, &v6} {
			if got := v.Find(int32(i)) >= 0; got != tc.Want[i] {
				t.Errorf("%q on %v → %v: %v, want %v", tc.Text, c.Src, c.Dst, got, tc.Want[i])
			}
		}
	}
}

// TestSortFlows checks the radix sort against a comparison sort with the
// row as the last key, on keys with varying and constant words, ascending
// and descending, on one goroutine and on several.
func TestSortFlows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 60 {
		n := r.IntN(3000)
		keys := make(map[int32]sortKey, n)
		rows := make([]int32, n)
		for i := range rows {
			rows[i] = int32(i * 3)
			// each word varies in some rounds and not in others
			k := sortKey{a: 7, b: 7, c: 7}
			if round%4 != 1 {
				k.a = uint64(r.IntN(4))
			}
			if round%3 == 0 {
				k.b = r.Uint64()
			}
			if round%5 != 2 {
				k.c = r.Uint64() >> uint(r.IntN(64))
			}
			keys[rows[i]] = k
		}
		desc := round%2 == 1
		want := slices.Clone(rows)
		slices.SortFunc(want, func(x, y int32) int {
			a, b := keys[x], keys[y]
			c := cmp.Or(cmp.Compare(a.a, b.a), cmp.Compare(a.b, b.b), cmp.Compare(a.c, b.c))
			if desc {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(x, y))
		})
		for _, parts := range []int{1, 2, 3} {
			got := slices.Clone(rows)
			sortFlowsOn(got, func(i int) sortKey { return keys[int32(i)] }, desc, parts)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d (%d rows, desc %v) on %d parts: sorted differently", round, n, desc, parts)
			}
		}
	}
}

// Find returns the row of conversation index conv, or -1.
func (v *FlowView) Find(conv int32) int { return slices.Index(v.Rows, conv) }

// At returns the conversation of row i of the view (analysis.Table.Conv).
func (v *FlowView) At(i int) analysistest.Conversation {
	return analysistest.Row(v.Convs, int(v.Rows[i]))
}

// TestOrderCache: a sorted view of every row is kept and handed out again
// for the same table, column and direction (the filter cleared, or the
// column sorted again), as NewFlowView would make it; a filtered view, a
// time range's sessions or another column are not taken from it.
func TestOrderCache(t *testing.T) {
	convs := analysistest.Table(bigConvs(5000))
	var c orderCache
	first := c.view(convs, FlowFilter{}, ColFirst, true)
	same := func(a, b *FlowView) bool { return len(a.Rows) > 0 && &a.Rows[0] == &b.Rows[0] }
	for _, tc := range []struct {
		name   string
		f      FlowFilter
		col    int
		desc   bool
		cached bool
	}{
		{"filtered", FlowFilter{Text: "172.16.3."}, ColFirst, true, false},
		{"filter cleared", FlowFilter{}, ColFirst, true, true},
		{"ascending", FlowFilter{}, ColFirst, false, false},
		{"sessions in a time range", FlowFilter{Since: time.Unix(1743984000, 0)}, ColSessions, true, false},
	} {
		got := c.view(convs, tc.f, tc.col, tc.desc)
		want := NewFlowView(convs, tc.f, tc.col, tc.desc)
		if !slices.Equal(got.Rows, want.Rows) || got.Sessions != want.Sessions {
			t.Errorf("%s: rows or sessions differ from NewFlowView's", tc.name)
		}
		if same(got, first) != tc.cached {
			t.Errorf("%s: taken from the cache %v, want %v", tc.name, same(got, first), tc.cached)
		}
	}
}
