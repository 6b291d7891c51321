package policy

import (
	"net/netip"
)

// Program is a Set compiled against an environment: groups, categories and
// services resolved, rules ordered and indexed. It is read-only once
// compiled and safe for concurrent use.
type Program struct {
	env    Env
	res    *resolver
	rules  []RuleRef
	nsx    *nsxProgram
	ntx    *ntxProgram
	vmAt   map[netip.Addr]int32
	prot   addrSet
	notes  []string
	shapes map[int32]shape // allow rules, for Report.Wide
}

// Rules returns every rule the program may name in a verdict: the rules of
// the bodies that are in force (NSX rules enabled, Nutanix policies applied
// or monitored) and the implicit ones (default rules, implicit denies).
func (p *Program) Rules() []RuleRef { return p.rules }

// Problems lists what could not be resolved or evaluated, for people: each
// names the reference and where it is used. Verdicts that depend on one
// carry it in Uncertain.
func (p *Program) Problems() []string { return p.res.sortedProblems() }

// Notes lists what the files held that is not evaluated (gateway policies,
// unsupported policy types).
func (p *Program) Notes() []string { return p.notes }

// addRule adds r to the rule table and returns its index.
func (p *Program) addRule(r RuleRef) int32 {
	r.Index = int32(len(p.rules))
	p.rules = append(p.rules, r)
	return r.Index
}

// Where a decision was taken.
const (
	dirNone uint8 = iota
	dirOut        // the source's egress
	dirIn         // the destination's ingress
)

// decision gathers what the enforcement points decide of one conversation.
type decision struct {
	set      bool // some enforcement point saw it
	outcome  Outcome
	rule     int32
	dir      uint8
	at       netip.Addr
	second   int32 // another allowing rule, for Why; -1 when none
	implicit bool  // rule is an implicit one
	hits     [MaxHits]int32
	nh       int
	unc      int32
}

func newDecision() decision {
	d := decision{rule: -1, second: -1, unc: -1}
	for i := range d.hits {
		d.hits[i] = -1
	}
	return d
}

// hit records a rule that decided (or passed the packet on) at a point.
func (d *decision) hit(ref int32) {
	if d.nh < MaxHits {
		d.hits[d.nh] = ref
		d.nh++
	}
}

// point records the outcome at one enforcement point: the most severe
// outcome wins; of equal ones, the first, except that a written rule that
// allows names the verdict rather than a default one.
func (d *decision) point(o Outcome, rule int32, dir uint8, at netip.Addr, implicit bool) {
	switch {
	case !d.set || o > d.outcome || o == Allowed && d.outcome == Allowed && d.implicit && !implicit:
		second := int32(-1)
		if d.set && d.outcome == Allowed && o == Allowed {
			second = d.rule
		}
		d.set, d.outcome, d.rule, d.dir, d.at, d.second, d.implicit = true, o, rule, dir, at, second, implicit
	case o == Allowed && d.outcome == Allowed && d.second < 0 && rule != d.rule:
		d.second = rule
	}
}

// shape is what an allow rule admits: sources, destinations, services.
type shape struct {
	src, dst members
	svcs     []svc
}

// setShape records the shape of an allow rule, for Report.Wide.
func (p *Program) setShape(ref int32, s shape) {
	if p.shapes == nil {
		p.shapes = map[int32]shape{}
	}
	p.shapes[ref] = s
}
