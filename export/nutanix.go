package export

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Nutanix Flow Network Security bodies, from a RuleSet. Both API versions
// describe one policy securing one group of workloads, named by a category
// (VendorOptions.SecuredCategory). Rules map onto it as follows:
//
//   - INBOUND rules become inbound allow entries whose peer is the rule's
//     source, OUTBOUND rules outbound entries whose peer is its destination.
//     The monitored side is the secured group itself: a rule into one tier
//     (say AppTier:Web) admits the peer to the whole group, since Flow has
//     one target group per v3 policy (and we use one secured group in v4).
//   - INTRA rules (both ends secured) use Flow's mechanism for traffic
//     inside the secured group: v3 target_group.default_internal_policy, the
//     v4 INTRA_GROUP rule. Both are all or nothing in v3 and v4.0 (whose
//     IntraEntityGroupRuleSpec has no services), so INTRA rules turn it to
//     ALLOW and are reported as changed; with none it is DENY, as the logs
//     showed. Inbound entries from a secured tier are not used instead:
//     whether Flow applies allow lists between members of its own target
//     group is not documented, and DENY_ALL would then block those flows.
//   - Peers: Kind Any is any address (v3 peer ALL, v4 allow spec ALL); a
//     group named "Key:Value" is that category; other groups and address
//     lists give one subnet entry per prefix. v3 cannot say IPv6 peers.
//   - Services: TCP and UDP ranges as integer {start, end} pairs (0-65535
//     for a rule without ports); ICMP by type when the rule's Ports hold
//     types, else any (also for type 0, which the logs use for "unknown").
//     Flow carries no other protocol, nor ICMPv6 in v3.
//
// What cannot be said is reported in a *LossError, never silently dropped.
// Policies are written in monitor mode unless VendorOptions.Apply is set.

// DefaultPolicyName names the policy when VendorOptions.PolicyName is empty.
const DefaultPolicyName = "FlowSleuth discovered policy"

// PlaceholderCategory stands for the secured workloads when
// VendorOptions.SecuredCategory is empty. It must be replaced before the
// policy is applied; Prism Central rejects categories that do not exist.
const PlaceholderCategory = "FlowSleuth:CHANGE-ME"

// VendorOptions name what the logs cannot tell.
type VendorOptions struct {
	// PolicyName names the policy (DefaultPolicyName when empty). It is cut
	// to the vendor's limit: 64 characters in v3, 63 in v4.
	PolicyName string
	// SecuredCategory is the category "Key:Value" of the secured
	// (monitored) workloads: the Nutanix target group, and in NSX the VM
	// tag scope "Key", tag "Value". When empty, Nutanix bodies use
	// PlaceholderCategory and NSX a group of the monitored addresses that
	// the rules name.
	SecuredCategory string
	// Apply enforces the policy: Nutanix APPLY (v3) or ENFORCE (v4) instead
	// of MONITOR, and the NSX boundary rule enabled instead of disabled.
	Apply bool

	// NSXGroups maps NSX security groups (rule tags) to their paths, for
	// groups outside /infra/domains/default/groups/<tag>.
	NSXGroups map[string]string
	// NSXSequence is the NSX policy's sequence_number; 0 means
	// DefaultNSXSequence.
	NSXSequence int
	// AppGroup is the path of the NSX group of the whole application
	// (SGTSBOOKS): the boundary rule's Applied To. Empty: the groups the
	// rules are applied to.
	AppGroup string
	// NSXHistory are the ids of the NSX rules exported before under this
	// policy; those the body no longer has are marked for delete.
	NSXHistory []string
}

func (o VendorOptions) policyName() string { return cmp.Or(o.PolicyName, DefaultPolicyName) }

// securedCategory returns the secured category, PlaceholderCategory when
// none is set, and an error wrapping ErrBadOption when it is not Key:Value.
func (o VendorOptions) securedCategory() (string, error) {
	if o.SecuredCategory == "" {
		return PlaceholderCategory, nil
	}
	k, v, ok := vndCategory(o.SecuredCategory)
	if !ok {
		return "", fmt.Errorf("secured category %q: want Key:Value: %w", o.SecuredCategory, ErrBadOption)
	}
	return k + ":" + v, nil
}

// vndCategory splits a category "Key:Value"; ok is false for other names.
func vndCategory(s string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(s, ":")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	return key, value, ok && key != "" && value != "" && !strings.Contains(value, ":")
}

// ErrBadOption is wrapped by the error a writer returns, having written
// nothing, when a VendorOptions field is malformed.
var ErrBadOption = errors.New("bad vendor option")

// nxPeer is one Nutanix allow-list peer: any address, a category, or a subnet.
type nxPeer struct {
	any bool
	cat string       // "Key:Value"
	pfx netip.Prefix // when neither any nor cat
}

func (p nxPeer) String() string {
	switch {
	case p.any:
		return "any"
	case p.cat != "":
		return p.cat
	case p.pfx.IsSingleIP():
		return p.pfx.Addr().String()
	}
	return p.pfx.String()
}

// compare orders any before categories before subnets.
func (p nxPeer) compare(q nxPeer) int {
	key := func(p nxPeer) string { return fmt.Sprint(!p.any, p.cat == "", p.cat) }
	return cmp.Or(strings.Compare(key(p), key(q)), p.pfx.Addr().Compare(q.pfx.Addr()),
		cmp.Compare(p.pfx.Bits(), q.pfx.Bits()))
}

// nxKey is one direction and peer: the unit that collects services.
type nxKey struct {
	dir  ingest.Direction
	peer nxPeer
}

func (c *vndICMP) merge(d vndICMP) {
	c.used, c.any = c.used || d.used, c.any || d.any
	c.types = append(c.types, d.types...)
	slices.Sort(c.types)
	if c.types = slices.Compact(c.types); c.any {
		c.types = nil
	}
}

// nxSvc is what one peer is allowed: TCP and UDP ranges, ICMP, ICMPv6.
type nxSvc struct {
	tcp, udp    []analysis.PortRange
	icmp, icmp6 vndICMP
}

func (s *nxSvc) merge(t nxSvc) {
	s.tcp = vndMergeRanges(append(s.tcp, t.tcp...))
	s.udp = vndMergeRanges(append(s.udp, t.udp...))
	s.icmp.merge(t.icmp)
	s.icmp6.merge(t.icmp6)
}

// label renders the services as "tcp/443, udp/53, icmp".
func (s *nxSvc) label() string {
	var parts []string
	for name, r := range map[string][]analysis.PortRange{"tcp": s.tcp, "udp": s.udp} {
		if len(r) > 0 {
			parts = append(parts, name+"/"+vndJoin(r, ",", analysis.PortRange.String))
		}
	}
	for name, c := range map[string]vndICMP{"icmp": s.icmp, "icmpv6": s.icmp6} {
		if c.used && !c.any {
			parts = append(parts, name+"/"+vndJoin(c.types, ",", strconv.Itoa))
		} else if c.used {
			parts = append(parts, name)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// nxLimits is what one Nutanix API version can say.
type nxLimits struct {
	format      string
	ipv6        bool // IPv6 subnets and ICMPv6
	maxICMPType int
}

// nxPlan is a RuleSet sorted into Nutanix allow lists.
type nxPlan struct {
	entries map[nxKey]*nxSvc
	intra   bool
	losses  vndLosses
}

func planNutanix(rs analysis.RuleSet, lim nxLimits) *nxPlan {
	p := &nxPlan{entries: map[nxKey]*nxSvc{}, losses: vndLosses{format: lim.format}}
	for i := range rs.Rules {
		p.add(&rs.Rules[i], lim)
	}
	return p
}

// keys returns the entries sorted: inbound first, then by peer.
func (p *nxPlan) keys() []nxKey {
	return slices.SortedFunc(maps.Keys(p.entries), func(a, b nxKey) int {
		return cmp.Or(cmp.Compare(a.dir, b.dir), a.peer.compare(b.peer))
	})
}

func (p *nxPlan) add(r *analysis.Rule, lim nxLimits) {
	if !vndAllows(r) {
		p.losses.add(r, true, "not an allow rule ("+r.Action.String()+")")
		return
	}
	var peerSide analysis.Endpoint
	switch r.Direction {
	case ingest.DirInbound:
		peerSide = r.Src
	case ingest.DirOutbound:
		peerSide = r.Dst
	case ingest.DirIntra:
		p.intra = true
		p.losses.add(r, false, "Flow allows traffic inside the secured group all or nothing: "+
			"all intra-group traffic is allowed, not only "+vndServiceLabel(r.Service))
		return
	default:
		p.losses.add(r, true, "direction "+r.Direction.String()+" relative to the monitored set: no allow list fits")
		return
	}
	svc, reason, ok := nxService(r.Service, lim)
	if !ok {
		p.losses.add(r, true, reason)
		return
	}
	if reason != "" {
		p.losses.add(r, false, reason)
	}
	peers, reason := nxPeers(peerSide, lim.ipv6)
	switch {
	case len(peers) == 0:
		p.losses.add(r, true, reason)
		return
	case reason != "":
		p.losses.add(r, false, reason)
	}
	for _, peer := range peers {
		k := nxKey{r.Direction, peer}
		if p.entries[k] == nil {
			p.entries[k] = &nxSvc{}
		}
		p.entries[k].merge(svc)
	}
}

// nxPeers maps an endpoint to peers. The reason tells what was left out.
func nxPeers(e analysis.Endpoint, ipv6 bool) ([]nxPeer, string) {
	if e.Kind == analysis.KindAny {
		return []nxPeer{{any: true}}, ""
	}
	if k, v, ok := vndCategory(e.Group); e.Kind == analysis.KindGroup && ok {
		return []nxPeer{{cat: k + ":" + v}}, ""
	}
	var peers []nxPeer
	var v6 []string
	for _, p := range e.Prefixes {
		if p.Addr().Unmap().Is6() && !ipv6 {
			v6 = append(v6, p.String())
			continue
		}
		peers = append(peers, nxPeer{pfx: vndPrefix(p)})
	}
	slices.SortFunc(peers, nxPeer.compare)
	peers = slices.Compact(peers)
	switch {
	case len(v6) > 0:
		return peers, "IPv6 peers left out (v3 rules match IPv4 only): " + strings.Join(v6, ", ")
	case len(peers) == 0:
		return nil, fmt.Sprintf("peer %q is no Key:Value category and has no addresses", e.Name)
	}
	return peers, ""
}

// nxService maps a service. ok is false when Flow cannot carry it; a
// reason with ok true says how it was widened.
func nxService(s analysis.Service, lim nxLimits) (svc nxSvc, reason string, ok bool) {
	switch s.Proto {
	case ingest.ProtoTCP:
		svc.tcp = vndPortsOrAll(s.Ports)
	case ingest.ProtoUDP:
		svc.udp = vndPortsOrAll(s.Ports)
	case ingest.ProtoICMP:
		svc.icmp, reason = vndICMPTypes(s.Ports, lim.maxICMPType)
	case ingest.ProtoICMPv6:
		if !lim.ipv6 {
			return svc, "ICMPv6 cannot be said in v3 rules (IPv4 only)", false
		}
		svc.icmp6, reason = vndICMPTypes(s.Ports, 255)
	default:
		return svc, fmt.Sprintf("protocol %s: Flow rules carry only TCP, UDP and ICMP",
			ingest.ProtoName(s.Proto)), false
	}
	return svc, reason, true
}

// nxEntryLabel describes an allow entry the way the Prism UI lists them:
// "10.1.2.0/24 -> tcp/443" inbound, "-> 10.9.9.9 udp/53" outbound.
func nxEntryLabel(k nxKey, s *nxSvc) string {
	if k.dir == ingest.DirInbound {
		return k.peer.String() + " -> " + s.label()
	}
	return "-> " + k.peer.String() + " " + s.label()
}

func nxDescription(secured string) string {
	d := "Allow flows discovered by FlowSleuth for " + secured
	if secured == PlaceholderCategory {
		d += ". " + PlaceholderCategory + " is a placeholder: replace it with the category of the secured workloads"
	}
	return d
}

func nxV3Filter(cat string) vndObj {
	k, v, _ := vndCategory(cat)
	return vndObj{"type": "CATEGORIES_MATCH_ALL", "kind_list": []string{"vm"}, "params": map[string][]string{k: {v}}}
}

// WriteNutanixV3 writes the body of POST /api/nutanix/v3/network_security_rules:
// one app_rule whose target group is the secured category, with the
// INBOUND rules in inbound_allow_list and the OUTBOUND rules in
// outbound_allow_list (see the mapping above). An empty list is written as
// [] and means "allow nothing" in that direction, as the logs showed.
// There is one allow entry per peer and protocol, its ports merged.
//
// The error wraps ErrBadOption, with nothing written, for a bad option. A
// *LossError (errors.Is ErrNotExportable) means the body was written in
// full and is valid but leaves out or changes the rules it lists.
func WriteNutanixV3(w io.Writer, rs analysis.RuleSet, o VendorOptions) error {
	secured, err := o.securedCategory()
	if err != nil {
		return err
	}
	p := planNutanix(rs, nxLimits{format: "Nutanix v3", maxICMPType: 43})
	lists := map[ingest.Direction][]vndObj{ingest.DirInbound: {}, ingest.DirOutbound: {}}
	for _, k := range p.keys() {
		lists[k.dir] = append(lists[k.dir], nxV3Rules(k, p.entries[k])...)
	}
	app := vndObj{"action": map[bool]string{false: "MONITOR", true: "APPLY"}[o.Apply],
		"inbound_allow_list": lists[ingest.DirInbound], "outbound_allow_list": lists[ingest.DirOutbound],
		"target_group": vndObj{"peer_specification_type": "FILTER", "filter": nxV3Filter(secured),
			"default_internal_policy": map[bool]string{false: "DENY_ALL", true: "ALLOW_ALL"}[p.intra]}}
	body := vndObj{"api_version": "3.1.0", "metadata": vndObj{"kind": "network_security_rule"},
		"spec": vndObj{"name": vndClip(o.policyName(), 64), "description": vndClip(nxDescription(secured), 1000),
			"resources": vndObj{"allow_ipv6_traffic": false, "is_policy_hitlog_enabled": true, "app_rule": app}}}
	if err := vndWriteJSON(w, body); err != nil {
		return fmt.Errorf("write Nutanix v3 policy: %w", err)
	}
	return p.losses.err()
}

// nxV3Rules writes one network_rule per protocol for one peer.
func nxV3Rules(k nxKey, s *nxSvc) []vndObj {
	peer := vndObj{"peer_specification_type": "ALL"}
	switch {
	case k.peer.cat != "":
		peer = vndObj{"peer_specification_type": "FILTER", "filter": nxV3Filter(k.peer.cat)}
	case !k.peer.any:
		peer = vndObj{"peer_specification_type": "IP_SUBNET",
			"ip_subnet": vndObj{"ip": k.peer.pfx.Addr().String(), "prefix_length": k.peer.pfx.Bits()}}
	}
	var out []vndObj
	for _, e := range []struct {
		proto, key string
		one        nxSvc
		val        any
	}{
		{"TCP", "tcp_port_range_list", nxSvc{tcp: s.tcp}, nxRanges(s.tcp, "start_port", "end_port")},
		{"UDP", "udp_port_range_list", nxSvc{udp: s.udp}, nxRanges(s.udp, "start_port", "end_port")},
		{"ICMP", "icmp_type_code_list", nxSvc{icmp: s.icmp}, nxTypes(s.icmp.types)}, // no list: any type
	} {
		if e.one.label() != "" {
			r := maps.Clone(peer)
			r["protocol"], r["description"] = e.proto, vndClip(nxEntryLabel(k, &e.one), 64)
			if e.proto != "ICMP" || !s.icmp.any {
				r[e.key] = e.val
			}
			out = append(out, r)
		}
	}
	return out
}

// nxRanges renders port ranges as integer pairs under the given names.
func nxRanges(rs []analysis.PortRange, start, end string) []vndObj {
	out := make([]vndObj, len(rs))
	for i, r := range rs {
		out[i] = vndObj{start: int(r.From), end: int(r.To)}
	}
	return out
}

// Placeholder is a stand-in in a v4 body that the admin replaces before
// sending it: v4 names categories by extId (a UUID that Prism Central
// assigns), which the logs cannot tell. Look the category up with
// GET /api/prism/v4.0/config/categories?$filter=key eq 'AppTier' and value eq 'Web'.
type Placeholder struct {
	Placeholder string `json:"placeholder"` // as written in the body: "<extId of category AppTier:Web>"
	Kind        string `json:"kind"`        // "category"
	Name        string `json:"name"`        // "AppTier:Web"
}

// Placeholders lists the placeholders of one body, sorted by Name.
type Placeholders []Placeholder

// nxRefs hands out category placeholders by name and remembers them.
type nxRefs map[string]string

func (m nxRefs) category(name string) []string {
	m[name] = "<extId of category " + name + ">"
	return []string{m[name]}
}

func (m nxRefs) list() Placeholders {
	out := make(Placeholders, 0, len(m))
	for _, name := range vndSortedKeys(m) {
		out = append(out, Placeholder{Placeholder: m[name], Kind: "category", Name: name})
	}
	return out
}

// WriteNutanixV4 writes the body of POST /api/microseg/v4.0/config/policies
// (v4.1 and v4.2 take it too): an APPLICATION policy with one APPLICATION
// rule per direction and peer, holding all its services, and one INTRA_GROUP
// rule (see the mapping above). Categories are written as placeholders
// "<extId of category Key:Value>", returned sorted for the admin to fill in.
// Only v4.0 fields are used, but for IPv6: IPv6 peers and ICMPv6 use the v4.2
// fields (src/destIpv6Subnet, icmpV6Services, isIpv4/isIpv6AddressScope).
// Like the SDK, a client POSTing the body must send an NTNX-Request-Id
// header (a fresh UUID). Errors are as for WriteNutanixV3.
func WriteNutanixV4(w io.Writer, rs analysis.RuleSet, o VendorOptions) (Placeholders, error) {
	secured, err := o.securedCategory()
	if err != nil {
		return nil, err
	}
	refs := nxRefs{}
	p := planNutanix(rs, nxLimits{format: "Nutanix v4", ipv6: true, maxICMPType: 255})
	rules, v6 := []vndObj{}, false
	for _, k := range p.keys() {
		spec := nxV4AppSpec(k, p.entries[k], secured, refs)
		v6 = v6 || spec["srcIpv6Subnet"] != nil || spec["destIpv6Subnet"] != nil || spec["icmpV6Services"] != nil
		rules = append(rules, vndObj{"description": vndClip(nxEntryLabel(k, p.entries[k]), 64),
			"type": "APPLICATION", "spec": spec})
	}
	intra := vndObj{"$objectType": "microseg.v4.config.IntraEntityGroupRuleSpec",
		"securedGroupCategoryReferences": refs.category(secured),
		"securedGroupAction":             map[bool]string{false: "DENY", true: "ALLOW"}[p.intra]}
	rules = append(rules, vndObj{"description": "traffic inside the secured group", "type": "INTRA_GROUP", "spec": intra})
	pol := vndObj{"name": vndClip(o.policyName(), 63), "description": vndClip(nxDescription(secured), 1000),
		"type": "APPLICATION", "state": map[bool]string{false: "MONITOR", true: "ENFORCE"}[o.Apply],
		"isHitlogEnabled": true, "isIpv6TrafficAllowed": false, "rules": rules}
	if v6 {
		pol["isIpv4AddressScope"], pol["isIpv6AddressScope"] = true, true
	}
	if err := vndWriteJSON(w, pol); err != nil {
		return nil, fmt.Errorf("write Nutanix v4 policy: %w", err)
	}
	return refs.list(), p.losses.err()
}

// nxV4AppSpec writes one ApplicationRuleSpec: the peer on the src side for
// inbound entries and on the dest side for outbound ones.
func nxV4AppSpec(k nxKey, s *nxSvc, secured string, refs nxRefs) vndObj {
	a := vndObj{"$objectType": "microseg.v4.config.ApplicationRuleSpec",
		"securedGroupCategoryReferences": refs.category(secured)}
	side := map[ingest.Direction]string{ingest.DirInbound: "src", ingest.DirOutbound: "dest"}[k.dir]
	switch addr := (vndObj{"value": k.peer.pfx.Addr().String(), "prefixLength": k.peer.pfx.Bits()}); {
	case k.peer.any:
		a[side+"AllowSpec"] = "ALL"
	case k.peer.cat != "":
		a[side+"CategoryReferences"] = refs.category(k.peer.cat)
	case k.peer.pfx.Addr().Is4():
		a[side+"Subnet"] = addr
	default:
		a[side+"Ipv6Subnet"] = addr
	}
	for key, r := range map[string][]analysis.PortRange{"tcpServices": s.tcp, "udpServices": s.udp} {
		if len(r) > 0 {
			a[key] = nxRanges(r, "startPort", "endPort")
		}
	}
	for key, c := range map[string]vndICMP{"icmpServices": s.icmp, "icmpV6Services": s.icmp6} {
		switch {
		case c.any:
			a[key] = []vndObj{{"isAllAllowed": true}}
		case c.used:
			a[key] = nxTypes(c.types)
		}
	}
	return a
}

func nxTypes(types []int) []vndObj {
	out := make([]vndObj, len(types))
	for i, t := range types {
		out[i] = vndObj{"type": t}
	}
	return out
}
