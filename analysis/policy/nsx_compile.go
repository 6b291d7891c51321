package policy

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// NSX distributed firewall semantics compiled here. Sources:
//   - Categories: "Ethernet category is for supporting layer 2 firewall
//     rules. The other four categories are applicable for layer 3 rules.
//     Amongst them, the Emergency category has the highest priority followed
//     by Infrastructure, Environment and then Application rules. [...] If
//     empty it will have the least precedence" (SDK model,
//     SecurityPolicy.Category).
//   - Order: SecurityPolicy.sequence_number then Rule.sequence_number ("If
//     there are multiple policies with the same sequence number then their
//     order is not deterministic": file order here); first match wins.
//   - Scope: "The list of group paths where the rules in this policy will
//     get applied. This scope will take precedence over rule level scope"
//     (SDK model, SecurityPolicy.Scope); no scope: every workload ("DFW").
//   - source_groups / destination_groups: group paths, addresses, CIDRs or
//     ranges, or "ANY" alone; *_excluded negates (SDK model, Rule); an empty
//     set is Any (terraform-provider-nsxt docs/resources/
//     policy_security_policy.md). services: paths or "ANY"; with
//     service_entries, raw services; none at all is Any.
//   - Direction "refers to the direction of traffic from the point of view
//     of the destination object. In means that only traffic to the object is
//     checked, Out means that only traffic from the object is checked"
//     (VMware NSX docs, About Firewall Rules, as quoted in AWS re:Post
//     "Understanding the Direction setting for VMware NSX firewall rules").
//     The object is the workload whose vNIC enforces: a connection between
//     two protected VMs is checked OUT at the source's vNIC and IN at the
//     destination's (the traceflows in that article and in itq.eu's "NSX-T
//     distributed firewall traffic direction").
//   - Actions: ALLOW, DROP, REJECT, JUMP_TO_APPLICATION: "Once a match is
//     hit then the rule processing will jump to the rules present in the
//     Application category, skipping all further rules in the Environment
//     category. If no rules match in the Application category then the
//     default application rule will be hit" (SDK model, Rule.Action).
//   - disabled: "Flag to deactivate the rule" (SDK model, Rule.Disabled).
//   - ip_protocol IPV4, IPV6 or IPV4_IPV6 (default for Layer 3 rules).
//   - connectivity_preference ALLOWLIST(_ENABLE_LOGGING) adds a default drop
//     rule, DENYLIST(_ENABLE_LOGGING) a default allow rule, "applied to
//     entities specified in the scope of the security policy" (SDK model,
//     SecurityPolicy.ConnectivityPreference; also the deprecated
//     connectivity_strategy WHITELIST/BLACKLIST).

// Categories, in the order the distributed firewall consults them.
const (
	catEthernet uint8 = iota
	catEmergency
	catInfrastructure
	catEnvironment
	catApplication
	catNone // no category: "the least precedence"
)

var categoryRank = map[string]uint8{"ethernet": catEthernet, "emergency": catEmergency,
	"infrastructure": catInfrastructure, "environment": catEnvironment, "application": catApplication, "": catNone}

// Rule actions.
const (
	actAllow uint8 = iota
	actDrop
	actReject
	actJump
)

var actionOf = map[string]uint8{"ALLOW": actAllow, "DROP": actDrop, "REJECT": actReject, "JUMP_TO_APPLICATION": actJump}

// has reports whether a matches the endpoint; maybe when unresolved
// members could change that.
func (e *nsxEndpoint) has(a netip.Addr) (yes, maybe bool) {
	y, m := e.m.has(a)
	if e.neg {
		return !y, m
	}
	return y, m
}

// span is what the endpoint admits, a negation counting as Any.
func (e *nsxEndpoint) span() members {
	if e.neg {
		return members{any: true}
	}
	return e.m
}

// setOrder tests the smaller of the source and destination sets first: a
// rule rejects most conversations, and the smaller side rejects sooner.
func (r *nsxRule) setOrder() {
	r.order = [4]uint8{0, 1, 2, 3}
	if selectivity(r.dst) < selectivity(r.src) {
		r.order = [4]uint8{0, 2, 1, 3}
	}
}

// selectivity is the size of the addresses an endpoint admits (Any and
// negations: everything).
func selectivity(e nsxEndpoint) uint64 {
	if e.m.any || e.neg {
		return math.MaxUint64
	}
	return e.m.set.size()
}

// compileNSX compiles the NSX bodies of a set.
func (p *Program) compileNSX(bodies []*nsxBody) {
	if len(bodies) == 0 {
		return
	}
	r := p.res
	groups := newNSXGroups(r, bodies)
	services := newNSXServices(r, bodies)
	n := &nsxProgram{index: map[uint8]*protoIndex{}}
	for fi, b := range bodies {
		for _, pol := range b.policies {
			n.addPolicy(p, groups, services, b.file, fi, pol)
		}
	}
	slices.SortStableFunc(n.rules, func(a, b nsxRule) int {
		return slices.Compare(a.key[:], b.key[:])
	})
	for i := range n.rules {
		if !n.rules[i].scope.any {
			n.scopes = n.scopes.or(n.rules[i].scope)
		}
	}
	n.defAction = actAllow
	action := "ALLOW"
	if p.env.Default == Drop {
		n.defAction, action = actDrop, "DROP"
	}
	n.def = p.addRule(RuleRef{Vendor: "NSX", Name: "Default Layer3 Rule (--default " + p.env.Default.String() + ")",
		ID: "default-layer3-rule", Action: action, Implicit: true})
	n.buildIndex()
	p.nsx = n
}

// addPolicy compiles the rules of one policy.
func (n *nsxProgram) addPolicy(p *Program, groups *nsxGroups, services *nsxServices, file string, fi int, pol *nsxPolicy) {
	cat, ok := categoryRank[strings.ToLower(pol.category)]
	if !ok {
		p.res.problem(fmt.Sprintf("NSX policy %q (%s): category %q is not a distributed firewall category; evaluated last", pol.name, file, pol.category))
		cat = catNone
	}
	var polScope *members
	if len(pol.scope) > 0 && !isAny(pol.scope) {
		m := scopeMembers(groups, pol.scope, "scope of policy "+pol.name)
		polScope = &m
	}
	disabled := 0
	defer func() {
		if disabled > 0 {
			p.notes = append(p.notes, fmt.Sprintf("%s: NSX policy %q: %d disabled rules not in force (--enable-disabled evaluates them as if switched on)",
				file, pol.name, disabled))
		}
	}()
	for _, raw := range pol.rules {
		if raw.disabled && !p.env.EnableDisabled {
			disabled++
			continue
		}
		where := fmt.Sprintf("rule %q of policy %q in %s", raw.name, pol.name, file)
		r := nsxRule{cat: cat, action: actionOf[raw.action], key: [5]int64{int64(cat), pol.seq, int64(fi)<<32 | int64(pol.order), raw.seq, int64(raw.order)}}
		r.ref = p.addRule(RuleRef{Vendor: "NSX", File: file, Policy: pol.name, PolicyID: pol.path, Name: raw.name, ID: raw.id, Action: raw.action})
		r.dirIn = raw.direction != "OUT"
		r.dirOut = raw.direction != "IN"
		r.v4 = raw.ipProtocol != "IPV6"
		r.v6 = raw.ipProtocol != "IPV4"
		r.src = nsxEndpoint{m: endpointMembers(groups, raw.src, where), neg: raw.srcNeg}
		r.dst = nsxEndpoint{m: endpointMembers(groups, raw.dst, where), neg: raw.dstNeg}
		switch {
		case polScope != nil:
			r.scope = *polScope
		case len(raw.scope) > 0 && !isAny(raw.scope):
			r.scope = scopeMembers(groups, raw.scope, "scope of "+where)
		default:
			r.scope = members{any: true}
		}
		r.svcs, r.svcsMaybe = services.of(raw, where)
		if len(raw.profiles) > 0 && !isAny(raw.profiles) {
			// SDK model Rule.profiles: "layer 7 service profile paths"
			// (application ids, domain names, …): the rule matches only the
			// traffic they select, which conversations do not show.
			p.res.problem(where + ": layer 7 context profiles " + strings.Join(raw.profiles, ", ") + " are not evaluated; the rule is taken to match its services")
			r.svcsMaybe = true
		}
		if r.action == actAllow {
			p.setShape(r.ref, shape{src: r.src.span(), dst: r.dst.span(), svcs: r.svcs})
		}
		r.setOrder()
		n.rules = append(n.rules, r)
	}
	n.addConnectivityRule(p, file, fi, pol, cat, polScope)
}

// addConnectivityRule adds the default rule a policy's connectivity
// preference creates, last in the policy.
func (n *nsxProgram) addConnectivityRule(p *Program, file string, fi int, pol *nsxPolicy, cat uint8, scope *members) {
	c := strings.ToUpper(pol.connectivity)
	var act uint8
	var name string
	switch {
	case strings.HasPrefix(c, "ALLOWLIST") || strings.HasPrefix(c, "WHITELIST"):
		act, name = actDrop, "DROP"
	case strings.HasPrefix(c, "DENYLIST") || strings.HasPrefix(c, "BLACKLIST"):
		act, name = actAllow, "ALLOW"
	default:
		return
	}
	r := nsxRule{cat: cat, action: act, dirIn: true, dirOut: true, v4: true, v6: true,
		src: nsxEndpoint{m: members{any: true}}, dst: nsxEndpoint{m: members{any: true}},
		scope: members{any: true}, svcs: []svc{svcAll},
		key: [5]int64{int64(cat), pol.seq, int64(fi)<<32 | int64(pol.order), math.MaxInt64, 0}}
	if scope != nil {
		r.scope = *scope
	}
	r.setOrder()
	r.ref = p.addRule(RuleRef{Vendor: "NSX", File: file, Policy: pol.name, PolicyID: pol.path,
		Name: "default rule of the policy (connectivity_preference " + pol.connectivity + ")", ID: pol.id + "-default",
		Action: name, Implicit: true})
	n.rules = append(n.rules, r)
}

// endpointMembers resolves source_groups or destination_groups.
func endpointMembers(groups *nsxGroups, list []string, where string) members {
	if len(list) == 0 || isAny(list) {
		return members{any: true}
	}
	var m members
	for _, s := range list {
		if strings.HasPrefix(s, "/") {
			m = m.or(groups.group(s, where, 0))
			continue
		}
		r, err := parseAddrSpec(s)
		if err != nil {
			groups.r.problem(where + ": " + err.Error())
			m.unresolved = true
			continue
		}
		m = m.or(members{set: setOf(r)})
	}
	return m
}

// scopeMembers resolves a scope (Applied To): groups; other objects
// (segments, gateways, labels) cannot be resolved to workloads from logs.
func scopeMembers(groups *nsxGroups, list []string, where string) members {
	var m members
	for _, s := range list {
		if strings.Contains(s, "/groups/") {
			m = m.or(groups.group(s, where, 0))
			continue
		}
		groups.r.problem(where + ": " + s + " is not a group; the workloads it covers are unknown")
		m.unresolved = true
	}
	return m
}

// buildIndex indexes the rules by protocol and port.
func (n *nsxProgram) buildIndex() {
	protos := map[uint8]bool{ingest.ProtoTCP: true, ingest.ProtoUDP: true}
	for i := range n.rules {
		for _, s := range n.rules[i].svcs {
			if s.proto >= 0 {
				protos[uint8(s.proto)] = true
			}
		}
	}
	svcsOf := func(i int) []svc { return n.rules[i].svcs }
	for proto := range protos {
		n.index[proto] = buildIndex(proto, svcsOf, len(n.rules))
	}
	n.other = &protoIndex{}
	for i := range n.rules {
		if everyProtocol(n.rules[i].svcs) {
			n.other.all = append(n.other.all, int32(i))
		}
	}
}
