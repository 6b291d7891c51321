package rules_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// scopeWorld is a three-tier application as the inventory describes it:
// web, app and db VMs with the categories AppType:Books and AppTier:X (the
// db VMs also AppFamily:Databases) and their NSX security groups, plus a DNS
// server VM the inventory names without groups.
type scopeWorld struct {
	groups map[string][]string // by address
	vms    map[string]string   // VM names by address
}

func newScopeWorld() scopeWorld {
	w := scopeWorld{groups: map[string][]string{}, vms: map[string]string{}}
	for addr, g := range map[string][]string{
		"10.20.10.11": {"AppTier:Web", "AppType:Books", "SGTSBOOKS", "SGTSWEB"},
		"10.20.10.12": {"AppTier:Web", "AppType:Books", "SGTSBOOKS", "SGTSWEB"},
		"10.20.20.21": {"AppTier:App", "AppType:Books", "SGTSAPP", "SGTSBOOKS"},
		"10.20.30.31": {"AppFamily:Databases", "AppTier:DB", "AppType:Books", "SGTSBOOKS", "SGTSDB"},
	} {
		w.groups[addr] = g
	}
	for addr, vm := range map[string]string{"10.20.10.11": "web-01", "10.20.10.12": "web-02",
		"10.20.20.21": "app-01", "10.20.30.31": "db-01", "10.10.0.10": "dc-01", "10.10.0.11": "dc-02"} {
		w.vms[addr] = vm
	}
	return w
}

// conv builds an answered conversation labelled as the workspace labels it.
func (w scopeWorld) conv(src, dst string, proto uint8, port uint16, dir ingest.Direction, sessions uint64, tags ...analysis.Tag) analysistest.Conversation {
	return analysistest.Conversation{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: proto, DPort: port,
		Direction: dir, Sessions: sessions, ReplyPkts: sessions, Tags: tags,
		SrcVM: w.vms[src], DstVM: w.vms[dst], SrcGroups: w.groups[src], DstGroups: w.groups[dst]}
}

func (w scopeWorld) convs(extra ...analysistest.Conversation) []analysistest.Conversation {
	in, out, intra := ingest.DirInbound, ingest.DirOutbound, ingest.DirIntra
	tcp, udp := ingest.ProtoTCP, ingest.ProtoUDP
	cs := []analysistest.Conversation{
		w.conv("198.51.100.7", "10.20.10.11", tcp, 443, in, 40, analysis.Tag{Name: "SGTSWEB", Direction: in}),
		w.conv("10.20.10.11", "10.20.20.21", tcp, 8080, intra, 30),
		w.conv("10.20.10.12", "10.20.20.21", tcp, 8080, intra, 30),
		w.conv("10.20.20.21", "10.20.30.31", tcp, 5432, intra, 20),
		w.conv("10.20.10.11", "10.10.0.10", udp, 53, out, 9, analysis.Tag{Name: "SGTSWEB", Direction: out}),
		w.conv("10.20.10.12", "10.10.0.11", udp, 53, out, 9, analysis.Tag{Name: "SGTSWEB", Direction: out}),
		w.conv("10.20.30.31", "10.10.0.10", udp, 53, out, 9, analysis.Tag{Name: "SGTSDB", Direction: out}),
	}
	for i := range cs {
		cs[i].Vendors = []ingest.Vendor{ingest.NSXT}
	}
	return append(cs, extra...)
}

func ruleBetween(rs rules.Set, src, dst string) *rules.Rule {
	for i := range rs.Rules {
		if rs.Rules[i].Src.Name == src && rs.Rules[i].Dst.Name == dst {
			return &rs.Rules[i]
		}
	}
	return nil
}

// TestSynthesizeTiers: inventory VMs keep all their categories; the tier key
// picks the tier, ANDed with the application's category (found as the one
// every monitored VM shares); a second category on the db VMs does not
// merge tiers; NSX security groups come from the tags.
func TestSynthesizeTiers(t *testing.T) {
	w := newScopeWorld()
	convs := w.convs()
	rs := rules.Synthesize(analysistest.Table(convs), rules.Knobs{})
	checkInvariants(t, convs, rs)
	if rs.Scope.TierKey != "AppTier" || !slices.Equal(rs.Scope.AppCategories, []string{"AppType:Books"}) ||
		!slices.Equal(rs.Scope.AppGroups, []string{"SGTSBOOKS"}) {
		t.Fatalf("scope %+v", rs.Scope)
	}
	webApp := ruleBetween(rs, "AppTier:Web", "AppTier:App")
	appDB := ruleBetween(rs, "AppTier:App", "AppTier:DB")
	if webApp == nil || appDB == nil {
		t.Fatalf("tier-to-tier rules missing: %v", ruleNames(rs))
	}
	for _, tc := range []struct {
		e         rules.Endpoint
		cats      []string
		tag       string
		nMembers  int
		kind      rules.EndpointKind
		groupPart string
	}{
		{webApp.Src, []string{"AppType:Books", "AppTier:Web"}, "SGTSWEB", 2, rules.KindGroup, "AppTier:Web"},
		{webApp.Dst, []string{"AppType:Books", "AppTier:App"}, "SGTSAPP", 1, rules.KindGroup, "AppTier:App"},
		{appDB.Dst, []string{"AppType:Books", "AppTier:DB"}, "SGTSDB", 1, rules.KindGroup, "AppTier:DB"},
	} {
		if !slices.Equal(tc.e.Categories, tc.cats) || tc.e.Tag != tc.tag || len(tc.e.Prefixes) != tc.nMembers ||
			tc.e.Kind != tc.kind || !strings.Contains(tc.e.Group, tc.groupPart) {
			t.Errorf("endpoint %+v, want categories %v, tag %s, %d members", tc.e, tc.cats, tc.tag, tc.nMembers)
		}
	}
	if webApp.Direction != ingest.DirIntra {
		t.Errorf("web→app direction %s", webApp.Direction)
	}
	// A conversation logged by NSX and Nutanix carries the Nutanix policy's
	// name too: the security group is still the one the inventory lists.
	both := w.convs()
	for i := range both {
		both[i].Vendors = []ingest.Vendor{ingest.Nutanix, ingest.NSXT}
		both[i].Tags = append(both[i].Tags, analysis.Tag{Name: "Discover-Traffic", Direction: both[i].Direction})
		both[i].Sessions *= 10
	}
	rs = rules.Synthesize(analysistest.Table(both), rules.Knobs{})
	if r := ruleBetween(rs, "AppTier:Web", "AppTier:App"); r == nil || r.Src.Tag != "SGTSWEB" || r.Dst.Tag != "SGTSAPP" {
		t.Errorf("security groups with a Nutanix policy's tag around: %+v", r)
	}
	// Without a tier key (an unknown one), a VM's group is all its categories:
	// the db VMs' AppFamily then stays in their group, which still differs
	// from the other tiers.
	rs = rules.Synthesize(analysistest.Table(convs), rules.Knobs{TierKey: "Nothing"})
	if r := ruleBetween(rs, "AppTier:App & AppType:Books", "AppFamily:Databases & AppTier:DB & AppType:Books"); r == nil {
		t.Errorf("without a tier: %v", ruleNames(rs))
	}
	// An explicit application category that some VMs lack leaves them out
	// of the application: their groups are named in full.
	rs = rules.Synthesize(analysistest.Table(convs), rules.Knobs{AppCategories: []string{"AppFamily:Databases"}})
	if r := ruleBetween(rs, "AppTier:App & AppType:Books", "AppTier:DB"); r == nil ||
		!slices.Equal(r.Dst.Categories, []string{"AppFamily:Databases", "AppTier:DB"}) ||
		!slices.Equal(r.Src.Categories, []string{"AppTier:App", "AppType:Books"}) {
		t.Errorf("with AppFamily:Databases as the application: %v", ruleNames(rs))
	}
}

func ruleNames(rs rules.Set) []string {
	var out []string
	for _, r := range rs.Rules {
		out = append(out, r.Direction.String()+" "+r.Name)
	}
	return out
}

// TestRuleIDsIgnoreMembers: a new DNS server, a new web VM or a new client
// changes members, never rule IDs; the DNS servers are an IP set named after
// their VMs.
func TestRuleIDsIgnoreMembers(t *testing.T) {
	w := newScopeWorld()
	before := rules.Synthesize(analysistest.Table(w.convs()), rules.Knobs{})
	w.groups["10.20.10.13"] = w.groups["10.20.10.11"]
	more := w.convs(
		w.conv("10.20.10.13", "10.10.0.12", ingest.ProtoUDP, 53, ingest.DirOutbound, 3, analysis.Tag{Name: "SGTSWEB", Direction: ingest.DirOutbound}),
		w.conv("198.51.100.8", "10.20.10.13", ingest.ProtoTCP, 443, ingest.DirInbound, 3),
	)
	after := rules.Synthesize(analysistest.Table(more), rules.Knobs{})
	ids := func(rs rules.Set) []string {
		var out []string
		for _, r := range rs.Rules {
			out = append(out, r.ID)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(ids(before), ids(after)) {
		t.Errorf("rule IDs changed with the members:\n%v\n%v", ruleNames(before), ruleNames(after))
	}
	dns := ruleBetween(before, "AppTier:Web", "dc-01, dc-02")
	if dns == nil || dns.Dst.Kind != rules.KindIPSet || len(dns.Dst.Prefixes) != 2 {
		t.Fatalf("web → DNS servers: %v", ruleNames(before))
	}
	grown := ruleBetween(after, "AppTier:Web", "DNS servers") // 10.10.0.12 has no VM name: named after the service
	if grown == nil || grown.ID != dns.ID || grown.Dst.Group != dns.Dst.Group || len(grown.Dst.Prefixes) != 3 {
		t.Errorf("the grown IP set: %+v (rules %v)", grown, ruleNames(after))
	}
	// The db tier's DNS servers are another IP set: the same members, but
	// another rule.
	if db := ruleBetween(before, "AppTier:DB", "dc-01"); db == nil || db.Dst.Group == dns.Dst.Group {
		t.Errorf("db → dc-01: %v", ruleNames(before))
	}
}

// TestFocus is the seed workflow's "only traffic to/from 10.48.52.240":
// directions are relative to the focus, the focused side is named after its
// VM or address, and the rest is outside the scope.
func TestFocus(t *testing.T) {
	w := newScopeWorld()
	convs := w.convs(
		analysistest.Conversation{Src: netip.MustParseAddr("10.48.52.240"), Dst: netip.MustParseAddr("20.10.31.115"), Proto: ingest.ProtoTCP,
			DPort: 443, Sessions: 3, ReplyPkts: 3, Tags: []analysis.Tag{{Name: "Discover-Traffic", Direction: ingest.DirOutbound}},
			Direction: ingest.DirOutbound},
		analysistest.Conversation{Src: netip.MustParseAddr("100.64.128.20"), Dst: netip.MustParseAddr("34.243.160.129"), Proto: ingest.ProtoTCP,
			DPort: 443, Sessions: 3, ReplyPkts: 3, Tags: []analysis.Tag{{Name: "Default Global Policy", Direction: ingest.DirOutbound}},
			Direction: ingest.DirUnknown},
	)
	focus, err := analysis.ParseFocus("10.48.52.240, web-01", func(name string) []netip.Addr {
		if name == "web-01" {
			return []netip.Addr{netip.MustParseAddr("10.20.10.11")}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := rules.Synthesize(analysistest.Table(convs), rules.Knobs{Focus: focus})
	checkInvariants(t, convs, rs)
	want := map[string]string{
		"10.48.52.240 to 20.10.31.115 HTTPS (443/tcp)":    "OUTBOUND",
		"web-01 to AppTier:App HTTP alternate (8080/tcp)": "OUTBOUND",
		"web-01 to dc-01 DNS (53/udp)":                    "OUTBOUND",
	}
	for _, r := range rs.Rules {
		if _, ok := want[r.Name]; !ok && !strings.HasPrefix(r.Name, "198.51.100.7 to web-01") {
			t.Errorf("unexpected rule %s %s", r.Direction, r.Name)
		}
		delete(want, r.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing rules %v in %v", want, ruleNames(rs))
	}
	if len(rs.Outside) != len(convs)-4 {
		t.Errorf("%d outside the scope, want %d", len(rs.Outside), len(convs)-4)
	}
	if _, err := analysis.ParseFocus("nosuchvm", nil); err == nil {
		t.Error("an unknown VM was accepted as focus")
	}
	// Without focus, the unmonitored conversation is outside the scope, not
	// a rule of direction UNKNOWN.
	rs = rules.Synthesize(analysistest.Table(convs), rules.Knobs{})
	checkInvariants(t, convs, rs)
	if len(rs.Outside) != 1 || rs.Table.Src(int(rs.Outside[0].Row)).String() != "100.64.128.20" {
		t.Errorf("outside: %+v", rs.Outside)
	}
}
