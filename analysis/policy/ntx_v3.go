package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Nutanix Prism Central v3 network_security_rule. Every field below is from
// nutanix-cloud-native/prism-go-client v3/swagger.json ("Nutanix Intentful
// API 3.1.0"):
//   - resources: one of app_rule, isolation_rule, quarantine_rule, ad_rule;
//     allow_ipv6_traffic (v3 rules have no IPv6 syntax; this lets IPv6 by).
//   - app_rule / ad_rule: "Empty inbound_allow_list will not allow anything
//     into the target group. Empty outbound_allow_list will not allow
//     anything from the target group." quarantine_rule: "Empty
//     inbound_allow_list will not allow anything into target group. Empty
//     outbound_allow_list will allow everything from target group."
//   - action APPLY | MONITOR.
//   - target_group: filter (category_filter), default_internal_policy
//     ALLOW_ALL | DENY_ALL: "Default policy for communication within target
//     group".
//   - category_filter: type CATEGORIES_MATCH_ALL | CATEGORIES_MATCH_ANY
//     (default ANY), kind_list, params: "A list of category key and list of
//     values".
//   - network_rule: peer_specification_type ALL | FILTER | IP_SUBNET,
//     filter, ip_subnet {ip, prefix_length}, address_group_inclusion_list,
//     protocol ALL | ICMP | TCP | UDP ("If a protocol is not configured in
//     the network_rule object then it is allowed"), tcp_port_range_list,
//     udp_port_range_list ({start_port, end_port}), icmp_type_code_list
//     ({type, code}), service_group_list, description, rule_id.
//   - isolation_rule: action, first_entity_filter, second_entity_filter.

// isV3Intent recognises a v3 intent input, GET response, or bare spec.
func isV3Intent(o map[string]any) bool {
	if str(obj(o, "metadata"), "kind") == "network_security_rule" {
		return true
	}
	spec := obj(o, "spec")
	if spec == nil && has(o, "resources") && has(o, "name") {
		spec = o
	}
	res := obj(spec, "resources")
	return res != nil && (has(res, "app_rule") || has(res, "isolation_rule") || has(res, "quarantine_rule") || has(res, "ad_rule"))
}

// v3Rule reads one network_security_rule.
func (l *loader) v3Rule(o map[string]any, at string) {
	spec := obj(o, "spec")
	if spec == nil {
		spec = o
	}
	res := obj(spec, "resources")
	p := &ntxPolicy{file: l.file, vendor: "Nutanix v3", name: str(spec, "name"), id: str(obj(o, "metadata"), "uuid"),
		v3: true, ipv6Allowed: boolean(res, "allow_ipv6_traffic")}
	if p.id == "" {
		p.id = p.name
	}
	var r map[string]any
	switch {
	case res["app_rule"] != nil:
		r, p.kind = obj(res, "app_rule"), ntxApp
	case res["ad_rule"] != nil:
		r, p.kind = obj(res, "ad_rule"), ntxApp
	case res["quarantine_rule"] != nil:
		r, p.kind = obj(res, "quarantine_rule"), ntxQuarantine
	case res["isolation_rule"] != nil:
		r, p.kind = obj(res, "isolation_rule"), ntxIsolate
	default:
		l.err = fmt.Errorf("%s: network_security_rule %q has no app_rule, isolation_rule or quarantine_rule", at, p.name)
		return
	}
	switch a := strings.ToUpper(str(r, "action")); a {
	case "APPLY":
		p.mode = modeApply
	case "MONITOR", "":
		p.mode = modeMonitor // the swagger gives no default; monitor blocks nothing, and says so
	default:
		l.err = fmt.Errorf("%s: network_security_rule %q: unknown action %q", at, p.name, a)
		return
	}
	if p.kind == ntxIsolate {
		p.isolations = append(p.isolations, ntxIsolationRaw{a: v3Filter(obj(r, "first_entity_filter")),
			b: v3Filter(obj(r, "second_entity_filter")), name: p.name + " isolation", id: p.id})
	} else {
		p.groups = append(p.groups, l.v3Group(r, p))
	}
	l.set.ntx = append(l.set.ntx, p)
}

// v3Group reads the target group and allow lists of an app or quarantine rule.
func (l *loader) v3Group(r map[string]any, p *ntxPolicy) *ntxGroupRaw {
	tg := obj(r, "target_group")
	g := &ntxGroupRaw{sel: v3Filter(obj(tg, "filter")), intraName: "default_internal_policy", intraID: "target_group"}
	switch d := strings.ToUpper(str(tg, "default_internal_policy")); d {
	case "ALLOW_ALL":
		g.intra = "ALLOW"
	case "DENY_ALL":
		g.intra = "DENY"
	}
	for i, e := range objs(r, "inbound_allow_list") {
		g.inbound = append(g.inbound, v3Entry(e, "inbound", i))
	}
	for i, e := range objs(r, "outbound_allow_list") {
		g.outbound = append(g.outbound, v3Entry(e, "outbound", i))
	}
	g.outboundOpen = p.kind == ntxQuarantine && len(g.outbound) == 0
	return g
}

// v3Filter reads a category_filter.
func v3Filter(f map[string]any) selector {
	s := selector{params: map[string][]string{}, matchAny: !strings.EqualFold(str(f, "type"), "CATEGORIES_MATCH_ALL"),
		kinds: strs(f, "kind_list")}
	for k, v := range obj(f, "params") {
		if vs, ok := v.([]any); ok {
			for _, x := range vs {
				if xs, ok := x.(string); ok {
					s.params[k] = append(s.params[k], xs)
				}
			}
		}
	}
	return s
}

// v3Entry reads one network_rule.
func v3Entry(e map[string]any, side string, i int) *ntxRuleRaw {
	r := &ntxRuleRaw{name: str(e, "description"), id: fmt.Sprintf("%s[%d]", side, i)}
	if n, ok := integer(e, "rule_id"); ok {
		r.id = fmt.Sprintf("%s rule_id %d", side, n)
	}
	peer := strings.ToUpper(str(e, "peer_specification_type"))
	switch {
	case peer == "ALL":
		r.peerAll = true
	case peer == "FILTER" || peer == "" && e["filter"] != nil:
		s := v3Filter(obj(e, "filter"))
		r.peerSel = &s
	case peer == "IP_SUBNET" || peer == "" && e["ip_subnet"] != nil:
		sub := obj(e, "ip_subnet")
		a, err := netip.ParseAddr(str(sub, "ip"))
		n, ok := integer(sub, "prefix_length")
		if err != nil || !ok || n < 0 || int(n) > a.BitLen() {
			r.problem = fmt.Sprintf("bad ip_subnet %v", sub)
		} else {
			r.subnets = append(r.subnets, prefixRange(netip.PrefixFrom(a.Unmap(), int(n))))
		}
	}
	for _, ag := range objs(e, "address_group_inclusion_list") {
		r.addrRefs = append(r.addrRefs, refOf(ag))
	}
	if !r.peerAll && r.peerSel == nil && r.subnets == nil && r.addrRefs == nil && r.problem == "" {
		r.problem = "no peer (peer_specification_type " + peer + ")"
	}
	r.svcs = v3Services(e)
	return r
}

// refOf names a v3 reference {kind, uuid, name}: its uuid, else its name.
func refOf(o map[string]any) string {
	if u := str(o, "uuid"); u != "" {
		return u
	}
	return str(o, "name")
}

// v3Services reads the protocol and ports of a network_rule or of a
// service_group's service_list element.
func v3Services(e map[string]any) ntxServices {
	var s ntxServices
	for _, sg := range objs(e, "service_group_list") {
		s.svcRefs = append(s.svcRefs, refOf(sg))
	}
	proto := strings.ToUpper(str(e, "protocol"))
	switch proto {
	case "", "ALL":
		if proto == "ALL" || s.svcRefs == nil {
			s.all = true
		}
	case "TCP", "UDP":
		p, key := ingest.ProtoTCP, "tcp_port_range_list"
		if proto == "UDP" {
			p, key = ingest.ProtoUDP, "udp_port_range_list"
		}
		x := svc{proto: int16(p), icmpType: -1}
		if l := objs(e, key); len(l) > 0 {
			ports, err := portsOf(l, "start_port", "end_port")
			if err != nil {
				return ntxServices{} // matches nothing; the entry is malformed
			}
			x.ports = ports
		}
		s.svcs = append(s.svcs, x)
	case "ICMP":
		s.svcs = append(s.svcs, icmpSvcs(objs(e, "icmp_type_code_list"), ingest.ProtoICMP)...)
	default:
		if num, err := strconv.Atoi(proto); err == nil && num >= 0 && num < 256 {
			s.svcs = append(s.svcs, svc{proto: int16(num), icmpType: -1})
		}
	}
	return s
}

// icmpSvcs reads ICMP types ({type, code}; v4 also isAllAllowed). No list,
// or an element without a type, admits every type.
func icmpSvcs(list []map[string]any, proto uint8) []svc {
	if len(list) == 0 {
		return []svc{{proto: int16(proto), icmpType: -1}}
	}
	out := make([]svc, 0, len(list))
	for _, o := range list {
		x := svc{proto: int16(proto), icmpType: -1}
		if t, ok := integer(o, "type"); ok && !boolean(o, "isAllAllowed") && t >= 0 && t < 256 {
			x.icmpType = int16(t)
		}
		out = append(out, x)
	}
	return out
}

// v3Aux reads a v3 address group or service group (a list entity
// {"address_group": {...}, "uuid": ...} or the flat POST body).
func (l *loader) v3Aux(o map[string]any, at string) {
	id := str(o, "uuid")
	if ag := obj(o, "address_group"); ag != nil {
		o = ag
	} else if sg := obj(o, "service_group"); sg != nil {
		o = sg
	}
	name := str(o, "name")
	switch {
	case has(o, "ip_address_block_list"):
		var rs []addrRange
		for _, b := range objs(o, "ip_address_block_list") {
			a, err := netip.ParseAddr(str(b, "ip"))
			n, ok := integer(b, "prefix_length")
			if err != nil || !ok || n < 0 || int(n) > a.BitLen() {
				l.err = fmt.Errorf("%s: address group %q: bad block %v", at, name, b)
				return
			}
			rs = append(rs, prefixRange(netip.PrefixFrom(a.Unmap(), int(n))))
		}
		l.set.ntxAux.addAddr(id, rs)
		l.set.ntxAux.addAddr(name, rs)
	case has(o, "service_list"):
		var svcs []svc
		for _, e := range objs(o, "service_list") {
			s := v3Services(e)
			if s.all {
				svcs = append(svcs, svcAll)
			}
			svcs = append(svcs, s.svcs...)
		}
		l.set.ntxAux.addSvc(id, svcs)
		l.set.ntxAux.addSvc(name, svcs)
	}
}
