package policy

import (
	"slices"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Diff compares two policies on the same conversations: "deployed vs
// proposed".
type Diff struct {
	// OnlyA are the conversations A allows and B blocks (or would block),
	// by index; OnlyB the other way round.
	OnlyA, OnlyB []int
	// CoveredA are the rules of A that allowed conversations, all of which
	// B allows too: they cover nothing B does not. CoveredB the other way.
	CoveredA, CoveredB []RuleRef
}

// Compare compares the verdicts of programs a and b (va and vb, in the
// order of the rows of t).
func Compare(t *analysis.Table, a *Program, va []Verdict, b *Program, vb []Verdict) Diff {
	var d Diff
	for i := range t.Len() {
		switch {
		case va[i].Outcome == Allowed && vb[i].Outcome != Allowed:
			d.OnlyA = append(d.OnlyA, i)
		case vb[i].Outcome == Allowed && va[i].Outcome != Allowed:
			d.OnlyB = append(d.OnlyB, i)
		}
	}
	d.CoveredA = covered(a, va, vb)
	d.CoveredB = covered(b, vb, va)
	return d
}

// covered lists the written allow rules of p (verdicts vp) whose allowed
// conversations the other policy (vo) all allows too.
func covered(p *Program, vp, vo []Verdict) []RuleRef {
	used := make([]bool, len(p.rules))
	unique := make([]bool, len(p.rules))
	for i := range vp {
		if vp[i].Outcome != Allowed {
			continue
		}
		for k, h := range vp[i].Hits {
			if h < 0 || slices.Contains(vp[i].Hits[:k], h) {
				continue
			}
			used[h] = true
			if vo[i].Outcome != Allowed {
				unique[h] = true
			}
		}
	}
	var out []RuleRef
	for i, r := range p.rules {
		if used[i] && !unique[i] && !r.Implicit && r.Action == "ALLOW" {
			out = append(out, r)
		}
	}
	return out
}
