package rules_test

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

func demoRules(t *testing.T, sessions int) ([]analysistest.Conversation, rules.Set) {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := demo.Generate(&buf, demo.Config{Vendor: "nsxv", Sessions: sessions, Seed: 8}); err != nil {
		t.Fatal(err)
	}
	m := analysis.NewModel(analysis.Options{})
	analysistest.AddLines(t, m, strings.Split(strings.TrimSpace(buf.String()), "\n"))
	convs := analysistest.Rows(m.Table())
	return convs, rules.Synthesize(analysistest.Table(convs), rules.Knobs{})
}

func TestApplyEdits(t *testing.T) {
	convs, rs := demoRules(t, 2000)
	multi, other, first := editTargets(t, rs)
	edits := []rules.Edit{
		{Seq: 1, Op: rules.EditRename, Rule: first.ID, Arg: "Renamed"},
		{Seq: 2, Op: rules.EditDescribe, Rule: first.ID, Arg: "Why this rule exists"},
		{Seq: 3, Op: rules.EditMerge, Rule: multi.ID, Arg: other.ID},
		{Seq: 4, Op: rules.EditSplit, Rule: multi.ID},
		{Seq: 5, Op: rules.EditDelete, Rule: "r-0000000000"},
		{Seq: 6, Op: rules.EditMerge, Rule: first.ID, Arg: first.ID},
	}
	got, results := rules.ApplyEdits(rs, edits)
	wantApplied := []bool{true, true, true, true, false, false}
	for i, r := range results {
		if r.Applied != wantApplied[i] || (!r.Applied && r.Why == "") {
			t.Errorf("edit %d: applied %v (%s), want %v", i+1, r.Applied, r.Why, wantApplied[i])
		}
	}
	for _, r := range got.Rules {
		if r.ID == first.ID && (r.Name != "Renamed" || r.Description != "Why this rule exists") {
			t.Errorf("rename/describe: %q %q", r.Name, r.Description)
		}
	}
	parts := checkMergeSplit(t, got, multi, other)
	if rs.Rules[0].Name == "Renamed" || len(rs.Rules) != len(got.Rules)-parts+2 {
		t.Errorf("ApplyEdits changed the rule set it was given")
	}
	checkInvariants(t, convs, got) // every conversation still in a rule or under review

	// Delete: the rule's conversations go to review, and the invariant holds.
	del, _ := rules.ApplyEdits(rs, []rules.Edit{{Op: rules.EditDelete, Rule: first.ID}})
	if len(del.Rules) != len(rs.Rules)-1 || len(del.Review) != len(rs.Review)+first.Evidence.Conversations {
		t.Errorf("delete: %d rules, %d review", len(del.Rules), len(del.Review))
	}
	checkInvariants(t, convs, del)
}

// editTargets picks the rules TestApplyEdits edits: multi, a rule with
// several port ranges, other, another rule of its protocol (merged into
// it), and first, a third rule (renamed, described, deleted).
func editTargets(t *testing.T, rs rules.Set) (multi, other, first rules.Rule) {
	t.Helper()
	for _, r := range rs.Rules {
		if len(r.Service.Ports) > 1 && multi.ID == "" {
			multi = r
		}
	}
	for _, r := range rs.Rules {
		if r.ID != multi.ID && r.Service.Proto == multi.Service.Proto && other.ID == "" {
			other = r
		}
	}
	if multi.ID == "" || other.ID == "" {
		t.Fatal("demo rules lack a multi-port rule and a second rule of its protocol")
	}
	first = rs.Rules[0]
	for _, r := range rs.Rules {
		if r.ID != multi.ID && r.ID != other.ID {
			first = r
			break
		}
	}
	return multi, other, first
}

// checkMergeSplit checks that other is gone into multi and multi split into
// parts of one port range each, and returns the number of parts.
func checkMergeSplit(t *testing.T, got rules.Set, multi, other rules.Rule) int {
	t.Helper()
	parts := 0
	for _, r := range got.Rules {
		if r.ID == other.ID {
			t.Errorf("merged rule %s still there", other.ID)
		}
		if strings.HasPrefix(r.ID, multi.ID+"-") {
			parts++
			if len(r.Service.Ports) != 1 {
				t.Errorf("split part %s has %d port ranges", r.ID, len(r.Service.Ports))
			}
		}
	}
	if parts < 2 {
		t.Errorf("split made %d parts", parts)
	}
	return parts
}

// checkMerged checks TestMergeIssueCase's merged rule m: web's id and
// destination name, both ports, both hosts once, and the totals of all six
// conversations in its description.
func checkMerged(t *testing.T, m, web rules.Rule) {
	t.Helper()
	if m.ID != web.ID || m.Service.PortList() != "88, 389" || len(m.Dst.Prefixes) != 2 ||
		m.Dst.Prefixes[0] == m.Dst.Prefixes[1] || m.Dst.Name != web.Dst.Name {
		t.Errorf("merged: id %s ports %q destination %+v", m.ID, m.Service.PortList(), m.Dst)
	}
	if m.Evidence.Sessions != 158 || m.Evidence.Conversations != 6 ||
		!strings.Contains(m.Description, "158 sessions") || strings.Contains(m.Description, "12 sessions") {
		t.Errorf("merged evidence %d sessions, description %q", m.Evidence.Sessions, m.Description)
	}
}

// checkMergedName checks the merged rule's name: keep, the user's, or
// ("") a generated name naming both sources.
func checkMergedName(t *testing.T, name, keep string) {
	t.Helper()
	if keep != "" && name != keep {
		t.Errorf("name %q, want the user's %q", name, keep)
	}
	if keep == "" && (!strings.Contains(name, "SGTSWEB") || !strings.Contains(name, "App Isolation")) {
		t.Errorf("generated name %q does not name both sources", name)
	}
}

// TestEditsSurviveNewData: edits keyed by rule ID still apply after more
// logs arrive, as long as the rule is the same rule.
func TestEditsSurviveNewData(t *testing.T) {
	_, small := demoRules(t, 1500)
	convs, big := demoRules(t, 3000)
	var edits []rules.Edit
	for i, r := range small.Rules {
		edits = append(edits, rules.Edit{Seq: int64(i), Op: rules.EditRename, Rule: r.ID, Arg: "kept " + r.ID})
	}
	got, results := rules.ApplyEdits(big, edits)
	applied := 0
	for _, r := range results {
		if r.Applied {
			applied++
		}
	}
	if applied < len(edits)*3/4 {
		t.Errorf("only %d of %d renames survived more data", applied, len(edits))
	}
	checkInvariants(t, convs, got)
}

func TestExclude(t *testing.T) {
	convs, rs := demoRules(t, 2000)
	peer := rs.Table.Src(int(rs.Rules[0].Evidence.Rows[0]))
	ex, err := rules.Exclusions([]rules.Edit{{Op: rules.EditExclude, Arg: peer.String()}})
	if err != nil {
		t.Fatal(err)
	}
	got := rules.Synthesize(analysistest.Table(convs), rules.Knobs{Exclude: ex})
	checkInvariants(t, convs, got)
	for _, r := range got.Rules {
		for _, i := range r.Evidence.Rows {
			if got.Table.Src(int(i)) == peer || got.Table.Dst(int(i)) == peer {
				t.Fatalf("excluded peer %s still in rule %s", peer, r.Name)
			}
		}
	}
	if _, err := rules.Exclusions([]rules.Edit{{Op: rules.EditExclude, Arg: "nonsense"}}); err == nil {
		t.Error("a bad exclusion was accepted")
	}
}

// TestMergeIssueCase is the case of the issue: merging "App Isolation →
// 10.10.0.10, 10.10.0.11 88/tcp" into "SGTSWEB → the same hosts 88, 389/tcp"
// must give ports "88, 389", the hosts once, and a description whose totals
// are the merged rule's.
func TestMergeIssueCase(t *testing.T) {
	out := ingest.DirOutbound
	conv := func(src, dst string, port uint16, sessions uint64, tag string) analysistest.Conversation {
		return analysistest.Conversation{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: ingest.ProtoTCP,
			DPort: port, Direction: out, Sessions: sessions, ReplyPkts: sessions, Tags: []analysis.Tag{{Name: tag, Direction: out}}}
	}
	convs := []analysistest.Conversation{
		conv("10.20.10.11", "10.10.0.10", 88, 50, "SGTSWEB"), conv("10.20.10.11", "10.10.0.11", 88, 40, "SGTSWEB"),
		conv("10.20.10.11", "10.10.0.10", 389, 30, "SGTSWEB"), conv("10.20.10.11", "10.10.0.11", 389, 26, "SGTSWEB"),
		conv("10.20.30.31", "10.10.0.10", 88, 7, "App Isolation"), conv("10.20.30.31", "10.10.0.11", 88, 5, "App Isolation"),
	}
	rs := rules.Synthesize(analysistest.Table(convs), rules.Knobs{})
	var web, db rules.Rule
	for _, r := range rs.Rules {
		switch r.Src.Name {
		case "SGTSWEB":
			web = r
		case "App Isolation":
			db = r
		}
	}
	if web.Service.PortList() != "88, 389" || db.Service.PortList() != "88" || !strings.Contains(db.Description, "12 sessions") {
		t.Fatalf("fixture: %q %q %q", web.Service.PortList(), db.Service.PortList(), db.Description)
	}
	for _, tc := range []struct {
		name  string
		edits []rules.Edit
		keep  string // the name kept, "" for a generated one
	}{
		{"generated name", nil, ""},
		{"renamed first", []rules.Edit{{Op: rules.EditRename, Rule: web.ID, Arg: "Web to the DCs"}}, "Web to the DCs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edits := append(slices.Clone(tc.edits), rules.Edit{Op: rules.EditMerge, Rule: web.ID, Arg: db.ID})
			got, results := rules.ApplyEdits(rs, edits)
			for _, r := range results {
				if !r.Applied {
					t.Fatalf("edit %+v: %s", r.Edit, r.Why)
				}
			}
			checkInvariants(t, convs, got)
			if len(got.Rules) != 1 {
				t.Fatalf("%d rules after the merge", len(got.Rules))
			}
			checkMerged(t, got.Rules[0], web)
			checkMergedName(t, got.Rules[0].Name, tc.keep)
		})
	}
	// A description the user wrote survives a merge.
	got, _ := rules.ApplyEdits(rs, []rules.Edit{{Op: rules.EditDescribe, Rule: web.ID, Arg: "CHG-1"},
		{Op: rules.EditMerge, Rule: web.ID, Arg: db.ID}})
	if got.Rules[0].Description != "CHG-1" {
		t.Errorf("the user's description became %q", got.Rules[0].Description)
	}
	// A rule cannot be merged into itself, nor across directions.
	_, results := rules.ApplyEdits(rs, []rules.Edit{{Op: rules.EditMerge, Rule: web.ID, Arg: web.ID}})
	if results[0].Applied {
		t.Error("a rule was merged into itself")
	}
}
