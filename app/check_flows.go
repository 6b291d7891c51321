package app

import (
	"slices"

	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/policy"
)

// The Flows view's share of a policy check: a Verdict column (ColVerdict,
// flowquery.go) and a verdict filter. Hooks in flows.go and flowquery.go
// call these.

// verdictBreaks is the filter value of the conversations a policy would
// break: blocked or would block, outside review.
const verdictBreaks = "would break"

// verdictChoices are the verdict select's options.
var verdictChoices = []string{"Any verdict", policy.Allowed.String(), policy.WouldBlock.String(), policy.Blocked.String(), verdictBreaks}

// newVerdictSelect is the Flows view's verdict filter.
func (v *flowsView) newVerdictSelect() *widget.Select {
	s := widget.NewSelect(verdictChoices, func(string) { v.fromSelects() })
	s.PlaceHolder = "Any verdict"
	return s
}

// verdictOf returns what the check says of conversation i of the flows'
// snapshot, and whether it would break; ok is false without a check of it.
func (v *flowsView) verdictOf(i int) (o policy.Outcome, breaks, ok bool) {
	st := v.u.check.state
	if st == nil || !sameConvs(st.snap, v.snap) || i >= len(st.breaks) {
		return 0, false, false
	}
	return st.x.Result.Verdicts[i].Outcome, st.breaks[i], true
}

// verdictCell renders the Verdict column of row.
func (v *flowsView) verdictCell(row int) string {
	o, breaks, ok := v.verdictOf(int(v.view.Rows[row]))
	switch {
	case !ok:
		return ""
	case breaks:
		return o.String() + " ⚠"
	}
	return o.String()
}

// verdictFunc returns the filter's view of the current check.
func (v *flowsView) verdictFunc() func(i int) (string, bool) {
	return func(i int) (string, bool) {
		o, breaks, ok := v.verdictOf(i)
		if !ok {
			return "", false
		}
		return o.String(), breaks
	}
}

// keepVerdict reports whether conversation i passes the verdict filter.
func (f *FlowFilter) keepVerdict(i int) bool {
	if f.Verdict == "" {
		return true
	}
	if f.Verdicts == nil {
		return false
	}
	verdict, breaks := f.Verdicts(i)
	if f.Verdict == verdictBreaks {
		return breaks
	}
	return verdict == f.Verdict
}

// verdictRank orders conversation i by its verdict: allowed, would block,
// blocked, what would break last.
func verdictRank(f *FlowFilter, i int) int {
	if f.Verdicts == nil {
		return 0
	}
	verdict, breaks := f.Verdicts(i)
	r := slices.Index(verdictChoices, verdict)
	if breaks {
		r = len(verdictChoices)
	}
	return r
}

// checkChanged follows a new check (or its removal): the filter sees the
// new verdicts, and the table shows them.
func (v *flowsView) checkChanged() {
	v.filter.Verdicts = v.verdictFunc()
	if v.filter.Verdict != "" || v.sortCol == ColVerdict {
		v.refresh()
		return
	}
	v.table.Refresh()
}

// verdictDetail is the details pane's line on the checked policy's verdict
// of row ("" without a check).
func (v *flowsView) verdictDetail(row int) string {
	i := int(v.view.Rows[row])
	if _, _, ok := v.verdictOf(i); !ok {
		return ""
	}
	st := v.u.check.state
	vd := &st.x.Result.Verdicts[i]
	s := "Checked policy: " + vd.Why + "\n"
	if st.breaks[i] {
		s = "⚠ " + s
	}
	if vd.Uncertain != "" {
		s += "Uncertain: " + vd.Uncertain + "\n"
	}
	return s
}
