package rules

import (
	"github.com/flowsleuth/flowsleuth/analysis"
)

// Synthesize turns the conversations of t into a rule base. Suspect
// traffic goes to the review list (unless k.IncludeSuspect), conversations
// outside the scope to rs.Outside; every other conversation is admitted by
// exactly the rule built from it, and no rule is without one. The rules'
// evidence and the review items are rows of t (rs.Table).
//
// It is written for a million conversations: endpoints, buckets and rules
// are found through maps keyed by fixed-size values (address and group
// numbers), not strings; the conversations are rows of the table, filed by
// number; and each rule's evidence is a window of one array of row numbers
// the size of the input.
func Synthesize(t *analysis.Table, k Knobs) Set {
	k = k.withDefaults()
	rs := Set{Table: t, Knobs: k}
	tr := triage(t, k)
	rs.Review, rs.Outside = tr.review, tr.outside
	g := endpointGroups(t, tr.keep, tr.dirs, k)
	rs.Scope = g.scope
	bs := fileBuckets(t, tr.keep, tr.dirs, g)
	rules, ruleOf := bs.rules(k)
	fillEvidence(t, rules, ruleOf, bs, tr.keep)
	rs.Rules = make([]Rule, 0, len(rules))
	for _, r := range rules {
		finishRule(t, r)
		rs.Rules = append(rs.Rules, *r)
		adm, obs := r.permissiveness(t)
		rs.Permissiveness += adm - obs
		rs.Observed += obs
	}
	sortRules(rs.Rules)
	return rs
}
