package rules_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// countingLoader serves sample lines by key, counting the calls.
type countingLoader struct {
	lines map[int64][]string
	calls int
}

func (l *countingLoader) Samples(keys []int64) ([][]string, error) {
	l.calls++
	out := make([][]string, len(keys))
	for i, k := range keys {
		out[i] = l.lines[k]
	}
	return out, nil
}

// TestEvidenceSamples: a rule's sample lines are the first lines of its
// first conversations in the order synthesis met them (rows without lines
// skipped, a row's lines taken until there are three), read from the
// store only when asked for, for many rules at once.
func TestEvidenceSamples(t *testing.T) {
	web := netip.MustParseAddr("10.0.0.1")
	conv := func(peer byte, port uint16, samples ...string) analysistest.Conversation {
		return analysistest.Conversation{Src: web, Dst: netip.AddrFrom4([4]byte{192, 0, 2, peer}), Proto: ingest.ProtoTCP, DPort: port,
			Direction: ingest.DirOutbound, Sessions: 1, OrigPkts: 1, ReplyPkts: 1, Actions: []ingest.Action{ingest.ActionAllow},
			Tags: []analysis.Tag{{Name: "web", Direction: ingest.DirOutbound}}, Samples: samples}
	}
	// Two rules, of the peers of 443 and of 53.
	convs := []analysistest.Conversation{conv(9, 443, "a"), conv(3, 443), conv(7, 443, "b", "c", "d"), conv(1, 443, "e"),
		conv(5, 53), conv(2, 53, "x")}
	l := &countingLoader{lines: map[int64][]string{}}
	b := analysis.NewTableBuilder(nil, 0, l)
	for i, c := range convs {
		st := analysis.ConvState{Src: c.Src, Dst: c.Dst, Proto: c.Proto, DPort: c.DPort, Actions: 1 << ingest.ActionAllow,
			Labels: []analysis.LabelState{{Name: "web", Sides: 1 << ingest.DirOutbound}}}
		st.Sides[ingest.DirOutbound] = analysis.SideState{Sessions: 1, Counts: [4]uint64{1, 1, 1, 1}}
		b.Add(&st, int64(i), len(c.Samples))
		l.lines[int64(i)] = c.Samples
	}
	tb := b.Finish(analysis.NewMonitored([]netip.Prefix{netip.PrefixFrom(web, 32)}, nil), nil)
	// The table is in Compare order (192.0.2.1 first): synthesis meets its
	// rows in that order, not in the order above.
	sorted := slices.SortedFunc(slices.Values(convs), func(a, b analysistest.Conversation) int { return a.Dst.Compare(b.Dst) })
	for i := range tb.Len() {
		if tb.Dst(i) != sorted[i].Dst {
			t.Fatalf("row %d is %v, want %v", i, tb.Dst(i), sorted[i].Dst)
		}
	}
	want := map[uint16][]string{443: {"e", "b", "c"}, 53: {"x"}}
	rs := rules.Synthesize(tb, rules.Knobs{})
	if len(rs.Rules) != 2 || l.calls != 0 {
		t.Fatalf("%d rules, %d reads of the store during synthesis", len(rs.Rules), l.calls)
	}
	both := []*rules.Rule{&rs.Rules[0], &rs.Rules[1]}
	got := rs.SamplesOf(both)
	if l.calls != 1 {
		t.Errorf("%d reads for two rules, want 1", l.calls)
	}
	for j, r := range both {
		if w := want[r.Service.Ports[0].From]; !slices.Equal(got[j], w) {
			t.Errorf("rule %s: samples %q, want %q", r.Name, got[j], w)
		}
	}
	// A rule made by hand takes the lines of its rows in their order (rows
	// 0 to 5: 192.0.2.1, .2, .3, .5, .7, .9).
	for _, tc := range []struct {
		rows []int32
		want []string
	}{{[]int32{3, 2, 4, 0}, []string{"b", "c", "d"}}, {[]int32{5, 0, 4}, []string{"a", "e", "b"}}, {[]int32{2, 3}, nil}} {
		hand := rules.Rule{Evidence: rules.Evidence{Rows: tc.rows}}
		if got := rs.Samples(&hand); !slices.Equal(got, tc.want) {
			t.Errorf("by hand, rows %v: %q, want %q", tc.rows, got, tc.want)
		}
	}
}
