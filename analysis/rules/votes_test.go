package rules_test

import (
	"fmt"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestSynthesizeVotesOnEveryCore: the rules of a table large enough for the
// synthesis to split its voting and its rules over the processors are the
// rules it makes on one: tags voted by many conversations, ties, NSX and
// Nutanix lines, addresses met again and again, peers generalised.
func TestSynthesizeVotesOnEveryCore(t *testing.T) {
	var tags []string
	for n := range 60 {
		tags = append(tags, fmt.Sprintf("SG%02d", n))
	}
	var cs []analysistest.Conversation
	for i := range 40_000 {
		// Outbound from 10.0/16 to the subnets d%3 != 1 of 172.16/16, inbound
		// from 192.168/16 to the others: each address one reading.
		d := i % 97
		dir, src := ingest.DirOutbound, netip.AddrFrom4([4]byte{10, 0, byte(i % 3000 / 256), byte(i % 3000)})
		if d%3 == 1 {
			dir, src = ingest.DirInbound, netip.AddrFrom4([4]byte{192, 168, byte(i % 3000 / 256), byte(i % 3000)})
		}
		vendor := ingest.NSXT
		if i%4 == 0 {
			vendor = ingest.Nutanix
		}
		var tg []analysis.Tag
		for x := range 1 + i%3 {
			tg = append(tg, analysis.Tag{Name: tags[(i/7+x)%len(tags)], Direction: dir})
		}
		cs = append(cs, analysistest.Conversation{
			Src:   src,
			Dst:   netip.AddrFrom4([4]byte{172, 16, byte(d), byte(i % 11)}),
			Proto: ingest.ProtoTCP, DPort: uint16(80 + i%13), Direction: dir, Tags: tg,
			Actions: []ingest.Action{ingest.ActionAllow}, Vendors: []ingest.Vendor{vendor},
			Sessions: uint64(1 + i%2), OrigPkts: 1, OrigBytes: 60, ReplyPkts: 1, ReplyBytes: 60,
		})
	}
	slices.SortFunc(cs, analysistest.Compare)
	cs = slices.CompactFunc(cs, func(a, b analysistest.Conversation) bool { return analysistest.Compare(a, b) == 0 })
	tb := analysistest.Table(cs)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := rules.Synthesize(tb, rules.Knobs{})
	t.Logf("%d rules", len(one.Rules))
	if len(one.Rules) < 100 {
		t.Fatalf("%d rules: too few to tell", len(one.Rules))
	}
	for _, procs := range []int{2, 3} {
		runtime.GOMAXPROCS(procs)
		got := rules.Synthesize(tb, rules.Knobs{})
		if !reflect.DeepEqual(got.Rules, one.Rules) || !reflect.DeepEqual(got.Review, one.Review) {
			t.Errorf("%d processors: %d rules, %d under review; on one: %d, %d", procs,
				len(got.Rules), len(got.Review), len(one.Rules), len(one.Review))
			for i := range min(len(got.Rules), len(one.Rules)) {
				if g, w := fmt.Sprint(got.Rules[i].Src, got.Rules[i].Dst), fmt.Sprint(one.Rules[i].Src, one.Rules[i].Dst); g != w {
					t.Fatalf("rule %d: %s, want %s", i, g, w)
				}
			}
		}
	}
}
