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

// hostConv is an answered outbound TCP conversation of tag web from
// 10.0.0.1 to 192.0.2.peer on port, logged by hosts.
func hostConv(peer byte, port uint16, hosts ...string) analysistest.Conversation {
	return analysistest.Conversation{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.AddrFrom4([4]byte{192, 0, 2, peer}), Proto: ingest.ProtoTCP, DPort: port,
		Direction: ingest.DirOutbound, Sessions: 1, OrigPkts: 1, ReplyPkts: 1, Actions: []ingest.Action{ingest.ActionAllow},
		Tags: []analysis.Tag{{Name: "web", Direction: ingest.DirOutbound}}, Hosts: hosts}
}

// TestEvidenceHosts: a rule's hosts are those of its conversations, each
// once, sorted by name; a rule's hosts do not leak into the next rule's;
// a rule of conversations without hosts has none; a merge unites them.
func TestEvidenceHosts(t *testing.T) {
	convs := []analysistest.Conversation{
		hostConv(1, 443, "esx-b", "esx-c"), hostConv(2, 443, "ahv-9"), hostConv(3, 443, "esx-b", "esx-c"), hostConv(4, 443, "ahv-10", "esx-b"),
		hostConv(1, 53, "esx-z"), hostConv(2, 53, "esx-a", "esx-b"), hostConv(3, 53, "esx-b", "esx-c"),
		hostConv(5, 123), hostConv(6, 123),
	}
	tb := analysistest.Table(convs)
	want := map[uint16][]string{443: {"ahv-10", "ahv-9", "esx-b", "esx-c"}, 53: {"esx-a", "esx-b", "esx-c", "esx-z"}, 123: nil}
	rs := rules.Synthesize(tb, rules.Knobs{})
	if len(rs.Rules) != 3 {
		t.Fatalf("%d rules, want 3", len(rs.Rules))
	}
	byPort := map[uint16]rules.Rule{}
	for _, r := range rs.Rules {
		port := r.Service.Ports[0].From
		byPort[port] = r
		if got := r.Evidence.Hosts; !slices.Equal(got, want[port]) || (want[port] == nil) != (got == nil) {
			t.Errorf("rule %s: hosts %q, want %q", r.Name, got, want[port])
		}
	}
	merged, results := rules.ApplyEdits(rs, []rules.Edit{{Seq: 1, Op: rules.EditMerge, Rule: byPort[53].ID, Arg: byPort[443].ID}})
	if !results[0].Applied {
		t.Fatalf("merge not applied: %s", results[0].Why)
	}
	for _, r := range merged.Rules {
		if r.ID != byPort[53].ID {
			continue
		}
		if w := []string{"ahv-10", "ahv-9", "esx-a", "esx-b", "esx-c", "esx-z"}; !slices.Equal(r.Evidence.Hosts, w) {
			t.Errorf("merged: hosts %q, want %q", r.Evidence.Hosts, w)
		}
	}
}

// TestEvidenceHostsShared: rules with the same hosts share one list of
// names (a rule set of a million conversations held 32 MB of copies).
func TestEvidenceHostsShared(t *testing.T) {
	tb := analysistest.Table([]analysistest.Conversation{hostConv(1, 443, "esx-b", "esx-a"), hostConv(2, 53, "esx-a"), hostConv(3, 53, "esx-b")})
	rs := rules.Synthesize(tb, rules.Knobs{})
	if len(rs.Rules) != 2 {
		t.Fatalf("%d rules, want 2", len(rs.Rules))
	}
	a, b := rs.Rules[0].Evidence.Hosts, rs.Rules[1].Evidence.Hosts
	if !slices.Equal(a, []string{"esx-a", "esx-b"}) || !slices.Equal(b, a) {
		t.Fatalf("hosts %q and %q, want esx-a, esx-b twice", a, b)
	}
	if &a[0] != &b[0] {
		t.Error("two rules with the same hosts hold two lists")
	}
}
