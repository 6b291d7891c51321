package app

import (
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// The Rules view's share of a policy check: for each synthesised rule, what
// the checked policy does to the conversations it was made from. Hooks in
// rules.go call these.

// colRuleCheck is the Rules table's column of the check, right after the
// deliverable's five (rules.go).
const colRuleCheck = rcCheck

// ruleVerdicts answers the Rules view: each rule's text once computed.
type ruleVerdicts struct {
	text map[string]string // by rule ID
}

// ruleVerdict renders what the check of s says of rule r's conversations:
// "allowed", "2 blocked of 5", "" without a check.
func (v *checkView) ruleVerdict(s *Snapshot, r *rules.Rule) string {
	st := v.state
	if st == nil || !sameConvs(st.snap, s) {
		return ""
	}
	if st.rules == nil {
		st.rules = &ruleVerdicts{text: map[string]string{}}
	}
	if t, ok := st.rules.text[r.ID]; ok {
		return t
	}
	// The check and the rules are of the same table (sameConvs): the
	// evidence's rows are the verdicts' indices.
	var n [3]int
	for _, i := range r.Evidence.Rows {
		n[st.x.Result.Verdicts[i].Outcome]++
	}
	total := n[0] + n[1] + n[2]
	var parts []string
	for _, o := range []policy.Outcome{policy.Blocked, policy.WouldBlock} {
		if n[o] > 0 {
			parts = append(parts, thousands(n[o])+" "+o.String())
		}
	}
	t := "allowed"
	switch {
	case total == 0:
		t = ""
	case len(parts) > 0:
		t = "⚠ " + strings.Join(parts, ", ") + " of " + thousands(total)
	}
	st.rules.text[r.ID] = t
	return t
}

// checkChanged follows a new check (or its removal): with a check, the
// Checked policy column stays in view beside the Description where the
// width allows it (1920 px; at 1280 the Description keeps the width, and
// the column is the first reached by scrolling).
func (v *rulesView) checkChanged(checked bool) {
	keep := 0
	if checked {
		keep = 1
	}
	v.table.keepAfterFlex(keep)
	v.table.Refresh()
}
