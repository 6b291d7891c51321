package policy

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

// benchConversations makes n distinct conversations shaped like make
// bench's million-conversation workspace (analysis/rules/bench_test.go): unique
// sources in 10/8, 200 destinations 172.16.x.1, 50,000 ports, half inbound
// and half outbound, one in 15 never answered.
func benchConversations(n int) []analysistest.Conversation {
	t0 := time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)
	vendors := []ingest.Vendor{ingest.NSXT}
	out := make([]analysistest.Conversation, n)
	for i := range out {
		dir := ingest.DirOutbound
		if i%2 == 1 {
			dir = ingest.DirInbound
		}
		t := t0.Add(time.Duration(i%86400) * time.Second)
		c := analysistest.Conversation{
			Src: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Dst: netip.AddrFrom4([4]byte{172, 16, byte(i % 200), 1}),
			Proto: ingest.ProtoTCP, DPort: uint16(1024 + i%50000), Direction: dir, Vendors: vendors,
			Tags:     []analysis.Tag{{Name: fmt.Sprintf("SG%d", i%200), Direction: dir}},
			Sessions: 1, OrigPkts: uint64(1 + i%20), OrigBytes: uint64(60 + i%9000), ReplyPkts: uint64(i % 15),
			First: t, Last: t, Hourly: []analysis.Hour{{Start: t.Truncate(time.Hour), Sessions: 1}},
		}
		if c.ReplyPkts == 0 {
			c.Unanswered = 1
		}
		out[i] = c
	}
	slices.SortFunc(out, analysistest.Compare)
	return out
}

// benchNSX is a 500-rule NSX policy over the bench conversations' estate:
// 200 destination groups (IP groups of one host each); 400 rules allowing
// a /16 of sources to a group on a few ports, 50 on port ranges, 40 on any
// service from a /12, 10 drops; the default rule drops.
func benchNSX() o {
	var kids []any
	for g := 0; g < 200; g++ {
		kids = append(kids, o{"resource_type": "ChildGroup", "Group": o{"resource_type": "Group", "id": fmt.Sprintf("sg%d", g),
			"expression": []any{o{"resource_type": "IPAddressExpression", "ip_addresses": []string{fmt.Sprintf("172.16.%d.1", g)}}}}})
	}
	var rules []o
	for i := 0; i < 500; i++ {
		dst := []string{fmt.Sprintf("%ssg%d", gp, i%200)}
		src := []string{fmt.Sprintf("10.%d.0.0/16", i%16)}
		extra := o{"services": nil}
		action := "ALLOW"
		switch {
		case i < 400:
			extra["service_entries"] = []any{o{"resource_type": "L4PortSetServiceEntry", "l4_protocol": "TCP",
				"destination_ports": []string{fmt.Sprint(1024 + i*100), fmt.Sprint(1025 + i*100), fmt.Sprint(1026 + i*100)}}}
		case i < 450:
			extra["service_entries"] = []any{o{"resource_type": "L4PortSetServiceEntry", "l4_protocol": "TCP",
				"destination_ports": []string{fmt.Sprintf("%d-%d", 20000+i*40, 20000+i*40+499)}}}
		case i < 490:
			src = []string{fmt.Sprintf("10.%d.0.0/12", (i%16)*16)}
			extra["services"] = []string{"ANY"}
		default:
			action = "DROP"
			extra["services"] = []string{"ANY"}
			src = []string{fmt.Sprintf("10.%d.128.0/17", i%16)}
		}
		rules = append(rules, ruleJSON(fmt.Sprintf("r%d", i), i+1, src, dst, action, "IN_OUT", extra))
	}
	kids = append(kids, polJSON("bench", "Application", 1, nil, rules...))
	return nsxInfra(func() []o {
		out := make([]o, len(kids))
		for i, k := range kids {
			out[i] = k.(o)
		}
		return out
	}()...)
}

// BenchmarkCheck1M evaluates a million conversations against a 500-rule
// NSX policy and summarises (make bench; compare with
// BenchmarkSynthesizeSame1M, the synthesis of the same conversations).
func BenchmarkCheck1M(b *testing.B) {
	convs := analysistest.Table(benchConversations(1_000_000))
	set := load(b, "bench.json", mustJSON(b, benchNSX()))
	review := rules.ReviewReasons(convs, rules.Knobs{})
	env := Env{Default: Drop}
	base := liveHeap()
	b.ReportAllocs()
	var r Result
	for b.Loop() {
		r = Check(set, env, convs, review)
	}
	// What the check keeps (verdicts, report) beyond its input.
	b.ReportMetric(float64(liveHeap()-base)/1e6, "MB-kept")
	runtime.KeepAlive(convs)
	runtime.KeepAlive(review)
	b.ReportMetric(float64(r.Report.ByOutcome[Blocked].Conversations), "blocked")
	if len(r.Program.Rules()) != 501 {
		b.Fatalf("%d rules, want 500 and the default", len(r.Program.Rules()))
	}
}

// liveHeap collects and returns the bytes of live heap objects.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkSynthesizeSame1M synthesises the rules of the conversations
// BenchmarkCheck1M checks, for the ratio.
func BenchmarkSynthesizeSame1M(b *testing.B) {
	convs := analysistest.Table(benchConversations(1_000_000))
	base := liveHeap()
	b.ReportAllocs()
	var rs rules.Set
	for b.Loop() {
		rs = rules.Synthesize(convs, rules.Knobs{})
	}
	b.ReportMetric(float64(liveHeap()-base)/1e6, "MB-kept")
	runtime.KeepAlive(convs)
	b.ReportMetric(float64(len(rs.Rules)), "rules")
}
