package policy

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Nutanix Prism Central v4 microseg NetworkSecurityPolicy. Fields and their
// meaning from nutanix/ntnx-api-golang-clients microseg-go-client/v4
// models/microseg/v4/config/config_model.go (v4.2.2) and
// nutanix/terraform-provider-nutanix website/docs/r/
// network_security_policy_v2.html.markdown:
//   - type QUARANTINE | ISOLATION | APPLICATION | SHAREDSERVICE; state SAVE |
//     MONITOR | ENFORCE, "can be omitted or set null to save the policy
//     without applying or monitoring it".
//   - rules: "For isolation policies, use isolation rules; for application or
//     quarantine policies, use application rules." Rule types QUARANTINE,
//     TWO_ENV_ISOLATION, APPLICATION, INTRA_GROUP, MULTI_ENV_ISOLATION,
//     SHARED_SERVICE.
//   - ApplicationRuleSpec: securedGroupCategoryReferences ("A set of network
//     endpoints which is protected by a Network Security Policy and defined
//     as a list of categories"); srcCategoryReferences ("categories that
//     define a set of network endpoints as inbound"), destCategoryReferences
//     ("... as outbound"), src/destAllowSpec ALL | NONE, src/destSubnet
//     {value, prefixLength}, src/destAddressGroupReferences; tcpServices,
//     udpServices {startPort, endPort}, icmpServices {isAllAllowed, type,
//     code}, serviceGroupReferences, isAllProtocolAllowed ("If set to false
//     or not specified, specifying at least one protocol service or service
//     group is mandatory").
//   - IntraEntityGroupRuleSpec: securedGroupCategoryReferences,
//     securedGroupAction ALLOW | DENY ("whether traffic between intra
//     secured group entities should be allowed or denied").
//   - TwoEnvIsolationRuleSpec: firstIsolationGroup, secondIsolationGroup;
//     MultiEnvIsolationRuleSpec: spec.isolationGroups[].groupCategoryReferences.
//   - isIpv6TrafficAllowed: "If enabled, IPv6 traffic is allowed regardless
//     of policy configuration."

// isV4Policy recognises a NetworkSecurityPolicy.
func isV4Policy(o map[string]any) bool {
	switch str(o, "type") {
	case "APPLICATION", "ISOLATION", "QUARANTINE", "SHAREDSERVICE":
		return has(o, "name") || has(o, "rules")
	}
	return false
}

// isV4Aux recognises a v4 AddressGroup or ServiceGroup.
func isV4Aux(o map[string]any) bool {
	return has(o, "ipv4Addresses") || has(o, "ipRanges") || has(o, "ipv6Addresses") ||
		has(o, "name") && (has(o, "tcpServices") || has(o, "udpServices") || has(o, "icmpServices"))
}

// v4Policy reads one NetworkSecurityPolicy.
func (l *loader) v4Policy(o map[string]any, at string) {
	p := &ntxPolicy{file: l.file, vendor: "Nutanix v4", name: str(o, "name"), id: str(o, "extId"),
		ipv6Allowed: boolean(o, "isIpv6TrafficAllowed")}
	if p.id == "" {
		p.id = p.name
	}
	switch t := str(o, "type"); t {
	case "APPLICATION":
		p.kind = ntxApp
	case "QUARANTINE":
		p.kind = ntxQuarantine
	case "ISOLATION":
		p.kind = ntxIsolate
	default:
		l.note("Nutanix v4 policy %q of type %s not evaluated", p.name, t)
		return
	}
	switch s := str(o, "state"); s {
	case "ENFORCE":
		p.mode = modeApply
	case "MONITOR":
		p.mode = modeMonitor
	case "SAVE", "":
		p.mode = modeSaved
	default:
		l.err = fmt.Errorf("%s: policy %q: unknown state %q", at, p.name, s)
		return
	}
	groups := map[string]*ntxGroupRaw{}
	for i, r := range objs(o, "rules") {
		l.v4Rule(p, groups, r, fmt.Sprintf("%s.rules[%d]", at, i), i)
		if l.err != nil {
			return
		}
	}
	l.set.ntx = append(l.set.ntx, p)
}

// v4Rule reads one rule into p; groups gathers the rules of each secured group.
func (l *loader) v4Rule(p *ntxPolicy, groups map[string]*ntxGroupRaw, r map[string]any, at string, i int) {
	spec := obj(r, "spec")
	name, id := str(r, "description"), str(r, "extId")
	if id == "" {
		id = fmt.Sprintf("rules[%d]", i)
	}
	group := func() *ntxGroupRaw {
		sel := selector{refs: strs(spec, "securedGroupCategoryReferences")}
		if sel.refs == nil {
			sel.refs = []string{}
		}
		g := groups[sel.key()]
		if g == nil {
			g = &ntxGroupRaw{sel: sel}
			groups[sel.key()] = g
			p.groups = append(p.groups, g)
		}
		return g
	}
	switch t := str(r, "type"); t {
	case "APPLICATION", "QUARANTINE":
		g := group()
		if e := v4Side(spec, "src", name, id); e != nil {
			g.inbound = append(g.inbound, e)
		}
		if e := v4Side(spec, "dest", name, id); e != nil {
			g.outbound = append(g.outbound, e)
		}
	case "INTRA_GROUP":
		g := group()
		g.intra = strings.ToUpper(str(spec, "securedGroupAction"))
		g.intraName, g.intraID = name, id
		if has(spec, "tcpServices") || has(spec, "udpServices") || has(spec, "icmpServices") {
			s := v4Services(spec)
			g.intraSvcs = &s
		}
	case "TWO_ENV_ISOLATION":
		p.isolations = append(p.isolations, ntxIsolationRaw{a: selector{refs: strs(spec, "firstIsolationGroup")},
			b: selector{refs: strs(spec, "secondIsolationGroup")}, name: name, id: id})
	case "MULTI_ENV_ISOLATION":
		var sels []selector
		for _, g := range objs(obj(spec, "spec"), "isolationGroups") {
			sels = append(sels, selector{refs: strs(g, "groupCategoryReferences")})
		}
		for a := 0; a < len(sels); a++ {
			for b := a + 1; b < len(sels); b++ {
				p.isolations = append(p.isolations, ntxIsolationRaw{a: sels[a], b: sels[b], name: name, id: id})
			}
		}
	default:
		l.note("Nutanix v4 policy %q: rule %s of type %q not evaluated", p.name, id, t)
	}
}

// v4Side reads the src (inbound) or dest (outbound) side of an
// ApplicationRuleSpec, or nil when the rule has nothing on that side.
func v4Side(spec map[string]any, side, name, id string) *ntxRuleRaw {
	allow := strings.ToUpper(str(spec, side+"AllowSpec"))
	cats := strs(spec, side+"CategoryReferences")
	sub := obj(spec, side+"Subnet")
	sub6 := obj(spec, side+"Ipv6Subnet")
	ags := strs(spec, side+"AddressGroupReferences")
	eg := str(spec, side+"EntityGroupReference")
	if allow == "" && cats == nil && sub == nil && sub6 == nil && ags == nil && eg == "" {
		return nil
	}
	dir := map[string]string{"src": "inbound", "dest": "outbound"}[side]
	r := &ntxRuleRaw{name: name, id: id + " " + dir, addrRefs: ags, svcs: v4Services(spec)}
	switch allow {
	case "ALL":
		r.peerAll = true
	case "NONE":
		r.peerNone = true
	}
	if cats != nil {
		r.peerSel = &selector{refs: cats}
	}
	for _, s := range []map[string]any{sub, sub6} {
		if s == nil {
			continue
		}
		a, err := netip.ParseAddr(str(s, "value"))
		n, ok := integer(s, "prefixLength")
		if !ok {
			n = int64(a.BitLen())
		}
		if err != nil || n < 0 || int(n) > a.BitLen() {
			r.problem = fmt.Sprintf("bad subnet %v", s)
			continue
		}
		r.subnets = append(r.subnets, prefixRange(netip.PrefixFrom(a.Unmap(), int(n))))
	}
	if eg != "" {
		r.addrRefs = append(r.addrRefs, eg)
	}
	return r
}

// v4Services reads the services of a rule spec or service group.
func v4Services(spec map[string]any) ntxServices {
	s := ntxServices{all: boolean(spec, "isAllProtocolAllowed"), svcRefs: strs(spec, "serviceGroupReferences")}
	for _, k := range []struct {
		key   string
		proto uint8
	}{{"tcpServices", ingest.ProtoTCP}, {"udpServices", ingest.ProtoUDP}} {
		if l := objs(spec, k.key); len(l) > 0 {
			ports, err := portsOf(l, "startPort", "endPort")
			if err == nil {
				s.svcs = append(s.svcs, svc{proto: int16(k.proto), ports: ports, icmpType: -1})
			}
		}
	}
	if l := objs(spec, "icmpServices"); len(l) > 0 {
		s.svcs = append(s.svcs, icmpSvcs(l, ingest.ProtoICMP)...)
	}
	if l := objs(spec, "icmpV6Services"); len(l) > 0 {
		s.svcs = append(s.svcs, icmpSvcs(l, ingest.ProtoICMPv6)...)
	}
	return s
}

// v4Aux reads a v4 AddressGroup or ServiceGroup.
func (l *loader) v4Aux(o map[string]any, at string) {
	id, name := str(o, "extId"), str(o, "name")
	if has(o, "ipv4Addresses") || has(o, "ipRanges") || has(o, "ipv6Addresses") {
		var rs []addrRange
		for _, k := range []string{"ipv4Addresses", "ipv6Addresses"} {
			for _, a := range objs(o, k) {
				addr, err := netip.ParseAddr(str(a, "value"))
				n, ok := integer(a, "prefixLength")
				if !ok {
					n = int64(addr.BitLen())
				}
				if err != nil || n < 0 || int(n) > addr.BitLen() {
					l.err = fmt.Errorf("%s: address group %q: bad address %v", at, name, a)
					return
				}
				rs = append(rs, prefixRange(netip.PrefixFrom(addr.Unmap(), int(n))))
			}
		}
		for _, r := range objs(o, "ipRanges") {
			x, err := parseAddrSpec(str(r, "startIp") + "-" + str(r, "endIp"))
			if err != nil {
				l.err = fmt.Errorf("%s: address group %q: %w", at, name, err)
				return
			}
			rs = append(rs, x)
		}
		l.set.ntxAux.addAddr(id, rs)
		l.set.ntxAux.addAddr(name, rs)
		return
	}
	s := v4Services(o)
	svcs := s.svcs
	if s.all {
		svcs = append(svcs, svcAll)
	}
	l.set.ntxAux.addSvc(id, svcs)
	l.set.ntxAux.addSvc(name, svcs)
}
