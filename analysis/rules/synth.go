package rules

import "github.com/flowsleuth/flowsleuth/analysis"

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
	rs, rules := synthesizeRules(t, k)
	observed := make([]uint64, 2*len(rules)) // admitted, observed of each rule
	finishRules(t, rules, observed)
	for r := range rules {
		rs.Permissiveness += observed[2*r] - observed[2*r+1]
		rs.Observed += observed[2*r+1]
	}
	rs.Rules = sortRules(rules)
	return rs
}

// SynthesizeMembers makes the rules Synthesize makes, with their IDs,
// directions, services, endpoints and members, and their conversations
// (Evidence.Rows), for a replay that asks only what a rule admits
// (CheckReadiness): nothing else a person reads of them is made (evidence
// totals, hosts, samples, names, descriptions, permissiveness), and they
// are left in the order synthesis met them. ApplyEdits takes them as it
// takes Synthesize's. The app's readiness line synthesises a second rule
// base beside the first with it.
func SynthesizeMembers(t *analysis.Table, k Knobs) Set {
	rs, rules := synthesizeRules(t, k)
	rs.Rules = make([]Rule, len(rules))
	for i, r := range rules {
		r.Src = withMembers(r.Src, t, r.Evidence.Rows, true)
		r.Dst = withMembers(r.Dst, t, r.Evidence.Rows, false)
		rs.Rules[i], rules[i] = *r, nil
	}
	return rs
}

// synthesizeRules makes the rules of t, with their evidence (rows), in the
// order synthesis meets them, and the set they belong to, without them:
// what Synthesize and SynthesizeMembers share.
func synthesizeRules(t *analysis.Table, k Knobs) (Set, []*Rule) {
	k = k.withDefaults()
	rs := Set{Table: t, Knobs: k}
	tr := triage(t, k)
	rs.Review, rs.Outside = tr.review, tr.outside
	g := endpointGroups(t, tr.keep, tr.dirs, k)
	rs.Scope = g.scope
	bs := fileBuckets(t, tr.keep, tr.dirs, &g)
	rules, ruleOf := bs.rules(k)
	fillEvidence(t, rules, ruleOf, bs, tr.keep)
	return rs, rules
}

// finishRules finishes rules (finishRule) and sets counts[2r], counts[2r+1]
// to what rule r admits and what it was built from (permissiveness), on
// every core: each rule reads rows of t and writes only itself and its own
// evidence (a window of one array that no other rule's overlaps).
func finishRules(t *analysis.Table, rules []*Rule, counts []uint64) {
	hosts := newHostNames(t)
	onEveryCoreWith(len(rules), 256, func() func(int) {
		f := newFinisher(t, hosts)
		return func(r int) {
			f.finish(rules[r])
			counts[2*r], counts[2*r+1] = rules[r].permissiveness(t)
		}
	})
}
