package rules_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// checkInvariants: every conversation kept is admitted by a rule, every
// rule has evidence and a direction, and review, outside and kept
// conversations account for all.
func checkInvariants(t *testing.T, convs []analysistest.Conversation, rs rules.Set) {
	t.Helper()
	tb := rs.Table
	inReview := make(map[int32]bool)
	for _, r := range slices.Concat(rs.Review, rs.Outside) {
		inReview[r.Row] = true
	}
	for _, r := range rs.Outside {
		if r.Reason != rules.OutsideReason {
			t.Fatalf("outside item with reason %q", r.Reason)
		}
	}
	for i := range tb.Len() {
		if inReview[int32(i)] {
			continue
		}
		admitted := false
		for j := range rs.Rules {
			if rs.Rules[j].Admits(tb, i) {
				admitted = true
				break
			}
		}
		if !admitted {
			t.Fatalf("conversation %s is in no rule and not under review", key(analysistest.Row(tb, i)))
		}
	}
	flows := 0
	for _, r := range rs.Rules {
		evidence := r.Evidence.Rows
		if r.Evidence.Conversations == 0 || r.Evidence.Conversations != len(evidence) {
			t.Fatalf("rule %s without evidence", r.Name)
		}
		for _, i := range evidence {
			if !r.Admits(tb, int(i)) {
				t.Fatalf("rule %s does not admit its own evidence %s", r.Name, key(analysistest.Row(tb, int(i))))
			}
		}
		flows += len(evidence)
		if r.Description == "" || r.ID == "" || r.Action != ingest.ActionAllow {
			t.Fatalf("rule incomplete: %+v", r)
		}
		if r.Direction == ingest.DirUnknown {
			t.Fatalf("rule %s has direction UNKNOWN", r.Name)
		}
	}
	if flows+len(rs.Review)+len(rs.Outside) != len(convs) {
		t.Fatalf("%d conversations in rules + %d in review + %d outside != %d", flows, len(rs.Review), len(rs.Outside), len(convs))
	}
}

func key(c analysistest.Conversation) string {
	return fmt.Sprintf("%s>%s/%d/%d", c.Src, c.Dst, c.Proto, c.DPort)
}

func TestSynthesizeDemo(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
		t.Run(vendor, func(t *testing.T) {
			var buf bytes.Buffer
			if _, _, err := demo.Generate(&buf, demo.Config{Vendor: vendor, Sessions: 3000, Seed: 2}); err != nil {
				t.Fatal(err)
			}
			m := analysis.NewModel(analysis.Options{})
			analysistest.AddLines(t, m, strings.Split(strings.TrimSpace(buf.String()), "\n"))
			convs := analysistest.Rows(m.Table())
			rs := rules.Synthesize(analysistest.Table(convs), rules.Knobs{})
			checkInvariants(t, convs, rs)
			if len(rs.Rules) == 0 || len(rs.Rules) >= len(convs) || len(rs.Review) == 0 {
				t.Errorf("%d rules and %d review items for %d conversations", len(rs.Rules), len(rs.Review), len(convs))
			}
			for _, r := range rs.Review {
				if !strings.Contains(r.Reason, "scan") && !strings.Contains(r.Reason, "never answered") && r.Reason != "only seen dropped" {
					t.Errorf("review reason %q", r.Reason)
				}
			}
			// Stable across re-synthesis.
			again := rules.Synthesize(analysistest.Table(convs), rules.Knobs{})
			for i := range rs.Rules {
				if rs.Rules[i].ID != again.Rules[i].ID {
					t.Fatalf("rule IDs change between runs")
				}
			}
			// Suspect traffic can be included: then nothing is under review.
			all := rules.Synthesize(analysistest.Table(convs), rules.Knobs{IncludeSuspect: true})
			checkInvariants(t, convs, all)
			if len(all.Review) != 0 {
				t.Errorf("IncludeSuspect left %d under review", len(all.Review))
			}
		})
	}
}

// TestSynthesizeRandom checks the invariants on random conversation sets.
func TestSynthesizeRandom(t *testing.T) {
	for seed := int64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewSource(seed))
		var convs []analysistest.Conversation
		ends := randomEnds(r)
		for i := 0; i < 50+r.Intn(400); i++ {
			c := analysistest.Conversation{
				Src:      netip.AddrFrom4([4]byte{10, byte(r.Intn(3)), byte(r.Intn(4)), byte(1 + r.Intn(40))}),
				Dst:      netip.AddrFrom4([4]byte{10, byte(r.Intn(3)), byte(r.Intn(4)), byte(1 + r.Intn(40))}),
				Proto:    []uint8{ingest.ProtoTCP, ingest.ProtoUDP, ingest.ProtoICMP, 47}[r.Intn(4)],
				DPort:    uint16([]int{53, 80, 443, 8080, 8081, 8082, 3306}[r.Intn(7)]),
				Sessions: uint64(1 + r.Intn(9)),
				First:    time.Unix(1.7e9, 0), Last: time.Unix(1.7e9+3600, 0),
			}
			c.Direction = analysis.DirectionOf(ends.monitored(c.Src), ends.monitored(c.Dst))
			c.SrcGroups, c.DstGroups = ends.groups(c.Src), ends.groups(c.Dst)
			if c.Proto == ingest.ProtoICMP || c.Proto == 47 {
				c.DPort = 0
			}
			if r.Intn(10) == 0 {
				c.Unanswered = c.Sessions
			}
			if r.Intn(3) == 0 {
				c.Tags = []analysis.Tag{{Name: fmt.Sprintf("SG%d", r.Intn(3)), Direction: c.Direction}}
			}
			convs = append(convs, c)
		}
		convs = dedupe(convs)
		rs := rules.Synthesize(analysistest.Table(convs), rules.Knobs{CollapseMin: 1 + r.Intn(5), AnyPeers: 2 + r.Intn(40)})
		checkInvariants(t, convs, rs)
	}
}

// ends draws, once per address, whether it is monitored (directions follow
// from it, as a table gives them) and its inventory groups (one in five
// has one), so that random conversations agree on their addresses.
type ends struct {
	r    *rand.Rand
	mon  map[netip.Addr]bool
	grps map[netip.Addr][]string
}

func randomEnds(r *rand.Rand) *ends {
	return &ends{r: r, mon: map[netip.Addr]bool{}, grps: map[netip.Addr][]string{}}
}

func (e *ends) monitored(a netip.Addr) bool {
	in, ok := e.mon[a]
	if !ok {
		in = e.r.Intn(2) == 0
		e.mon[a] = in
	}
	return in
}

func (e *ends) groups(a netip.Addr) []string {
	g, ok := e.grps[a]
	if !ok {
		if e.r.Intn(5) == 0 {
			g = []string{fmt.Sprintf("AppTier:%d", e.r.Intn(3))}
		}
		e.grps[a] = g
	}
	return g
}

func dedupe(cs []analysistest.Conversation) []analysistest.Conversation {
	seen := map[string]bool{}
	var out []analysistest.Conversation
	for i := range cs {
		if k := key(cs[i]); !seen[k] {
			seen[k] = true
			out = append(out, cs[i])
		}
	}
	return out
}

func TestGeneralisation(t *testing.T) {
	web := netip.MustParseAddr("10.20.10.11")
	conv := func(dst string, port uint16) analysistest.Conversation {
		return analysistest.Conversation{Src: web, Dst: netip.MustParseAddr(dst), Proto: ingest.ProtoTCP, DPort: port,
			Direction: ingest.DirOutbound, Sessions: 1, ReplyPkts: 1,
			Tags: []analysis.Tag{{Name: "SGTSWEB", Direction: ingest.DirOutbound}}}
	}
	tests := []struct {
		Name  string
		In    []analysistest.Conversation
		Knobs rules.Knobs
		Want  []string // rule names
	}{
		{"ports of one peer merge, runs become ranges", []analysistest.Conversation{conv("10.9.9.9", 8080), conv("10.9.9.9", 8081), conv("10.9.9.9", 8083)},
			rules.Knobs{}, []string{"SGTSWEB to 10.9.9.9 8080-8081, 8083/tcp"}},
		{"four peers filling a /30 collapse", []analysistest.Conversation{conv("10.9.9.4", 53), conv("10.9.9.5", 53), conv("10.9.9.6", 53), conv("10.9.9.7", 53)},
			rules.Knobs{}, []string{"SGTSWEB to 10.9.9.4/30 DNS (53/tcp)"}},
		{"sparse peers stay single, an IP set named after their service", []analysistest.Conversation{conv("10.9.9.1", 53), conv("10.9.9.100", 53), conv("10.9.9.200", 53), conv("10.9.9.250", 53)},
			rules.Knobs{}, []string{"SGTSWEB to DNS servers DNS (53/tcp)"}},
		{"unnamed ports: the IP set is named after its members", []analysistest.Conversation{conv("10.9.9.1", 9102), conv("10.9.9.100", 9102)},
			rules.Knobs{}, []string{"SGTSWEB to 10.9.9.1, 10.9.9.100 9102/tcp"}},
		{"many peers become Any", []analysistest.Conversation{conv("1.1.1.1", 443), conv("2.2.2.2", 443), conv("3.3.3.3", 443)},
			rules.Knobs{AnyPeers: 2}, []string{"SGTSWEB to Any HTTPS (443/tcp)"}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			rs := rules.Synthesize(analysistest.Table(tc.In), tc.Knobs)
			checkInvariants(t, tc.In, rs)
			var got []string
			for _, r := range rs.Rules {
				got = append(got, r.Name)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.Want) {
				t.Errorf("got %q, want %q", got, tc.Want)
			}
		})
	}
}

// TestEndpointNames checks how a rule's side is named: the inventory group
// first, else the tag with the most sessions on that side (ties: the
// smallest name), else the address.
func TestEndpointNames(t *testing.T) {
	peer := netip.MustParseAddr("192.0.2.9")
	conv := func(src string, port uint16, sessions uint64, groups []string, tags ...string) analysistest.Conversation {
		c := analysistest.Conversation{Src: netip.MustParseAddr(src), Dst: peer, Proto: ingest.ProtoTCP, DPort: port,
			Direction: ingest.DirOutbound, Sessions: sessions, ReplyPkts: 1, SrcGroups: groups}
		for _, tag := range tags {
			c.Tags = append(c.Tags, analysis.Tag{Name: tag, Direction: ingest.DirOutbound})
		}
		return c
	}
	tests := []struct {
		Name string
		In   []analysistest.Conversation
		Want string // the source of the only rule
	}{
		{"most sessions win", []analysistest.Conversation{conv("10.0.0.1", 80, 5, nil, "SG-B"), conv("10.0.0.1", 81, 1, nil, "SG-A")}, "SG-B"},
		{"a tie goes to the smallest name", []analysistest.Conversation{conv("10.0.0.1", 80, 3, nil, "SG-B"), conv("10.0.0.1", 81, 3, nil, "SG-A")}, "SG-A"},
		{"votes add up over conversations", []analysistest.Conversation{conv("10.0.0.1", 80, 3, nil, "SG-B"), conv("10.0.0.1", 81, 3, nil, "SG-B"),
			conv("10.0.0.1", 82, 5, nil, "SG-A")}, "SG-B"},
		{"the inventory wins over tags", []analysistest.Conversation{conv("10.0.0.1", 80, 9, []string{"AppTier:Web"}, "SG-B")}, "AppTier:Web"},
		{"an empty tag names nothing", []analysistest.Conversation{conv("10.0.0.1", 80, 9, nil, "")}, "10.0.0.1"},
		{"no tag: the address", []analysistest.Conversation{conv("10.0.0.1", 80, 9, nil)}, "10.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			rs := rules.Synthesize(analysistest.Table(tc.In), rules.Knobs{})
			checkInvariants(t, tc.In, rs)
			if len(rs.Rules) != 1 {
				t.Fatalf("got %d rules, want 1", len(rs.Rules))
			}
			if got := rs.Rules[0].Src.Name; got != tc.Want {
				t.Errorf("source %q, want %q", got, tc.Want)
			}
		})
	}
}

// TestSynthesizeOnEveryCore: rules finished on several goroutines are the
// rules finished on one (over a thousand rules: several batches each), and
// the race detector sees no rule written by two (make test runs it so).
func TestSynthesizeOnEveryCore(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	var convs []analysistest.Conversation
	ends := randomEnds(r)
	for i := range 6000 {
		c := analysistest.Conversation{
			Src:       netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
			Dst:       netip.AddrFrom4([4]byte{172, 16, byte(r.Intn(30)), 1}),
			Proto:     ingest.ProtoTCP,
			DPort:     uint16(1024 + r.Intn(1500)),
			Direction: ingest.DirOutbound,
			Sessions:  uint64(1 + r.Intn(9)),
			First:     time.Unix(1.7e9, 0), Last: time.Unix(1.7e9+3600, 0),
		}
		if ends.monitored(c.Dst) { // inbound or outbound, one reading of each destination
			c.Direction = ingest.DirInbound
		}
		if r.Intn(2) == 0 {
			c.Tags = []analysis.Tag{{Name: fmt.Sprintf("SG%d", r.Intn(20)), Direction: c.Direction}}
		}
		convs = append(convs, c)
	}
	tab := analysistest.Table(dedupe(convs))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := rules.Synthesize(tab, rules.Knobs{})
	if len(one.Rules) < 1000 {
		t.Fatalf("%d rules: too few for several batches", len(one.Rules))
	}
	runtime.GOMAXPROCS(4)
	if many := rules.Synthesize(tab, rules.Knobs{}); !reflect.DeepEqual(many, one) {
		t.Fatal("rules finished on four goroutines differ from those finished on one")
	}
}
