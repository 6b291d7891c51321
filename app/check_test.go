package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/export"
)

// exportNSX writes the NSX body FlowSleuth exports for u's workspace.
func exportNSX(t *testing.T, u *UI) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nsx.json")
	s := u.Project().Snapshot()
	in := &export.Input{Rules: s.Rules, Vendor: export.VendorOptions{PolicyName: "demo", Apply: true}}
	for _, j := range export.Plan(export.Targets{NSX: path}, in) {
		if _, err := j.Write(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// checkNow loads policy files into the Check view and waits for the check.
func checkNow(t *testing.T, u *UI, def string, files ...string) *checkState {
	t.Helper()
	var got *checkState
	onUI(func() {
		u.check.onCheck = func(st *checkState) { got = st }
		u.check.defSel.SetSelected(def) // runs nothing while no policy is loaded
		u.check.policies = files
		u.check.rerun()
	})
	settle(t, u)
	if got == nil {
		t.Fatalf("no check shown; summary %q", u.check.summary.Text)
	}
	return got
}

func TestCheckView(t *testing.T) {
	u := demoUI(t)
	// The export ends with the application's boundary and is meant for a
	// brownfield DFW whose default rule allows: the demo's inventory makes
	// the DCs and the monitoring host VMs too, which a default drop would
	// cut off at their own vNICs, by rules that are not this policy's.
	st := checkNow(t, u, "allow", exportNSX(t, u))
	r := &st.x.Result.Report
	if !strings.Contains(u.check.summary.Text, "OK: no observed conversation outside review would be blocked") || !r.OK() {
		t.Errorf("summary %q", u.check.summary.Text)
	}
	blocked := r.ByOutcome[policy.Blocked].Conversations
	if blocked == 0 || !strings.HasPrefix(u.check.tabs.Items[0].Text, "Would break (0)") {
		t.Errorf("%d blocked, tab %q", blocked, u.check.tabs.Items[0].Text)
	}
	// Flows: the Verdict column and the verdict filter.
	onUI(func() { u.check.showInFlows() })
	settle(t, u)
	if u.tabs.Selected().Text != "Flows" || u.flows.view.Len() != blocked {
		t.Fatalf("Flows shows %d rows on %q, want the %d blocked", u.flows.view.Len(), u.tabs.Selected().Text, blocked)
	}
	for i := range u.flows.view.Len() {
		if got := u.flows.table.cell(i, ColVerdict); got != "blocked" {
			t.Fatalf("row %d: verdict %q", i, got)
		}
	}
	if u.flows.table.headers[ColVerdict] != "Verdict" {
		t.Errorf("headers %v", u.flows.table.headers)
	}
	// Rules: every synthesised rule's traffic is allowed by its own export.
	for row := range u.rules.table.rows() {
		if got := u.rules.table.cell(row, colRuleCheck); got != "allowed" {
			t.Errorf("rule %d: checked policy says %q", row, got)
		}
	}
	// The workbook gains the What-if sheets.
	_, in := u.export.input()
	if in.Workbook.WhatIf == nil {
		t.Error("the export's workbook has no What-if sheet")
	}
	// A rule removed: its traffic is what would break, highlighted in Rules.
	onUI(func() { u.check.clear() })
	settle(t, u)
	if got := u.rules.table.cell(0, colRuleCheck); got != "" {
		t.Errorf("after Clear the Rules view still says %q", got)
	}
}

func TestCheckViewUnused(t *testing.T) {
	u := demoUI(t)
	path := filepath.Join(t.TempDir(), "v3.json")
	writeText(t, path, `{"metadata":{"kind":"network_security_rule"},"spec":{"name":"web","resources":{"app_rule":{
		"action":"MONITOR","target_group":{"filter":{"type":"CATEGORIES_MATCH_ALL","params":{"AppType":["Payroll"]}},"default_internal_policy":"ALLOW_ALL"},
		"inbound_allow_list":[{"peer_specification_type":"ALL","protocol":"TCP","tcp_port_range_list":[{"start_port":65000,"end_port":65000}],"description":"nobody uses this"}],
		"outbound_allow_list":[{"peer_specification_type":"ALL"}]}}}}`)
	st := checkNow(t, u, "allow", path)
	r := &st.x.Result.Report
	// No VM of the demo's inventory has AppType:Payroll: nothing is secured,
	// and every rule of the policy matched nothing.
	names := ""
	for _, x := range r.Unused {
		names += x.Name + ";"
	}
	if !strings.Contains(names, "nobody uses this") || !strings.Contains(u.check.tabs.Items[1].Text, fmt.Sprintf("%d unused", len(r.Unused))) {
		t.Errorf("unused %s, tab %q", names, u.check.tabs.Items[1].Text)
	}
	onUI(func() {
		for row := range len(st.x.Result.Program.Rules()) {
			o := u.check.rules.CreateCell() // a cell as the table makes it
			u.check.rules.UpdateCell(widget.TableCellID{Row: row, Col: 0}, o)
			l := cellLabel(o)
			if unused := u.check.rules.cell(row, 6) != "" && !strings.Contains(u.check.rules.cell(row, 6), "implicit"); unused != (l.Importance == widget.DangerImportance) {
				t.Errorf("rule %d (%s): importance %v", row, u.check.rules.cell(row, 0), l.Importance)
			}
		}
	})
	if len(r.Problems) == 0 || !strings.Contains(u.check.probs.Text, "AppType:Payroll") {
		t.Errorf("the unresolved category is not shown: %q", u.check.probs.Text)
	}
}

func TestReadinessInOverview(t *testing.T) {
	u := demoUI(t)
	settle(t, u)
	var text string
	var last bool
	onUI(func() { text, last = u.overview.ready.label.Text, u.overview.ready.last != nil })
	if !last || !strings.HasPrefix(text, "Readiness: rules from before the last day would have blocked") {
		t.Fatalf("readiness line %q", text)
	}
	onUI(func() { u.overview.ready.tapped() })
	settle(t, u)
	if u.tabs.Selected().Text != "Flows" || u.flows.filter.NewSince.IsZero() || u.flows.view.Len() == 0 {
		t.Errorf("the tap shows %d flows on %q, filter %+v", u.flows.view.Len(), u.tabs.Selected().Text, chipLabels(u.flows.filter.Chips()))
	}
}

func writeText(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadinessComputesAfterTheOverview: the readiness line Reload
// computed before the rules is shown as it is; a snapshot without one (new
// knobs or edits) has its line computed in the background, saying so with
// its button disabled while the figures around it show, and one whose
// rules are pending says it computes (Reload is computing it). The line
// fills in when it is done.
func TestReadinessComputesAfterTheOverview(t *testing.T) {
	u := demoUI(t)
	release := make(chan struct{})
	onUI(func() {
		compute := u.overview.ready.compute
		u.overview.ready.compute = func(p *Project, s *Snapshot) (rules.Readiness, error) {
			<-release
			return compute(p, s)
		}
	})
	s := u.Project().Snapshot()
	if s.Ready == nil || s.Ready.Err != nil {
		t.Fatalf("Reload left the readiness line %+v", s.Ready)
	}
	fresh := *s
	fresh.Ready = nil
	pending := fresh
	pending.RulesPending = true
	const computed = "Readiness: rules from before the last day would have blocked"
	var text, cards string
	var enabled bool
	read := func() {
		text, enabled = u.overview.ready.label.Text, !u.overview.ready.btn.Disabled()
		cards = u.overview.rulesValue.Text
	}
	for _, step := range []struct {
		s       *Snapshot
		want    string
		enabled bool
	}{{s, computed, true}, {&fresh, readinessComputing, false}, {&pending, readinessComputing, false},
		{&fresh, readinessComputing, false}} {
		onUI(func() {
			u.overview.show(step.s)
			read()
		})
		if !strings.HasPrefix(text, step.want) || enabled != step.enabled || !step.s.RulesPending && cards != thousands(len(s.Rules.Rules)) {
			t.Errorf("rules pending %v, readiness %v: line %q, button enabled %v, rules card %q", step.s.RulesPending,
				step.s.Ready != nil, text, enabled, cards)
		}
	}
	close(release)
	settle(t, u)
	if onUI(read); !strings.HasPrefix(text, computed) || !enabled {
		t.Errorf("computed: line %q, button enabled %v", text, enabled)
	}
}
