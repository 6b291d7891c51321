package export

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// VMware NSX (NSX-T 3.x, NSX 4.x) Policy API body, from a RuleSet: one PATCH
// /policy/api/v1/infra (hierarchical API) holding our Services and, under
// the default domain (a ChildResourceReference, which leaves the domain as
// it is), our Groups and one Application-category SecurityPolicy with one
// Rule per synthesised rule. NSX can say each rule exactly, so both sides
// keep the rule's own endpoints:
//
//   - Endpoint Kind Any is "ANY" (alone, as NSX requires).
//   - A group named "Key:Value" (a Nutanix category, or an NSX scoped tag
//     as the inventory names it) becomes a Group of VMs tagged scope Key,
//     tag Value (Condition VirtualMachine Tag EQUALS "Key|Value"): membership
//     follows the workloads, not their current addresses.
//   - Other groups and address lists become a Group holding their member
//     addresses (IPAddressExpression); the display name keeps the group name.
//     An expression holds one address family and at most 4000 addresses, so
//     a side with IPv4 and IPv6 members, or more members, is several Groups,
//     all listed in the rule's source_groups or destination_groups.
//   - Services are our own Service objects, one per protocol and port set:
//     TCP/UDP ports as strings ("443", "8000-8080"), split into several
//     entries of at most 15 values (a range counts 2); ICMPv4 and ICMPv6 by
//     type when the rule's Ports hold ICMP types (any otherwise); other
//     protocols by number (IPProtocolServiceEntry).
//   - Direction: INBOUND rules are IN (enforced at the destination), OUTBOUND
//     rules OUT (at the source), INTRA and UNKNOWN rules IN_OUT.
//
// The secured group (VendorOptions.SecuredCategory, a tag group) is the
// policy's Applied To. Without it, a group of the monitored addresses named
// by the rules is written for reference, and Applied To stays the whole DFW:
// NSX does not take groups of IP addresses only in Applied To.

// nsxDomain is the domain every group and the policy are written under.
const nsxDomain = "/infra/domains/default"

// NSX limits (NSX API reference: InlineNsxL4PortSetServiceEntry1, PatchInfra;
// Rule.tag; Rule source_groups and destination_groups; InlineNsxIPAddressExpression1).
const (
	nsxMaxPortValues = 15   // per service entry; a range counts 2
	nsxMaxIntents    = 5000 // per hierarchical PATCH on a local manager
	nsxMaxTag        = 32   // Rule.tag is truncated after 32 characters
	nsxMaxRuleGroups = 128  // entries of a rule's source_groups or destination_groups
	nsxMaxIPs        = 4000 // addresses of an IPAddressExpression, all of one family
)

// ErrTooLarge is returned, with nothing written, when the NSX body would
// exceed the hierarchical API's limit of 5000 objects per call.
var ErrTooLarge = errors.New("too many objects for one NSX hierarchical PATCH")

// nsxBuild collects the objects of one body by id.
type nsxBuild struct {
	groups   map[string]vndObj
	services map[string]vndObj
	rules    map[string]vndObj // by sort key
	ruleIDs  map[string]bool
	secured  []string // paths of the secured group(s), none when unknown
	losses   vndLosses
}

// WriteNSXPolicy writes the body of PATCH /policy/api/v1/infra (see the
// mapping above). Ids are deterministic, made of [A-Za-z0-9_.-], so that
// sending the body again updates the same objects; references are full
// paths. Every rule is an ALLOW rule, logged, and tagged with the policy
// name cut to 32 characters, so that its hits can be told apart in the logs.
//
// NSX has no monitor mode, so by default the rules are written disabled: the
// PATCH changes no verdict, and the admin reviews and enables them. Enabled
// ALLOW rules are not neutral, even under an allow-all default rule: they
// win over DROP and REJECT rules further down the Application category.
// VendorOptions.Apply enables them. No deny rule is added either way, and
// the policy has no sequence_number (NSX makes it 0, first in its category).
//
// The error wraps ErrBadOption or ErrTooLarge with nothing written. A
// *LossError (errors.Is ErrNotExportable) means the body was written in full
// but leaves out the rules it lists (endpoints with neither a Key:Value
// group nor addresses).
func WriteNSXPolicy(w io.Writer, rs analysis.RuleSet, o VendorOptions) error {
	if _, err := o.securedCategory(); err != nil {
		return err
	}
	b := &nsxBuild{groups: map[string]vndObj{}, services: map[string]vndObj{}, rules: map[string]vndObj{},
		ruleIDs: map[string]bool{}, losses: vndLosses{format: "NSX"}}
	b.securedGroup(rs, o)
	tag := vndSlug(o.policyName(), nsxMaxTag)
	for i := range rs.Rules {
		b.add(&rs.Rules[i], tag, !o.Apply)
	}
	if n := len(b.groups) + len(b.services) + len(b.rules) + 1; n > nsxMaxIntents {
		return fmt.Errorf("NSX policy of %d objects: %w", n, ErrTooLarge)
	}
	if err := vndWriteJSON(w, b.infra(o)); err != nil {
		return fmt.Errorf("write NSX policy: %w", err)
	}
	return b.losses.err()
}

// securedGroup writes the group of the secured workloads: by tag when the
// secured category is set, else the monitored addresses the rules name.
func (b *nsxBuild) securedGroup(rs analysis.RuleSet, o VendorOptions) {
	if o.SecuredCategory != "" {
		b.secured = []string{b.tagGroup(o.SecuredCategory)}
		return
	}
	var ps []netip.Prefix
	for _, r := range rs.Rules {
		if r.Direction == ingest.DirInbound || r.Direction == ingest.DirIntra {
			ps = append(ps, r.Dst.Prefixes...)
		}
		if r.Direction == ingest.DirOutbound || r.Direction == ingest.DirIntra {
			ps = append(ps, r.Src.Prefixes...)
		}
	}
	if len(ps) > 0 {
		b.secured = b.ipGroups(nsxIPParts(ps), o.policyName()+" secured workloads")
	}
}

// infra assembles the body: services, then groups and the policy, each sorted.
func (b *nsxBuild) infra(o VendorOptions) vndObj {
	var domain, children []any
	for _, id := range vndSortedKeys(b.groups) {
		domain = append(domain, vndObj{"resource_type": "ChildGroup", "Group": b.groups[id]})
	}
	rules := []any{}
	for i, k := range vndSortedKeys(b.rules) {
		b.rules[k]["sequence_number"] = i + 1
		rules = append(rules, vndObj{"resource_type": "ChildRule", "Rule": b.rules[k]})
	}
	pol := vndObj{"resource_type": "SecurityPolicy", "id": nsxPolicyID(o.policyName()),
		"display_name": vndClip(o.policyName(), 255), "description": "Allow flows discovered by FlowSleuth",
		"category": "Application", "stateful": true, "children": rules}
	if o.SecuredCategory != "" {
		pol["scope"] = b.secured
	}
	domain = append(domain, vndObj{"resource_type": "ChildSecurityPolicy", "SecurityPolicy": pol})
	for _, id := range vndSortedKeys(b.services) {
		children = append(children, vndObj{"resource_type": "ChildService", "Service": b.services[id]})
	}
	children = append(children, vndObj{"resource_type": "ChildResourceReference", "id": "default",
		"target_type": "Domain", "children": domain})
	return vndObj{"resource_type": "Infra", "children": children}
}

// nsxPolicyID is the policy's id: its name when NSX takes it as an id, else
// the name made safe and cut, with a digest of the whole name, so that two
// policies whose names differ only in characters NSX does not take, or past
// the cut, are two objects rather than one PATCHed twice.
func nsxPolicyID(name string) string {
	if id := vndSlug(name, 64); id == name {
		return id
	}
	return vndSlug(name, 55) + "-" + vndHash("policy", name)
}

// nsxDirections orders and names rule directions; the rest are IN_OUT.
var nsxDirections = map[ingest.Direction]string{ingest.DirInbound: "1IN", ingest.DirOutbound: "2OUT",
	ingest.DirIntra: "3IN_OUT"}

func (b *nsxBuild) add(r *analysis.Rule, tag string, disabled bool) {
	if !vndAllows(r) {
		b.losses.add(r, true, "not an allow rule ("+r.Action.String()+")")
		return
	}
	srcs, why := b.side(r.Src, r.Direction == ingest.DirOutbound || r.Direction == ingest.DirIntra)
	dsts, why2 := b.side(r.Dst, r.Direction == ingest.DirInbound || r.Direction == ingest.DirIntra)
	if len(srcs) == 0 || len(dsts) == 0 {
		b.losses.add(r, true, why+why2)
		return
	}
	src, dst := strings.Join(srcs, ","), strings.Join(dsts, ",")
	dir := cmp.Or(nsxDirections[r.Direction], "4IN_OUT")
	svc := b.service(r.Service)
	base := "fs-" + vndSlug(r.ID, 50)
	switch {
	case r.ID == "":
		base = "fs-r-" + vndHash(dir, src, dst, svc)
	case base != "fs-"+r.ID: // cut or changed: keep distinct rule ids distinct
		base += "-" + vndHash(r.ID)
	}
	id := base
	for n := 2; b.ruleIDs[id]; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	b.ruleIDs[id] = true
	name := cmp.Or(r.Name, r.Src.Name+" -> "+r.Dst.Name+" "+vndServiceLabel(r.Service))
	rule := vndObj{"resource_type": "Rule", "id": id, "display_name": vndClip(name, 255),
		"source_groups": srcs, "destination_groups": dsts, "services": []string{svc},
		"direction": dir[1:], "ip_protocol": "IPV4_IPV6", "action": "ALLOW", "logged": true,
		"disabled": disabled, "tag": tag}
	if r.Description != "" {
		rule["notes"] = vndClip(r.Description, 2048)
	}
	b.rules[strings.Join([]string{dir, src, dst, svc, id}, "\x00")] = rule
}

// side returns the source_groups or destination_groups entries for an
// endpoint, or none and why; monitored says the endpoint is on the secured
// side of the rule.
func (b *nsxBuild) side(e analysis.Endpoint, monitored bool) ([]string, string) {
	if _, _, ok := vndCategory(e.Group); e.Kind == analysis.KindGroup && ok {
		return []string{b.tagGroup(e.Group)}, ""
	}
	if e.Kind == analysis.KindAny {
		if monitored && len(b.secured) > 0 {
			return b.secured, ""
		}
		return []string{"ANY"}, ""
	}
	if len(e.Prefixes) == 0 {
		return nil, fmt.Sprintf("endpoint %q is no Key:Value group and has no addresses; ", e.Name)
	}
	parts := nsxIPParts(e.Prefixes)
	if len(parts) > nsxMaxRuleGroups {
		return nil, fmt.Sprintf("endpoint %q has %d addresses: more than %d groups of %d; ", e.Name,
			len(e.Prefixes), nsxMaxRuleGroups, nsxMaxIPs)
	}
	return b.ipGroups(parts, e.Name), ""
}

// tagGroup adds a group of the VMs tagged scope Key, tag Value; it returns its path.
func (b *nsxBuild) tagGroup(cat string) string {
	k, v, _ := vndCategory(cat)
	return b.putGroup("fs-"+vndSlug(k+"-"+v, 40)+"-"+vndHash("tag", k, v), vndObj{"display_name": vndClip(cat, 255),
		"expression": []vndObj{{"resource_type": "Condition", "member_type": "VirtualMachine", "key": "Tag",
			"operator": "EQUALS", "value": k + "|" + v}}})
}

// nsxIPParts sorts addresses (hosts without /32 or /128) into the lists
// of Groups: NSX takes one address family and at most 4000 addresses in an
// IPAddressExpression.
func nsxIPParts(ps []netip.Prefix) [][]string {
	var v4, v6 []string
	for _, p := range ps {
		p = vndPrefix(p)
		ip := p.String()
		if p.IsSingleIP() {
			ip = p.Addr().String()
		}
		if p.Addr().Is4() {
			v4 = append(v4, ip)
		} else {
			v6 = append(v6, ip)
		}
	}
	var parts [][]string
	for _, ips := range [][]string{v4, v6} {
		slices.Sort(ips)
		for ips = slices.Compact(ips); len(ips) > 0; ips = ips[min(len(ips), nsxMaxIPs):] {
			parts = append(parts, ips[:min(len(ips), nsxMaxIPs)])
		}
	}
	return parts
}

// ipGroups adds a group per part of nsxIPParts; it returns their paths.
func (b *nsxBuild) ipGroups(parts [][]string, name string) []string {
	var paths []string
	for i, ips := range parts {
		display := cmp.Or(name, ips[0])
		if len(parts) > 1 {
			display = fmt.Sprintf("%s (%d of %d)", display, i+1, len(parts))
		}
		paths = append(paths, b.putGroup("fs-"+vndSlug(ips[0], 40)+"-"+vndHash(append([]string{"ip"}, ips...)...),
			vndObj{"display_name": vndClip(display, 255),
				"expression": []vndObj{{"resource_type": "IPAddressExpression", "ip_addresses": ips}}}))
	}
	return paths
}

// putGroup adds a group unless one with the same id (the same members) is
// there: the secured group keeps its name, others the least name, so the
// body does not depend on the rule order. It returns the group's path.
func (b *nsxBuild) putGroup(id string, g vndObj) string {
	path := nsxDomain + "/groups/" + id
	if old, ok := b.groups[id]; ok && (slices.Contains(b.secured, path) || old["display_name"].(string) <= g["display_name"].(string)) {
		return path
	}
	g["resource_type"], g["id"] = "Group", id
	b.groups[id] = g
	return path
}

// service adds the Service object for one protocol and port set; it returns its path.
func (b *nsxBuild) service(s analysis.Service) string {
	var entries []vndObj
	var label string
	switch s.Proto {
	case ingest.ProtoTCP, ingest.ProtoUDP:
		label, entries = nsxL4Entries(s)
	case ingest.ProtoICMP, ingest.ProtoICMPv6:
		label, entries = nsxICMPEntries(s)
	default:
		label = fmt.Sprintf("proto-%d", s.Proto)
		entries = []vndObj{{"resource_type": "IPProtocolServiceEntry", "id": label,
			"display_name": "IP protocol " + ingest.ProtoName(s.Proto), "protocol_number": int(s.Proto)}}
	}
	id := "fs-" + label
	if len(id) > 60 {
		id = id[:50] + "-" + vndHash(label)
	}
	b.services[id] = vndObj{"resource_type": "Service", "id": id, "display_name": vndClip("FlowSleuth "+label, 255),
		"service_entries": entries}
	return "/infra/services/" + id
}

// nsxL4Entries returns TCP or UDP entries of at most 15 port values each,
// a range counting 2, or one entry without ports (any port).
func nsxL4Entries(s analysis.Service) (string, []vndObj) {
	proto := ingest.ProtoName(s.Proto)
	lower := strings.ToLower(proto)
	ports := vndMergeRanges(s.Ports)
	if len(ports) == 0 {
		return lower + "-any", []vndObj{{"resource_type": "L4PortSetServiceEntry", "id": lower + "-any",
			"display_name": proto + " any port", "l4_protocol": proto}}
	}
	var entries []vndObj
	var chunk []string
	cost := 0
	flush := func() {
		entries = append(entries, vndObj{"resource_type": "L4PortSetServiceEntry",
			"id": fmt.Sprintf("%s-%d", lower, len(entries)+1), "display_name": proto + " " + strings.Join(chunk, ", "),
			"l4_protocol": proto, "destination_ports": chunk})
		chunk, cost = nil, 0
	}
	for _, r := range ports {
		c := 2
		if r.From == r.To {
			c = 1
		}
		if cost+c > nsxMaxPortValues {
			flush()
		}
		chunk, cost = append(chunk, r.String()), cost+c
	}
	flush()
	return lower + "-" + vndJoin(ports, "_", analysis.PortRange.String), entries
}

// nsxICMPEntries returns one ICMPTypeServiceEntry per type, or one for any type.
func nsxICMPEntries(s analysis.Service) (string, []vndObj) {
	proto, label := "ICMPv4", "icmp"
	if s.Proto == ingest.ProtoICMPv6 {
		proto, label = "ICMPv6", "icmpv6"
	}
	c, _ := vndICMPTypes(s.Ports, 255)
	if c.any {
		return label, []vndObj{{"resource_type": "ICMPTypeServiceEntry", "id": label,
			"display_name": proto + " any type", "protocol": proto}}
	}
	var entries []vndObj
	for _, t := range c.types {
		entries = append(entries, vndObj{"resource_type": "ICMPTypeServiceEntry", "id": fmt.Sprintf("%s-%d", label, t),
			"display_name": fmt.Sprintf("%s type %d", proto, t), "protocol": proto, "icmp_type": t})
	}
	return label + "-" + vndJoin(c.types, "_", strconv.Itoa), entries
}
