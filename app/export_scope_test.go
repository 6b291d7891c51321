package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/export"
)

// TestExportViewVendorOptions: the Export view offers the CLI's choices: the
// NSX group mapping, policy sequence and application group reach the body;
// a bad value stops the export with a message.
func TestExportViewVendorOptions(t *testing.T) {
	u := demoUI(t)
	e := u.export
	mapping := filepath.Join(t.TempDir(), "groups.csv")
	os.WriteFile(mapping, []byte("tag,path\nSGTSDB,/infra/domains/prod/groups/SGTSDB\n"), 0o644)
	onUI(func() {
		for _, tg := range e.targets {
			tg.check.SetChecked(strings.Contains(tg.name, "nsx"))
		}
		e.opts.nsxGroups.SetText(mapping)
		e.opts.nsxSequence.SetText("300")
		e.opts.appGroup.SetText("/infra/domains/default/groups/SGTSBOOKS")
		e.which.SetSelected("NSX Policy API JSON")
	})
	_, in := e.input()
	if in.Vendor.NSXSequence != 300 || in.Vendor.NSXGroups["SGTSDB"] == "" || in.Vendor.AppGroup == "" || in.History == nil {
		t.Fatalf("vendor options %+v", in.Vendor)
	}
	var body strings.Builder // the preview keeps the first lines: look at the whole body
	tg, in := e.input()
	for _, j := range export.Plan(tg, in) {
		if j.Kind == export.KindNSX {
			if _, err := j.Preview(&body); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, want := range []string{`"sequence_number": 300`, "/infra/domains/prod/groups/SGTSDB", "SGTSBOOKS-boundary",
		`"scope": [` + "\n" + `                    "/infra/domains/default/groups/SGTSBOOKS"`} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("the NSX body lacks %s", want)
		}
	}
	onUI(func() { e.opts.nsxSequence.SetText("0") })
	if !strings.Contains(e.plan.Text, "sequence") || !e.button.Disabled() {
		t.Errorf("a bad sequence: plan %q, button enabled %t", e.plan.Text, !e.button.Disabled())
	}
	onUI(func() { e.opts.nsxSequence.SetText("") })
	if e.button.Disabled() {
		t.Errorf("the export stays disabled: %q", e.plan.Text)
	}
}

// TestRulesFocus: the Rules view's focus keeps the conversations of the
// focused VM, named after it, and lists the rest outside the scope.
func TestRulesFocus(t *testing.T) {
	u := demoUI(t)
	r := u.rules
	onUI(func() {
		r.focus.SetText("web-01")
		test.Type(r.focus, "\n")
		r.focus.OnSubmitted(r.focus.Text)
	})
	settle(t, u)
	rs := r.snap.Rules
	if len(rs.Knobs.Focus) == 0 || len(rs.Outside) == 0 || len(rs.Rules) == 0 {
		t.Fatalf("focus %v: %d rules, %d outside", rs.Knobs.Focus, len(rs.Rules), len(rs.Outside))
	}
	for _, rule := range rs.Rules {
		if rule.Src.Name != "web-01" && rule.Dst.Name != "web-01" {
			t.Errorf("rule %s does not involve web-01", rule.Name)
		}
	}
	// The review tab lists them after the review list, grouped as it is
	// (one row per source, destination, protocol and reason).
	review := len(groupReview(rs.Table, rs.Review))
	var sessions, want uint64
	for i := review; i < r.review.rows(); i++ {
		if g := &r.groups[i]; g.reason == rules.OutsideReason {
			sessions += g.sessions
		}
	}
	for _, it := range rs.Outside {
		want += rs.Table.Sessions(int(it.Row))
	}
	if !strings.Contains(r.sub.Items[1].Text, "Review (") || r.review.rows() != review+len(groupReview(rs.Table, rs.Outside)) || sessions != want {
		t.Errorf("the review tab does not list the conversations outside the scope: %q, %d rows, %d of their %d sessions",
			r.sub.Items[1].Text, r.review.rows(), sessions, want)
	}
}
