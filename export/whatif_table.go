package export

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
)

// WriteWhatIfTable writes the check for people: the totals by verdict, the
// observed traffic that would break, blocked traffic by rule and by tag,
// suspect traffic still admitted, unused and wide rules, what could not be
// resolved, the comparison, and the result.
func WriteWhatIfTable(w io.Writer, x *WhatIf) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	r := &x.Result.Report
	x.header(tw)
	x.totals(tw, r)
	x.list(tw, "Observed traffic that would be blocked (outside review)", len(r.Broken),
		"SOURCE\tDESTINATION\tSERVICE\tSESSIONS\tVERDICT\tRULE\tPOINT\t", func(k int) string { return x.verdictLine(r.Broken[k]) })
	x.list(tw, "Blocked, by rule", len(r.ByRule), "RULE\tPOLICY\tFILE\tVERDICT\tCONVERSATIONS\tSESSIONS\tBYTES\t", func(k int) string {
		t := &r.ByRule[k]
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%s\t%s\t", ruleName(t.Rule), t.Rule.Policy, t.Rule.File, t.Outcome,
			t.Conversations, analysis.Thousands(t.Sessions), HumanBytes(t.Bytes))
	})
	x.list(tw, "Blocked, by tag and direction", len(r.ByTag), "TAG\tDIRECTION\tVERDICT\tCONVERSATIONS\tSESSIONS\tBYTES\t", func(k int) string {
		t := &r.ByTag[k]
		tag := t.Tag
		if tag == "" {
			tag = "(no tag)"
		}
		return fmt.Sprintf("%s\t%s\t%s\t%d\t%s\t%s\t", tag, t.Direction, t.Outcome, t.Conversations, analysis.Thousands(t.Sessions), HumanBytes(t.Bytes))
	})
	x.list(tw, "Suspect traffic the policy still admits", len(r.SuspectAdmitted), "SOURCE\tDESTINATION\tSERVICE\tSESSIONS\tREVIEW\tRULE\t", func(k int) string {
		i := r.SuspectAdmitted[k]
		tb := x.Convs
		return strings.Join([]string{endpointName(tb.Src(i), tb.SrcVM(i).VM), endpointName(tb.Dst(i), tb.DstVM(i).VM), serviceLabel(tb.Proto(i), tb.DPort(i)),
			analysis.Thousands(tb.Sessions(i)), x.review(i), ruleName(*x.Result.Verdicts[i].Rule)}, "\t") + "\t"
	})
	x.list(tw, "Rules that matched nothing", len(r.Unused), "RULE\tID\tPOLICY\tFILE\t", func(k int) string {
		u := &r.Unused[k]
		return fmt.Sprintf("%s\t%s\t%s\t%s\t", ruleName(*u), u.ID, u.Policy, u.File)
	})
	x.list(tw, "Rules wider than their evidence (combinations admitted but never seen)", len(r.Wide),
		"RULE\tPOLICY\tADMITTED\tSEEN\t", func(k int) string {
			wr := &r.Wide[k]
			return fmt.Sprintf("%s\t%s\t%s\t%s\t", ruleName(wr.Rule), wr.Rule.Policy, analysis.Thousands(wr.Admitted), analysis.Thousands(wr.Observed))
		})
	x.bullets(tw, "Unresolved references (verdicts that depend on one say so)", r.Problems)
	x.bullets(tw, "Not evaluated", r.Notes)
	x.compare(tw)
	if r.OK() {
		fmt.Fprintln(tw, "Result: OK, no observed conversation outside review would be blocked.")
	} else {
		fmt.Fprintf(tw, "Result: %s observed conversations outside review would be blocked.\n", analysis.Thousands(uint64(len(r.Broken))))
	}
	return tw.Flush()
}

func (x *WhatIf) header(w io.Writer) {
	p := x.Result.Program
	written := 0
	for _, r := range p.Rules() {
		if !r.Implicit {
			written++
		}
	}
	fmt.Fprintf(w, "Checked %s: %d rules in force.\n", strings.Join(x.Policies, ", "), written)
	e := x.Env
	fmt.Fprintf(w, "Known: %d VMs of the inventory, %d groups learned from the logs, %d given (--members, --nsx-groups), %d category ids; NSX default rule: %s.\n\n",
		e.VMs, e.LearnedGroups, e.GivenGroups, e.Categories, e.Default)
}

func (x *WhatIf) totals(w io.Writer, r *policy.Report) {
	fmt.Fprintln(w, "VERDICT\tCONVERSATIONS\tSESSIONS\tBYTES\tOF WHICH UNDER REVIEW\t")
	for _, o := range []policy.Outcome{policy.Allowed, policy.WouldBlock, policy.Blocked} {
		t, rv := r.ByOutcome[o], r.InReview[o]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", o, analysis.Thousands(uint64(t.Conversations)), analysis.Thousands(t.Sessions),
			HumanBytes(t.Bytes), analysis.Thousands(uint64(rv.Conversations)))
	}
	fmt.Fprintf(w, "(no enforcement point)\t%s\t%s\t%s\t\t\n", analysis.Thousands(uint64(r.Unprotected.Conversations)),
		analysis.Thousands(r.Unprotected.Sessions), HumanBytes(r.Unprotected.Bytes))
	if r.Uncertain > 0 {
		fmt.Fprintf(w, "%d verdicts depend on an unresolved reference (see below).\n", r.Uncertain)
	}
}

// list writes a section: a title with its count, a header and up to Top lines.
func (x *WhatIf) list(w io.Writer, title string, n int, head string, line func(k int) string) {
	fmt.Fprintf(w, "\n%s: %s\n", title, analysis.Thousands(uint64(n)))
	if n == 0 {
		return
	}
	top := x.Top
	if top <= 0 {
		top = 50
	}
	fmt.Fprintln(w, "  "+head)
	for k := 0; k < min(n, top); k++ {
		fmt.Fprintln(w, "  "+line(k))
	}
	if n > top {
		fmt.Fprintf(w, "  … and %s more (--top N lists more; --format csv lists every conversation)\n", analysis.Thousands(uint64(n-top)))
	}
}

func (x *WhatIf) bullets(w io.Writer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s: %d\n", title, len(items))
	for _, s := range items {
		fmt.Fprintln(w, "  - "+s)
	}
}

// compare writes the comparison with the second policy.
func (x *WhatIf) compare(w io.Writer) {
	if x.Diff == nil {
		fmt.Fprintln(w)
		return
	}
	a, b := strings.Join(x.Policies, ", "), strings.Join(x.Against, ", ")
	d := x.Diff
	head := "SOURCE\tDESTINATION\tSERVICE\tSESSIONS\tVERDICT\tRULE\tPOINT\t"
	x.list(w, "Allowed by "+a+", blocked by "+b, len(d.OnlyA), head, func(k int) string { return x.verdictLine(d.OnlyA[k]) })
	x.list(w, "Allowed by "+b+", blocked by "+a, len(d.OnlyB), head, func(k int) string { return x.verdictLine(d.OnlyB[k]) })
	rules := func(rs []policy.RuleRef) func(k int) string {
		return func(k int) string { return fmt.Sprintf("%s\t%s\t%s\t", ruleName(rs[k]), rs[k].Policy, rs[k].File) }
	}
	x.list(w, "Rules of "+a+" that cover nothing "+b+" does not", len(d.CoveredA), "RULE\tPOLICY\tFILE\t", rules(d.CoveredA))
	x.list(w, "Rules of "+b+" that cover nothing "+a+" does not", len(d.CoveredB), "RULE\tPOLICY\tFILE\t", rules(d.CoveredB))
	fmt.Fprintln(w)
}
