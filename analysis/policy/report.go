package policy

import (
	"cmp"
	"math"
	"net/netip"
	"slices"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Totals count conversations, their sessions and bytes.
type Totals struct {
	Conversations int
	Sessions      uint64
	Bytes         uint64
}

// add counts row i of tb.
func (t *Totals) add(tb *analysis.Table, i int) {
	t.Conversations++
	t.Sessions += tb.Sessions(i)
	t.Bytes += tb.Bytes(i)
}

// RuleTotals are the conversations a rule decided.
type RuleTotals struct {
	Rule    RuleRef
	Outcome Outcome // for the blocked-by-rule list: Blocked or WouldBlock
	Totals
}

// TagTotals are the blocked conversations of one tag and direction.
type TagTotals struct {
	Tag       string // "" for conversations no line tagged
	Direction ingest.Direction
	Outcome   Outcome
	Totals
}

// WideRule is an allow rule and the combinations it admits.
type WideRule struct {
	Rule RuleRef
	// Admitted counts the (source, destination, port) combinations the rule
	// admits, an Any side counting as the peers seen on it (as synthesis
	// counts its own rules); Observed those seen.
	Admitted, Observed uint64
}

// Report is what a policy does to the observed conversations.
type Report struct {
	Total       Totals
	ByOutcome   [3]Totals // by Outcome
	InReview    [3]Totals // of those, the conversations synthesis lists for review
	Uncertain   int       // verdicts an unresolved reference could change
	Unprotected Totals    // conversations no enforcement point saw
	// Broken are the observed conversations outside review that would be
	// blocked (Blocked or WouldBlock), by index into the conversations:
	// what enforcing the policy would break.
	Broken []int
	// SuspectAdmitted are the conversations under review (scans, never
	// answered, only dropped) the policy still allows, by index.
	SuspectAdmitted []int
	ByRule          []RuleTotals // blocked and would-block conversations by deciding rule, most sessions first
	ByTag           []TagTotals  // the same by tag and direction
	// Hits counts, for every rule of Program.Rules, the conversations it
	// decided (or passed on) at some enforcement point.
	Hits []Totals
	// Unused are the rules of the bodies (not the implicit ones) that
	// decided nothing.
	Unused []RuleRef
	// Wide are the allow rules that admit combinations never seen, the
	// widest first.
	Wide     []WideRule
	Problems []string
	Notes    []string
}

// OK reports whether no observed conversation outside review would be
// blocked: the gate a change can pass.
func (r *Report) OK() bool { return len(r.Broken) == 0 }

// Summarize reports what p's verdicts (in the order of the rows of t)
// mean. review gives, per conversation, why synthesis lists it for review
// ("" when it does not), as rules.ReviewReasons returns it.
func (p *Program) Summarize(t *analysis.Table, vs []Verdict, review []string) Report {
	r := Report{Hits: make([]Totals, len(p.rules)), Problems: p.Problems(), Notes: p.Notes()}
	byRule := map[[2]int32]*RuleTotals{}
	byTag := map[TagTotals]*TagTotals{}
	obs := newObservations(p)
	for i := range t.Len() {
		v := &vs[i]
		suspect := i < len(review) && review[i] != ""
		r.Total.add(t, i)
		r.ByOutcome[v.Outcome].add(t, i)
		if suspect {
			r.InReview[v.Outcome].add(t, i)
		}
		if v.Uncertain != "" {
			r.Uncertain++
		}
		if v.Rule.Index < 0 {
			r.Unprotected.add(t, i)
		}
		p.countHits(&r, t, i, v, obs)
		switch {
		case v.Outcome == Allowed && suspect:
			r.SuspectAdmitted = append(r.SuspectAdmitted, i)
		case v.Outcome != Allowed:
			if !suspect {
				r.Broken = append(r.Broken, i)
			}
			k := [2]int32{v.Rule.Index, int32(v.Outcome)}
			if byRule[k] == nil {
				byRule[k] = &RuleTotals{Rule: *v.Rule, Outcome: v.Outcome}
			}
			byRule[k].add(t, i)
			addTags(byTag, t, i, v.Outcome)
		}
	}
	r.ByRule = sortedRuleTotals(byRule)
	r.ByTag = sortedTagTotals(byTag)
	r.Unused = p.unused(r.Hits)
	r.Wide = p.wide(obs)
	return r
}

// sortedRuleTotals lists the totals of each rule and outcome, the most
// sessions first, then in rule order.
func sortedRuleTotals(byRule map[[2]int32]*RuleTotals) []RuleTotals {
	var out []RuleTotals
	for _, t := range byRule {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b RuleTotals) int {
		return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.Rule.Index, b.Rule.Index), cmp.Compare(a.Outcome, b.Outcome))
	})
	return out
}

// sortedTagTotals lists the totals of each tag, direction and outcome, the
// most sessions first, then by tag.
func sortedTagTotals(byTag map[TagTotals]*TagTotals) []TagTotals {
	var out []TagTotals
	for _, t := range byTag {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b TagTotals) int {
		return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.Tag, b.Tag), cmp.Compare(a.Direction, b.Direction))
	})
	return out
}

// unused lists the rules of the bodies that no conversation hit, given the
// hits per rule; the implicit rules are not listed.
func (p *Program) unused(hits []Totals) []RuleRef {
	var out []RuleRef
	for i, h := range hits {
		if h.Conversations == 0 && !p.rules[i].Implicit {
			out = append(out, p.rules[i])
		}
	}
	return out
}

// countHits adds row i of t to the hit counts of the rules of its verdict,
// once each, and records what the allowing rules saw.
func (p *Program) countHits(r *Report, t *analysis.Table, i int, v *Verdict, obs *observations) {
	for k, h := range v.Hits {
		if h < 0 || slices.Contains(v.Hits[:k], h) {
			continue
		}
		r.Hits[h].add(t, i)
		if v.Outcome == Allowed {
			obs.add(h, t, i)
		}
	}
}

// addTags adds a blocked conversation (row i of t) to the totals of each
// of its tags.
func addTags(byTag map[TagTotals]*TagTotals, t *analysis.Table, i int, o Outcome) {
	tags := t.Tags(i)
	if len(tags) == 0 {
		tags = []analysis.Tag{{Direction: t.Direction(i)}}
	}
	for _, tg := range tags {
		k := TagTotals{Tag: tg.Name, Direction: tg.Direction, Outcome: o}
		if byTag[k] == nil {
			x := k
			byTag[k] = &x
		}
		byTag[k].add(t, i)
	}
}

// observations gather, per allowing rule, the conversations it admitted
// (each a distinct source, destination and port) and, for an Any side, the
// distinct peers seen on it.
type observations struct {
	p          *Program
	allowed    []uint64
	srcs, dsts []map[netip.Addr]struct{}
}

func newObservations(p *Program) *observations {
	n := len(p.rules)
	return &observations{p: p, allowed: make([]uint64, n), srcs: make([]map[netip.Addr]struct{}, n), dsts: make([]map[netip.Addr]struct{}, n)}
}

// add records that rule allowed row i of t.
func (o *observations) add(rule int32, t *analysis.Table, i int) {
	o.allowed[rule]++
	s, ok := o.p.shapes[rule]
	if !ok {
		return
	}
	if s.src.any {
		if o.srcs[rule] == nil {
			o.srcs[rule] = map[netip.Addr]struct{}{}
		}
		o.srcs[rule][t.Src(i)] = struct{}{}
	}
	if s.dst.any {
		if o.dsts[rule] == nil {
			o.dsts[rule] = map[netip.Addr]struct{}{}
		}
		o.dsts[rule][t.Dst(i)] = struct{}{}
	}
}

// wide lists the allow rules that admit combinations never seen.
func (p *Program) wide(obs *observations) []WideRule {
	var out []WideRule
	for ref, s := range p.shapes {
		seen := obs.allowed[ref]
		if seen == 0 {
			continue // unused: listed apart
		}
		admitted := satMul(satMul(sideSize(s.src, len(obs.srcs[ref])), sideSize(s.dst, len(obs.dsts[ref]))), portCount(s.svcs))
		if admitted > seen {
			out = append(out, WideRule{Rule: p.rules[ref], Admitted: admitted, Observed: seen})
		}
	}
	slices.SortFunc(out, func(a, b WideRule) int {
		return cmp.Or(cmp.Compare(b.Admitted-b.Observed, a.Admitted-a.Observed), cmp.Compare(a.Rule.Index, b.Rule.Index))
	})
	return out
}

// sideSize counts a side's addresses; Any counts the peers seen on it.
func sideSize(m members, seen int) uint64 {
	if m.any {
		return uint64(seen)
	}
	return max(m.set.size(), uint64(seen))
}

// portCount counts the ports (or protocols) services admit.
func portCount(svcs []svc) uint64 {
	var n uint64
	for _, s := range svcs {
		switch {
		case s.proto == anyProto:
			return 2*65536 + 254
		case s.ports == nil && hasPorts(uint8(s.proto)):
			n += 65536
		case s.ports != nil:
			for _, r := range s.ports {
				n += uint64(r.hi-r.lo) + 1
			}
		default:
			n++
		}
	}
	return max(n, 1)
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/2/a {
		return math.MaxUint64 / 2
	}
	return a * b
}
