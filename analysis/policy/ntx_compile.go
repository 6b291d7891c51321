package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Nutanix semantics compiled here (sources in ntx_v3.go and ntx_v4.go):
//   - A policy in SAVE state (v4), or whose state is not given, is not in
//     force: it is not compiled.
//   - Isolation policies are consulted first: traffic between a VM of one
//     isolation group and a VM of the other is blocked, in either
//     direction; VMs within a group can still talk ("Use an isolation
//     environment policy when you want to block all traffic, regardless of
//     direction, between two groups of VMs identified by their category.
//     VMs within a group can communicate with each other": Nutanix Flow
//     glossary, shuguet-flow-dev.readthedocs.io appendix/glossary).
//   - A VM in the target group of a quarantine policy in force is governed
//     by the quarantine policy alone ("Use a quarantine policy when you want
//     to isolate a compromised or infected VM", same glossary).
//   - Otherwise a VM's secured groups decide: its outbound list when it is
//     the source, its inbound list when it is the destination; traffic not
//     in an allow list of an applied policy is blocked (swagger app_rule:
//     "Empty inbound_allow_list will not allow anything into the target
//     group"). Allow lists add up: a connection is admitted when an entry of
//     any of the VM's secured groups admits it.
//   - Traffic between two members of one secured group is decided by the
//     group's intra-group action (v3 default_internal_policy, v4 INTRA_GROUP
//     securedGroupAction); see IntraGroup. A group with no intra-group
//     action written is taken as DENY, the conservative reading.
//   - A monitor policy blocks nothing: what it would block is reported as
//     WouldBlock. An applied policy's verdict wins over a monitor one's.
//   - A v3 policy's rules match IPv4 only; allow_ipv6_traffic lets IPv6 by.
//     v4 isIpv6TrafficAllowed "If enabled, IPv6 traffic is allowed
//     regardless of policy configuration".

// placeholder matches the category references FlowSleuth writes when it
// does not know the extId: "<extId of Key:Value>" or "<extId of category
// Key:Value>".
var placeholder = regexp.MustCompile(`^<extId of (?:category )?([^<>]+)>$`)

// compileNutanix compiles the Nutanix policies of a set.
func (p *Program) compileNutanix(pols []*ntxPolicy, aux ntxObjects) {
	if len(pols) == 0 {
		return
	}
	n := &ntxProgram{}
	c := &ntxCompiler{p: p, aux: aux}
	for _, pol := range pols {
		if pol.mode == modeSaved {
			p.notes = append(p.notes, fmt.Sprintf("%s: Nutanix policy %q is saved, neither applied nor monitored: not in force", pol.file, pol.name))
			continue
		}
		c.policy(n, pol)
	}
	for i := range n.groups {
		n.covered = n.covered.or(n.groups[i].m)
	}
	p.ntx = n
}

func (c *ntxCompiler) ref(pol *ntxPolicy, name, id, action string, implicit bool) int32 {
	return c.p.addRule(RuleRef{Vendor: pol.vendor, File: pol.file, Policy: pol.name, PolicyID: pol.id,
		Name: name, ID: id, Action: action, Implicit: implicit})
}

func (c *ntxCompiler) policy(n *ntxProgram, pol *ntxPolicy) {
	pi := int32(len(n.pols))
	info := ntxPolicyInfo{kind: pol.kind, mode: pol.mode, v3: pol.v3, ipv6Allowed: pol.ipv6Allowed, ipv6Rule: -1}
	switch {
	case pol.ipv6Allowed:
		info.ipv6Rule = c.ref(pol, "IPv6 traffic allowed by the policy", "ipv6", "ALLOW", true)
	case pol.v3:
		info.ipv6Rule = c.ref(pol, "IPv6 traffic (v3 rules match IPv4 only)", "ipv6", "DENY", true)
	}
	n.pols = append(n.pols, info)
	where := fmt.Sprintf("policy %q in %s", pol.name, pol.file)
	for _, iso := range pol.isolations {
		a, b := c.selector(iso.a, where), c.selector(iso.b, where)
		ref := c.ref(pol, iso.name, iso.id, "ISOLATE", false)
		n.isolations = append(n.isolations, ntxIsolation{a: a, b: b, ref: ref, mode: pol.mode})
	}
	for _, g := range pol.groups {
		n.groups = append(n.groups, c.group(pol, pi, g, where))
	}
}

func (c *ntxCompiler) group(pol *ntxPolicy, pi int32, g *ntxGroupRaw, where string) ntxGroup {
	name := c.selectorName(g.sel)
	out := ntxGroup{pol: pi, m: c.selector(g.sel, where), outOpen: -1}
	switch g.intra {
	case "ALLOW", "DENY":
		out.intraAllow = g.intra == "ALLOW"
		label := g.intraName
		if label == "" || label == "default_internal_policy" {
			label = "traffic inside " + name + " (" + map[bool]string{true: "ALLOW_ALL", false: "DENY_ALL"}[out.intraAllow] + ")"
		}
		out.intraRule = c.ref(pol, label, g.intraID, g.intra, false)
	default:
		c.p.res.problem(where + ": secured group " + name + " has no intra-group action; taken as DENY")
		out.intraRule = c.ref(pol, "traffic inside "+name+" (no intra-group action: DENY)", "intra-group", "DENY", true)
	}
	if g.intraSvcs != nil {
		out.intraSvcs, _ = c.services(*g.intraSvcs, where)
		if out.intraSvcs == nil {
			out.intraSvcs = []svc{}
		}
	}
	out.deny = c.ref(pol, "not in the allow lists of "+name+" (implicit deny)", "implicit-deny "+name, "DENY", true)
	if g.outboundOpen {
		out.outOpen = c.ref(pol, "outbound from "+name+" (empty quarantine outbound list allows everything)", "outbound", "ALLOW", true)
	}
	for _, r := range g.inbound {
		x := c.rule(pol, r, where)
		c.p.setShape(x.ref, shape{src: x.peer, dst: out.m, svcs: x.svcs})
		out.in = append(out.in, x)
	}
	for _, r := range g.outbound {
		x := c.rule(pol, r, where)
		c.p.setShape(x.ref, shape{src: out.m, dst: x.peer, svcs: x.svcs})
		out.out = append(out.out, x)
	}
	if out.intraAllow {
		svcs := out.intraSvcs
		if svcs == nil {
			svcs = []svc{svcAll}
		}
		c.p.setShape(out.intraRule, shape{src: out.m, dst: out.m, svcs: svcs})
	}
	return out
}

// rule compiles one allow-list entry.
func (c *ntxCompiler) rule(pol *ntxPolicy, r *ntxRuleRaw, where string) ntxRule {
	name := r.name
	if name == "" {
		name = r.id
	}
	w := where + ", rule " + r.id
	out := ntxRule{ref: c.ref(pol, name, r.id, "ALLOW", false)}
	if r.problem != "" {
		c.p.res.problem(w + ": " + r.problem)
		out.peer.unresolved = true
	}
	switch {
	case r.peerNone:
	case r.peerAll:
		out.peer = members{any: true}
	default:
		if r.peerSel != nil {
			out.peer = out.peer.or(c.selector(*r.peerSel, w))
		}
		out.peer = out.peer.or(members{set: setOf(r.subnets...)})
		for _, ref := range r.addrRefs {
			out.peer = out.peer.or(c.addressGroup(ref, w))
		}
	}
	out.svcs, out.svcMaybe = c.services(r.svcs, w)
	if len(out.svcs) == 0 && !out.svcMaybe {
		c.p.res.problem(w + ": no protocol or service: the entry admits nothing")
	}
	return out
}

// services compiles an entry's services, resolving service groups.
func (c *ntxCompiler) services(s ntxServices, where string) ([]svc, bool) {
	if s.all {
		return []svc{svcAll}, false
	}
	out := slices.Clone(s.svcs)
	maybe := false
	for _, ref := range s.svcRefs {
		if svcs, ok := c.aux.svc[ref]; ok {
			out = append(out, svcs...)
			continue
		}
		c.p.res.problem(where + ": service group " + ref + " is not in the policy files")
		maybe = true
	}
	return out, maybe
}

// addressGroup resolves an address group (or v4 entity group) reference.
func (c *ntxCompiler) addressGroup(ref, where string) members {
	if rs, ok := c.aux.addr[ref]; ok {
		return members{set: setOf(rs...)}
	}
	if m, ok := c.p.res.envGroup(ref); ok {
		return m
	}
	c.p.res.problem(where + ": address group " + ref + " is not in the policy files nor in --members")
	return members{unresolved: true}
}

// categoryOf resolves a v4 category reference to "Key:Value".
func (c *ntxCompiler) categoryOf(ref string) (string, bool) {
	if m := placeholder.FindStringSubmatch(ref); m != nil {
		return strings.TrimSpace(m[1]), true
	}
	kv, ok := c.p.env.CategoryIDs[ref]
	return kv, ok
}

// selector resolves a category selector to its VMs.
func (c *ntxCompiler) selector(s selector, where string) members {
	params := s.params
	matchAny := s.matchAny
	var unresolved bool
	if s.refs != nil {
		params = map[string][]string{}
		matchAny = c.p.env.Categories == MatchAny
		for _, ref := range s.refs {
			kv, ok := c.categoryOf(ref)
			if !ok {
				if m, inEnv := c.p.res.envGroup(ref); inEnv && len(s.refs) == 1 {
					return m
				}
				c.p.res.problem("category extId " + ref + " (" + where + "): unknown; give the saved categories list with --categories")
				unresolved = true
				continue
			}
			k, v, _ := strings.Cut(kv, ":")
			params[k] = append(params[k], v)
		}
	}
	if len(s.kinds) > 0 && !slices.ContainsFunc(s.kinds, func(k string) bool { return strings.EqualFold(k, "vm") }) {
		c.p.res.problem(where + ": category filter on " + strings.Join(s.kinds, ", ") + ", not VMs: not evaluated")
		return members{unresolved: true}
	}
	if len(params) == 0 {
		if !unresolved {
			c.p.res.problem(where + ": a category filter with no category matches nothing")
		}
		return members{unresolved: unresolved}
	}
	var out members
	first := true
	for _, k := range sortedKeys(params) {
		var key members
		for _, v := range params[k] {
			key = key.or(c.p.res.category(k+":"+v, where))
		}
		switch {
		case matchAny || first:
			out, first = out.or(key), false
		default:
			out = out.and(key)
		}
	}
	out.unresolved = out.unresolved || unresolved
	return out
}

// selectorName names a selector for people: "AppType:Books & AppTier:Web".
func (c *ntxCompiler) selectorName(s selector) string {
	var parts []string
	if s.refs != nil {
		for _, ref := range s.refs {
			kv, ok := c.categoryOf(ref)
			if !ok {
				kv = ref
			}
			parts = append(parts, kv)
		}
		slices.Sort(parts)
	} else {
		for _, k := range sortedKeys(s.params) {
			parts = append(parts, k+":"+strings.Join(s.params[k], "|"))
		}
	}
	if len(parts) == 0 {
		return "the secured group"
	}
	sep := " & "
	if s.matchAny || s.refs != nil && c.p.env.Categories == MatchAny {
		sep = " | "
	}
	return strings.Join(parts, sep)
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ntxCompiler resolves the names of Nutanix bodies.
type ntxCompiler struct {
	p   *Program
	aux ntxObjects
}
