package rules_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// benchConversations makes n distinct conversations shaped as
// testdata/bench/distinct.awk's lines come out of a workspace: unique
// sources, 200 destinations, 50,000 ports, half inbound and half outbound
// under one policy tag, one in 15 never answered, a sample line each, in
// the workspace's order.
func benchConversations(n int) []analysistest.Conversation {
	t0 := time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)
	hosts := [][]string{{"ahv-0"}, {"ahv-1"}, {"ahv-2"}}
	actions, vendors := []ingest.Action{ingest.ActionMonitor}, []ingest.Vendor{ingest.Nutanix}
	out := make([]analysistest.Conversation, n)
	for i := range out {
		dir := ingest.DirOutbound
		if i%2 == 1 {
			dir = ingest.DirInbound
		}
		t := t0.Add(time.Duration(i%86400) * time.Second)
		c := analysistest.Conversation{
			Src: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Dst: netip.AddrFrom4([4]byte{172, 16, byte(i % 200), 1}),
			Proto: ingest.ProtoTCP, DPort: uint16(1024 + i%50000), Direction: dir,
			Tags: []analysis.Tag{{Name: "Discover-Traffic", Direction: dir}}, Actions: actions, Vendors: vendors,
			Sessions: 1, OrigPkts: uint64(1 + i%20), OrigBytes: uint64(60 + i%9000), ReplyPkts: uint64(i % 15), ReplyBytes: uint64(i * 7 % 20000),
			First: t, Last: t, Hosts: hosts[i%3], Hourly: []analysis.Hour{{Start: t.Truncate(time.Hour), Sessions: 1}},
			Samples: []string{fmt.Sprintf("<134>%s ahv-%d Genesis_1: INFO: Discover-Traffic [Destroy] SRC=10.%d.%d.%d DST=172.16.%d.1 PROTO=TCP SPORT=%d DPORT=%d ACTION=MONITOR",
				t.Format(time.RFC3339), i%3, byte(i>>16), byte(i>>8), byte(i), i%200, 32768+i%28000, 1024+i%50000)},
		}
		if c.ReplyPkts == 0 {
			c.Unanswered = 1
		}
		out[i] = c
	}
	slices.SortFunc(out, analysistest.Compare)
	return out
}

// BenchmarkSynthesize1M synthesises the rules of a million conversations
// (make bench's workspace: 25,100 rules, 66,667 under review). Run it with
// -benchtime 1x for the cold figure, the first synthesis of a process.
func BenchmarkSynthesize1M(b *testing.B) {
	convs := analysistest.Table(benchConversations(1_000_000))
	runtime.GC()
	b.ReportAllocs()
	var rs rules.Set
	for b.Loop() {
		rs = rules.Synthesize(convs, rules.Knobs{})
	}
	b.ReportMetric(float64(len(rs.Rules)), "rules")
}

// BenchmarkSynthesizeMembers1M is BenchmarkSynthesize1M for the lean
// synthesis of the readiness replay.
func BenchmarkSynthesizeMembers1M(b *testing.B) {
	convs := analysistest.Table(benchConversations(1_000_000))
	runtime.GC()
	b.ReportAllocs()
	var rs rules.Set
	for b.Loop() {
		rs = rules.SynthesizeMembers(convs, rules.Knobs{})
	}
	b.ReportMetric(float64(len(rs.Rules)), "rules")
}
