package policy

import (
	"net/netip"
)

// evalNutanix decides c by the Nutanix policies: isolation first, then the
// source's secured groups (outbound), then the destination's (inbound).
func (p *Program) evalNutanix(c *flow, d *decision) {
	n := p.ntx
	for i := range n.isolations {
		iso := &n.isolations[i]
		if !iso.separates(c.src, c.dst) {
			continue
		}
		d.hit(iso.ref)
		if iso.mode == modeApply {
			d.point(Blocked, iso.ref, dirOut, c.src, false)
			return
		}
		d.point(WouldBlock, iso.ref, dirOut, c.src, false)
	}
	for _, out := range [2]bool{true, false} {
		at, peer, dir := c.dst, c.src, dirIn
		if out {
			at, peer, dir = c.src, c.dst, dirOut
		}
		pd, found := n.decide(c, at, peer, out, p.env.Intra)
		if !found {
			continue
		}
		d.hit(pd.rule)
		if d.unc < 0 {
			d.unc = pd.unc
		}
		d.point(pd.outcome, pd.rule, dir, at, p.rules[pd.rule].Implicit)
		if pd.outcome == Blocked {
			return
		}
	}
}

// separates reports whether the isolation stands between a and b.
func (iso *ntxIsolation) separates(a, b netip.Addr) bool {
	a1, _ := iso.a.has(a)
	b2, _ := iso.b.has(b)
	if a1 && b2 {
		return true
	}
	b1, _ := iso.b.has(a)
	a2, _ := iso.a.has(b)
	return b1 && a2
}

// ntxPoint is what the secured groups of one VM decide.
type ntxPoint struct {
	outcome Outcome
	rule    int32
	unc     int32
}

// decide runs the secured groups holding at (the source when out) on the
// connection with peer. found is false when at is in no secured group.
func (n *ntxProgram) decide(c *flow, at, peer netip.Addr, out bool, intra IntraGroup) (ntxPoint, bool) {
	if y, _ := n.covered.has(at); !y {
		return ntxPoint{}, false
	}
	quarantined := false
	for i := range n.groups {
		g := &n.groups[i]
		if n.pols[g.pol].kind == ntxQuarantine {
			if y, _ := g.m.has(at); y {
				quarantined = true
				break
			}
		}
	}
	// By mode: the first allowing and the first denying rule.
	var allow, deny [3]int32
	var seen [3]bool
	for i := range allow {
		allow[i], deny[i] = -1, -1
	}
	unc := int32(-1)
	found := false
	for i := range n.groups {
		g := &n.groups[i]
		pol := &n.pols[g.pol]
		if quarantined && pol.kind != ntxQuarantine {
			continue
		}
		if y, _ := g.m.has(at); !y {
			continue
		}
		found = true
		seen[pol.mode] = true
		ok, rule, maybe := g.decide(pol, c, peer, out, intra)
		if maybe >= 0 && unc < 0 {
			unc = maybe
		}
		switch {
		case ok && allow[pol.mode] < 0:
			allow[pol.mode] = rule
		case !ok && deny[pol.mode] < 0:
			deny[pol.mode] = rule
		}
	}
	switch {
	case seen[modeApply] && allow[modeApply] >= 0:
		return ntxPoint{Allowed, allow[modeApply], unc}, found
	case seen[modeApply]:
		return ntxPoint{Blocked, deny[modeApply], unc}, found
	case allow[modeMonitor] >= 0:
		return ntxPoint{Allowed, allow[modeMonitor], unc}, found
	}
	return ntxPoint{WouldBlock, deny[modeMonitor], unc}, found
}

// decide runs one secured group on a connection of its member: intra-group
// when peer is a member too, else the allow list of the side. maybe is a
// rule that could have admitted it but for an unresolved reference, or -1.
func (g *ntxGroup) decide(pol *ntxPolicyInfo, c *flow, peer netip.Addr, out bool, intra IntraGroup) (ok bool, rule, maybe int32) {
	maybe = -1
	if !c.src.Unmap().Is4() && (pol.v3 || pol.ipv6Allowed) {
		return pol.ipv6Allowed, pol.ipv6Rule, -1
	}
	if y, _ := g.m.has(peer); y {
		if g.intraAllow && svcsAdmit(g.intraSvcs, c) {
			return true, g.intraRule, -1
		}
		if intra == IntraGroupOnly {
			return false, g.intraRule, -1
		}
	}
	rules := g.in
	if out {
		rules = g.out
		if len(rules) == 0 && g.outOpen >= 0 {
			return true, g.outOpen, -1
		}
	}
	for i := range rules {
		r := &rules[i]
		y, m := r.peer.has(peer)
		if y || m {
			sy, sm := svcsMatch(r.svcs, c)
			if y && sy {
				return true, r.ref, maybe
			}
			if (sy || sm || r.svcMaybe) && maybe < 0 {
				maybe = r.ref
			}
		}
	}
	return false, g.deny, maybe
}

// svcsAdmit reports whether svcs admit c; nil admits everything.
func svcsAdmit(svcs []svc, c *flow) bool {
	if svcs == nil {
		return true
	}
	y, _ := svcsMatch(svcs, c)
	return y
}

// svcsMatch reports whether some svc admits c, or maybe does.
func svcsMatch(svcs []svc, c *flow) (yes, maybe bool) {
	for i := range svcs {
		y, m := svcs[i].match(c)
		if y {
			return true, false
		}
		maybe = maybe || m
	}
	return false, maybe
}
