package policy

import (
	"net/netip"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// nsxDecision is what the rules decide at one enforcement point.
type nsxDecision struct {
	rule    int32 // Program.rules index of the deciding rule (the default rule when none matched)
	allow   bool
	passed  [2]int32 // JUMP_TO_APPLICATION and Ethernet ALLOW rules passed on the way, -1 when none
	uncSure int32    // the first rule above that could have matched but for an unresolved reference, -1 when none
}

// decide runs the rules at the vNIC of at: the source's (out) or the
// destination's (in). The first matching rule decides; JUMP_TO_APPLICATION
// skips the rest of the Environment category; an Ethernet (layer 2) ALLOW
// passes the packet on to the layer 3 categories.
func (n *nsxProgram) decide(c *flow, at netip.Addr, out bool) nsxDecision {
	d := nsxDecision{passed: [2]int32{-1, -1}, uncSure: -1}
	x := n.index[c.proto]
	if x == nil {
		x = n.other
	}
	all, specific := x.candidates(c.dport)
	v4 := c.src.Unmap().Is4()
	jumped, l2done := false, false
	for {
		i, ok := mergeNext(&all, &specific)
		if !ok {
			break
		}
		r := &n.rules[i]
		if jumped && r.cat == catEnvironment || l2done && r.cat == catEthernet {
			continue
		}
		if out && !r.dirOut || !out && !r.dirIn || v4 && !r.v4 || !v4 && !r.v6 {
			continue
		}
		yes, maybe := r.matches(c, at)
		if maybe && d.uncSure < 0 {
			d.uncSure = r.ref
		}
		if !yes {
			continue
		}
		switch {
		case r.action == actJump:
			jumped = true
			d.pass(r.ref)
		case r.action == actAllow && r.cat == catEthernet:
			l2done = true
			d.pass(r.ref)
		default:
			d.rule, d.allow = r.ref, r.action == actAllow
			return d
		}
	}
	d.rule, d.allow = n.def, n.defAction == actAllow
	return d
}

func (d *nsxDecision) pass(ref int32) {
	if d.passed[0] < 0 {
		d.passed[0] = ref
	} else if d.passed[1] < 0 {
		d.passed[1] = ref
	}
}

// matches reports whether the rule matches c at the vNIC of at: yes, and
// maybe when an unresolved reference could change the answer.
func (r *nsxRule) matches(c *flow, at netip.Addr) (yes, maybe bool) {
	yes = true
	for k := 0; k < 4; k++ {
		var y, m bool
		switch r.order[k] {
		case 0:
			y, m = r.scope.has(at)
		case 1:
			y, m = r.src.has(c.src)
		case 2:
			y, m = r.dst.has(c.dst)
		default:
			y, m = r.service(c)
		}
		if !y && !m {
			return false, false
		}
		yes = yes && y
		maybe = maybe || m
	}
	return yes, maybe
}

// service reports whether a service of the rule admits c.
func (r *nsxRule) service(c *flow) (yes, maybe bool) {
	maybe = r.svcsMaybe
	for i := range r.svcs {
		y, m := r.svcs[i].match(c)
		if y {
			return true, maybe
		}
		maybe = maybe || m
	}
	return false, maybe
}

// protected reports whether a, an end of c (the source when src), sits
// behind an NSX enforcement point: a VM of the inventory, an address of
// Env.Protected, an end the conversation's direction marks as monitored,
// or a workload some rule is scoped to.
func (p *Program) protected(c *flow, a netip.Addr, src bool) bool {
	if _, ok := p.vmAt[a]; ok || p.prot.contains(a) {
		return true
	}
	switch c.dir {
	case ingest.DirIntra:
		return true
	case ingest.DirOutbound:
		if src {
			return true
		}
	case ingest.DirInbound:
		if !src {
			return true
		}
	}
	return p.nsx != nil && p.nsx.scopes.set.contains(a)
}

// evalNSX decides c by the NSX rules: the source's egress (OUT) then the
// destination's ingress (IN); the first point that blocks decides.
func (p *Program) evalNSX(c *flow, d *decision) {
	n := p.nsx
	for _, src := range [2]bool{true, false} {
		at, dir := c.dst, dirIn
		if src {
			at, dir = c.src, dirOut
		}
		if !p.protected(c, at, src) {
			continue
		}
		nd := n.decide(c, at, src)
		for _, ref := range nd.passed {
			if ref >= 0 {
				d.hit(ref)
			}
		}
		d.hit(nd.rule)
		if d.unc < 0 {
			d.unc = nd.uncSure
		}
		outcome := Allowed
		if !nd.allow {
			outcome = Blocked
		}
		d.point(outcome, nd.rule, dir, at, p.rules[nd.rule].Implicit)
		if outcome == Blocked {
			return
		}
	}
}
