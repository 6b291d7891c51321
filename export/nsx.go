package export

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// VMware NSX (NSX-T 3.x, NSX 4.x) Policy API body, from a rules.Set: one PATCH
// /policy/api/v1/infra (hierarchical API) holding our Services and, under
// the default domain (a ChildResourceReference, which leaves the domain as
// it is), the Groups FlowSleuth must create and one Application-category
// SecurityPolicy, enforced in the order the practitioners' write-up builds:
// allow rules per tier, then the application's boundary.
//
//   - Endpoints: Kind Any is "ANY" (alone, as NSX requires). A group with an
//     NSX security group (Endpoint.Tag: in the practitioners' workflow the
//     discovery rule's tag is the group's name) is referenced, never
//     written: /infra/domains/default/groups/<tag>, or the path
//     VendorOptions.NSXGroups maps the tag to. A group known only by its
//     categories becomes a Group of the VMs carrying all of them as scoped
//     tags (Conditions "Key|Value" joined by AND), membership following the
//     workloads. An IP set becomes a Group of its members
//     (IPAddressExpression: one address family and at most 4000 addresses
//     each, so a large or mixed set is several Groups): one Group per set
//     of members, whichever rules name it (the DNS servers of three tiers
//     are one Group), its id a digest of the policy and the members, so
//     that the same set keeps its id across exports. The rule keeps its id
//     when its peers change (Endpoint.Group, the rule's role, not the
//     members, identifies the rule); it then names another Group. A
//     Group's display name is the set's name ("dc-01, dc-02", "DNS
//     servers"), told apart by the rules' other sides ("DNS servers for
//     AppTier:Web") only when two sets would share it. Peer addresses and
//     prefixes go into the rule as they are; a monitored address gets a
//     Group, since Applied To takes groups only.
//   - Direction and enforcement points: a connection passes the source's
//     OUT filter and the destination's IN filter. INBOUND rules are IN,
//     applied to (scope) the destination's group and tagged with its tag;
//     OUTBOUND rules OUT, applied to the source's group. An INTRA rule
//     between two groups is two rules: OUT applied to the source's group
//     with its tag, IN applied to the destination's with its tag. One rule
//     applied to both would log both ends under one tag, and the next
//     discovery round, which names an address after the tag of its side,
//     would merge the tiers. An INTRA rule inside one group is one IN_OUT
//     rule applied to it.
//   - Services are our own Service objects, one per protocol and port set:
//     TCP/UDP ports as strings ("443", "8000-8080"), split into several
//     entries of at most 15 values (a range counts 2); ICMPv4 and ICMPv6 by
//     type when the rule's Ports hold ICMP types (any otherwise); other
//     protocols by number (IPProtocolServiceEntry).
//   - The policy ends with the application's boundary: ANY to ANY, any
//     service, DROP, logged, tagged "<app>-boundary", applied to
//     VendorOptions.AppGroup, else to every group the rules are applied to.
//     It is the single switch: written disabled unless VendorOptions.Apply.
//     Allow rules are written enabled: they only allow.
//   - Rule ids are "fs-" and the rule's ID (stable for the same direction,
//     endpoint identities and protocol, whatever the members); the ids of
//     VendorOptions.NSXHistory that the body no longer has are sent with
//     marked_for_delete, so a PATCH after more data leaves no stale rule.
//     So are the IP-set Groups of the history ("groups/ID") that no rule of
//     the body references, after the policy (NSX refuses to delete a Group
//     a rule still references). Only IP-set Groups are deleted: their ids
//     hold the policy's, so no other policy FlowSleuth wrote references
//     them; category Groups may be shared and stay.

// nsxDomain is the domain every group and the policy are written under.
const nsxDomain = "/infra/domains/default"

// DefaultNSXSequence is the policy's sequence_number when
// VendorOptions.NSXSequence is 0.
const DefaultNSXSequence = 100

// nsxBoundaryID is the id of the boundary rule in every policy.
const nsxBoundaryID = "fs-boundary"

// nsxIPSetPrefix begins the id of every IP-set Group; nsxHistoryGroup
// marks a Group's id in VendorOptions.NSXHistory (an NSX id holds no "/",
// so it never reads as a rule's).
const (
	nsxIPSetPrefix  = "fs-ipset-"
	nsxHistoryGroup = "groups/"
)

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

// nsxIDChars are the characters NSX takes in an id, a path segment.
var nsxIDChars = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

// nsxBuild collects the objects of one body.
type nsxBuild struct {
	o        VendorOptions
	groups   map[string]vndObj // created, by id
	ipsets   map[string]*nsxIPSet
	services map[string]vndObj
	rules    map[string]vndObj // allow rules, by sort key
	ruleIDs  map[string]bool
	applied  map[string]bool // paths the allow rules are applied to: the boundary's default scope
	external map[string]bool // referenced paths of existing groups
	losses   vndLosses
}

// nsxIPSet is the Group(s) of one set of peers, by the id of its first
// Group: what the rules naming it call it, and their other sides.
type nsxIPSet struct {
	parts         [][]string
	names, others map[string]bool
}

// nsxSide is one side of a rule as NSX takes it.
type nsxSide struct {
	refs []string // source_groups or destination_groups entries
	tag  string   // the log tag of a rule applied to this side
}

// WriteNSXPolicy writes the body of PATCH /policy/api/v1/infra (see the
// mapping above). Ids are deterministic, made of [A-Za-z0-9_.-], so that
// sending the body again updates the same objects; references are full
// paths. Every allow rule is logged and tagged with the security group it is
// applied to (cut to 32 characters). The policy's sequence_number is
// VendorOptions.NSXSequence (DefaultNSXSequence when 0).
//
// The error wraps ErrBadOption or ErrTooLarge with nothing written. A
// *LossError (errors.Is ErrNotExportable) means the body was written in full
// but leaves out or changes what it lists.
func WriteNSXPolicy(w io.Writer, rs rules.Set, o VendorOptions) error {
	b, err := buildNSX(rs, o)
	if err != nil {
		return err
	}
	if err := vndWriteJSON(w, b.infra(rs)); err != nil {
		return fmt.Errorf("write NSX policy: %w", err)
	}
	return b.losses.err()
}

// NSXObjectIDs returns the ids of the objects of the NSX body for rs and o
// that a later export deletes when it no longer has them: its rules (allow
// rules and the boundary), then its IP-set Groups as "groups/ID". It is
// what to keep as VendorOptions.NSXHistory for the next export.
func NSXObjectIDs(rs rules.Set, o VendorOptions) ([]string, error) {
	b, err := buildNSX(rs, o)
	if err != nil {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(b.ruleIDs))
	if b.boundaryScope(rs) != nil {
		ids = append(ids, nsxBoundaryID)
	}
	for _, id := range vndSortedKeys(b.groups) {
		if strings.HasPrefix(id, nsxIPSetPrefix) {
			ids = append(ids, nsxHistoryGroup+id)
		}
	}
	return ids, nil
}

// NSXGroupPath is the path of the existing NSX group of a security group
// (a rule tag): the one o.NSXGroups maps it to, else
// /infra/domains/default/groups/<tag>; "" when neither is usable (the tag
// is no NSX id and no mapping names it).
func NSXGroupPath(tag string, o VendorOptions) string {
	if p := o.NSXGroups[tag]; p != "" {
		return p
	}
	if !nsxIDChars.MatchString(tag) {
		return ""
	}
	return nsxDomain + "/groups/" + tag
}

// buildNSX checks the options and collects the body's objects.
func buildNSX(rs rules.Set, o VendorOptions) (*nsxBuild, error) {
	if _, err := o.securedCategory(); err != nil {
		return nil, err
	}
	if o.AppGroup != "" && !strings.HasPrefix(o.AppGroup, "/") {
		return nil, fmt.Errorf("application group %q: want a group path such as %s/groups/SGTSBOOKS: %w",
			o.AppGroup, nsxDomain, ErrBadOption)
	}
	b := &nsxBuild{o: o, groups: map[string]vndObj{}, ipsets: map[string]*nsxIPSet{}, services: map[string]vndObj{},
		rules: map[string]vndObj{}, ruleIDs: map[string]bool{}, applied: map[string]bool{}, external: map[string]bool{},
		losses: vndLosses{format: "NSX"}}
	for i := range rs.Rules {
		b.add(&rs.Rules[i])
	}
	b.putIPSets()
	if b.boundaryScope(rs) == nil && len(rs.Rules) > 0 {
		b.losses.list = append(b.losses.list, Loss{RuleName: "application boundary", Dropped: true,
			Reason: "no group the rules are applied to and no application group: the policy has no boundary (give --app-group)"})
	}
	if n := len(b.groups) + len(b.services) + len(b.rules) + len(b.stale()) + len(b.staleGroups()) + 2; n > nsxMaxIntents {
		return nil, fmt.Errorf("NSX policy of %d objects: %w", n, ErrTooLarge)
	}
	return b, nil
}

// infra assembles the body: services, then groups and the policy, each sorted.
func (b *nsxBuild) infra(rs rules.Set) vndObj {
	var domain, children []any
	for _, id := range vndSortedKeys(b.groups) {
		domain = append(domain, vndObj{"resource_type": "ChildGroup", "Group": b.groups[id]})
	}
	rules := []any{}
	for i, k := range vndSortedKeys(b.rules) {
		b.rules[k]["sequence_number"] = i + 1
		rules = append(rules, vndObj{"resource_type": "ChildRule", "Rule": b.rules[k]})
	}
	for _, id := range b.stale() {
		rules = append(rules, vndObj{"resource_type": "ChildRule", "marked_for_delete": true,
			"Rule": vndObj{"resource_type": "Rule", "id": id}})
	}
	if scope := b.boundaryScope(rs); scope != nil {
		rules = append(rules, vndObj{"resource_type": "ChildRule", "Rule": b.boundary(rs, scope, len(b.rules)+1)})
	}
	name := b.o.policyName()
	pol := vndObj{"resource_type": "SecurityPolicy", "id": nsxPolicyID(name),
		"display_name": vndClip(name, 255), "description": "Flows discovered by FlowSleuth, then the application's boundary",
		"category": "Application", "sequence_number": cmp.Or(b.o.NSXSequence, DefaultNSXSequence),
		"stateful": true, "children": rules}
	domain = append(domain, vndObj{"resource_type": "ChildSecurityPolicy", "SecurityPolicy": pol})
	for _, id := range b.staleGroups() { // after the rules that referenced them
		domain = append(domain, vndObj{"resource_type": "ChildGroup", "marked_for_delete": true,
			"Group": vndObj{"resource_type": "Group", "id": id}})
	}
	for _, id := range vndSortedKeys(b.services) {
		children = append(children, vndObj{"resource_type": "ChildService", "Service": b.services[id]})
	}
	children = append(children, vndObj{"resource_type": "ChildResourceReference", "id": "default",
		"target_type": "Domain", "children": domain})
	return vndObj{"resource_type": "Infra", "children": children}
}

// stale returns the ids of rules exported before that the body no longer
// has, sorted.
func (b *nsxBuild) stale() []string {
	var out []string
	for _, id := range b.o.NSXHistory {
		if !b.ruleIDs[id] && id != nsxBoundaryID && !strings.HasPrefix(id, nsxHistoryGroup) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// staleGroups returns the ids of IP-set Groups exported before that the
// body no longer has (so that none of its rules references them), sorted.
func (b *nsxBuild) staleGroups() []string {
	var out []string
	for _, h := range b.o.NSXHistory {
		id, ok := strings.CutPrefix(h, nsxHistoryGroup)
		if ok && strings.HasPrefix(id, nsxIPSetPrefix) && nsxIDChars.MatchString(id) && b.groups[id] == nil &&
			!slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// boundaryScope is the boundary rule's Applied To, nil when there is none.
func (b *nsxBuild) boundaryScope(rs rules.Set) []string {
	if b.o.AppGroup != "" {
		return []string{b.o.AppGroup}
	}
	if len(b.applied) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(b.applied))
}

// boundary is the rule dropping everything else to and from the application.
func (b *nsxBuild) boundary(rs rules.Set, scope []string, seq int) vndObj {
	app := nsxAppName(rs, b.o)
	return vndObj{"resource_type": "Rule", "id": nsxBoundaryID, "display_name": vndClip(app+" boundary", 255),
		"notes":         "Drops what the rules above do not allow to or from the application. Enable it to enforce.",
		"source_groups": []string{"ANY"}, "destination_groups": []string{"ANY"}, "services": []string{"ANY"},
		"scope": scope, "direction": "IN_OUT", "ip_protocol": "IPV4_IPV6", "action": "DROP", "logged": true,
		"disabled": !b.o.Apply, "tag": vndClip(app+"-boundary", nsxMaxTag), "sequence_number": seq}
}

// nsxAppName names the application: its NSX group, else its category's
// value, else the policy.
func nsxAppName(rs rules.Set, o VendorOptions) string {
	if o.AppGroup != "" {
		return o.AppGroup[strings.LastIndex(o.AppGroup, "/")+1:]
	}
	if len(rs.Scope.AppGroups) > 0 {
		return rs.Scope.AppGroups[0]
	}
	if len(rs.Scope.AppCategories) > 0 {
		_, v, _ := strings.Cut(rs.Scope.AppCategories[0], ":")
		return v
	}
	return vndSlug(o.policyName(), 23)
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

// add writes the NSX rule(s) of r.
func (b *nsxBuild) add(r *rules.Rule) {
	if !vndAllows(r) {
		b.losses.add(r, true, "not an allow rule ("+r.Action.String()+")")
		return
	}
	if r.Direction != ingest.DirInbound && r.Direction != ingest.DirOutbound && r.Direction != ingest.DirIntra {
		b.losses.add(r, true, "direction "+r.Direction.String()+": no enforcement point is known")
		return
	}
	monSrc, monDst := r.Direction.Protected()
	src, why := b.side(r.Src, r.Dst, monSrc)
	dst, why2 := b.side(r.Dst, r.Src, monDst)
	if src.refs == nil || dst.refs == nil {
		b.losses.add(r, true, why+why2)
		return
	}
	svc := b.service(r.Service)
	switch {
	case r.Direction == ingest.DirInbound:
		b.rule(r, "", "IN", src.refs, dst.refs, svc, dst)
	case r.Direction == ingest.DirOutbound:
		b.rule(r, "", "OUT", src.refs, dst.refs, svc, src)
	case r.Src.Key() == r.Dst.Key():
		b.rule(r, "", "IN_OUT", src.refs, dst.refs, svc, src)
	default: // between two groups: allowed at both enforcement points
		b.rule(r, "-out", "OUT", src.refs, dst.refs, svc, src)
		b.rule(r, "-in", "IN", src.refs, dst.refs, svc, dst)
	}
}

// rule writes one NSX rule of r, applied to (and tagged after) side at.
func (b *nsxBuild) rule(r *rules.Rule, suffix, dir string, srcs, dsts []string, svc string, at nsxSide) {
	base := "fs-" + vndSlug(r.ID, 50)
	switch {
	case r.ID == "":
		base = "fs-r-" + vndHash(dir, strings.Join(srcs, ","), strings.Join(dsts, ","), svc)
	case base != "fs-"+r.ID: // cut or changed: keep distinct rule ids distinct
		base += "-" + vndHash(r.ID)
	}
	id := base + suffix
	for n := 2; b.ruleIDs[id]; n++ {
		id = fmt.Sprintf("%s%s-%d", base, suffix, n)
	}
	b.ruleIDs[id] = true
	name := cmp.Or(r.Name, r.Src.Name+" -> "+r.Dst.Name+" "+vndServiceLabel(r.Service))
	if suffix != "" {
		name += " (" + strings.ToLower(dir) + ")"
	}
	rule := vndObj{"resource_type": "Rule", "id": id, "display_name": vndClip(name, 255),
		"source_groups": srcs, "destination_groups": dsts, "services": []string{svc}, "scope": at.refs,
		"direction": dir, "ip_protocol": "IPV4_IPV6", "action": "ALLOW", "logged": true, "disabled": false}
	if at.tag != "" {
		rule["tag"] = at.tag
	}
	if r.Description != "" {
		rule["notes"] = vndClip(r.Description, 2048)
	}
	for _, p := range at.refs {
		b.applied[p] = true
	}
	rank := map[string]string{"IN": "1", "OUT": "2", "IN_OUT": "3"}[dir]
	b.rules[strings.Join([]string{rank, strings.Join(srcs, ","), strings.Join(dsts, ","), svc, id}, "\x00")] = rule
}

// side returns the entries of an endpoint in a rule, and its tag when a
// rule is applied to it; monitored says it is on the scope's side, other is
// the rule's other side (it names IP sets). Without entries, why says why.
func (b *nsxBuild) side(e, other rules.Endpoint, monitored bool) (nsxSide, string) {
	switch e.Kind {
	case rules.KindAny:
		if monitored {
			return nsxSide{}, fmt.Sprintf("endpoint %q is Any on the monitored side: no group to apply it to; ", e.Name)
		}
		return nsxSide{refs: []string{"ANY"}}, ""
	case rules.KindGroup:
		return b.groupSide(e, monitored)
	case rules.KindIPSet:
		if len(e.Prefixes) == 0 {
			return nsxSide{}, fmt.Sprintf("IP set %q has no member; ", e.Name)
		}
		return nsxSide{refs: b.ipSet(e, other), tag: vndClip(e.Name, nsxMaxTag)}, ""
	}
	if len(e.Prefixes) == 0 {
		return nsxSide{}, fmt.Sprintf("endpoint %q has no address; ", e.Name)
	}
	parts := nsxIPParts(e.Prefixes)
	if monitored || len(e.Prefixes) > nsxMaxRuleGroups {
		return nsxSide{refs: b.ipGroups(parts, "fs-addr-"+vndSlug(parts[0][0], 30)+"-"+vndHash(slices.Concat(parts...)...), e.Name, ""),
			tag: vndClip(e.Name, nsxMaxTag)}, ""
	}
	return nsxSide{refs: slices.Concat(parts...)}, ""
}

// groupSide references a vendor group: its NSX security group, else a group
// of the VMs tagged with its categories, else (a group named after a policy
// that is no NSX group) the secured category's tag group on the monitored
// side, or its members.
func (b *nsxBuild) groupSide(e rules.Endpoint, monitored bool) (nsxSide, string) {
	if e.Tag != "" {
		if path := NSXGroupPath(e.Tag, b.o); path != "" {
			b.external[path] = true
			return nsxSide{refs: []string{path}, tag: vndClip(e.Tag, nsxMaxTag)}, ""
		}
		b.losses.list = append(b.losses.list, Loss{RuleName: e.Name, Reason: fmt.Sprintf(
			"security group %q is no NSX id: map it to its path with --nsx-groups; written by its categories or members", e.Tag)})
	}
	if cats := endpointCategories(e); len(cats) > 0 {
		return nsxSide{refs: []string{b.tagGroup(e.Name, cats)}, tag: vndClip(e.Name, nsxMaxTag)}, ""
	}
	if monitored && b.o.SecuredCategory != "" {
		return nsxSide{refs: []string{b.tagGroup(b.o.SecuredCategory, []string{b.o.SecuredCategory})},
			tag: vndClip(e.Name, nsxMaxTag)}, ""
	}
	if len(e.Prefixes) == 0 {
		return nsxSide{}, fmt.Sprintf("group %q is no NSX group, has no category and no member; ", e.Name)
	}
	return nsxSide{refs: b.ipGroups(nsxIPParts(e.Prefixes), "fs-grp-"+vndSlug(e.Name, 30)+"-"+vndHash("group", e.Group), e.Name, ""),
		tag: vndClip(e.Name, nsxMaxTag)}, ""
}

// tagGroup adds a group of the VMs tagged with every category ("Key:Value"
// as scope Key, tag Value); it returns its path.
func (b *nsxBuild) tagGroup(name string, cats []string) string {
	var expr []vndObj
	slug, hash := []string{}, []string{"tag"}
	for i, c := range cats {
		k, v, _ := vndCategory(c)
		if i > 0 {
			expr = append(expr, vndObj{"resource_type": "ConjunctionOperator", "conjunction_operator": "AND"})
		}
		expr = append(expr, vndObj{"resource_type": "Condition", "member_type": "VirtualMachine", "key": "Tag",
			"operator": "EQUALS", "value": k + "|" + v})
		slug, hash = append(slug, k+"-"+v), append(hash, k, v)
	}
	id := "fs-" + vndSlug(strings.Join(slug, "-"), 40) + "-" + vndHash(hash...)
	return b.putGroup(id, vndObj{"display_name": vndClip(name, 255), "expression": expr})
}

// endpointCategories returns the categories of a group endpoint: its
// Categories, or its group when that is one "Key:Value".
func endpointCategories(e rules.Endpoint) []string {
	if len(e.Categories) > 0 {
		return e.Categories
	}
	if _, _, ok := vndCategory(e.Group); e.Kind == rules.KindGroup && ok {
		return []string{e.Group}
	}
	return nil
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

// ipSet returns the paths of the Group(s) of an IP set's members, named
// once every rule is in (putIPSets); other is the rule's other side.
func (b *nsxBuild) ipSet(e, other rules.Endpoint) []string {
	parts := nsxIPParts(e.Prefixes)
	base := nsxIPSetPrefix + vndSlug(parts[0][0], 30) + "-" +
		vndHash(append([]string{"ipset", nsxPolicyID(b.o.policyName())}, slices.Concat(parts...)...)...)
	s := b.ipsets[base]
	if s == nil {
		s = &nsxIPSet{parts: parts, names: map[string]bool{}, others: map[string]bool{}}
		b.ipsets[base] = s
	}
	s.names[e.Name], s.others[other.Name] = true, true
	var paths []string
	for _, id := range nsxPartIDs(base, len(parts)) {
		paths = append(paths, nsxDomain+"/groups/"+id)
	}
	return paths
}

// putIPSets adds the Groups of the IP sets, each named after what its
// rules call it; two sets that would share a name are told apart by the
// other sides of their rules, then by their first members.
func (b *nsxBuild) putIPSets() {
	names := map[string]string{}
	for base, s := range b.ipsets {
		names[base] = strings.Join(slices.Sorted(maps.Keys(s.names)), " / ")
	}
	for _, suffix := range []func(*nsxIPSet) string{
		func(s *nsxIPSet) string { return " for " + joinFirst(slices.Sorted(maps.Keys(s.others)), 3) },
		func(s *nsxIPSet) string { return " (" + joinFirst(slices.Concat(s.parts...), 2) + ")" },
	} {
		uses := map[string]int{}
		for _, n := range names {
			uses[n]++
		}
		for base, n := range names {
			if uses[n] > 1 {
				names[base] += suffix(b.ipsets[base])
			}
		}
	}
	for base, s := range b.ipsets {
		b.ipGroups(s.parts, base, names[base], "Made by FlowSleuth for policy "+b.o.policyName()+
			". A later export deletes it when no rule of the policy needs it: reference it nowhere else.")
	}
}

// nsxPartIDs are the ids of the n Groups of one set: base, or base-1 to
// base-n.
func nsxPartIDs(base string, n int) []string {
	if n == 1 {
		return []string{base}
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", base, i+1)
	}
	return ids
}

// ipGroups adds a group per part of nsxIPParts, with ids made of base (and
// the part's number when there are several) and the description desc when
// not empty; it returns their paths.
func (b *nsxBuild) ipGroups(parts [][]string, base, name, desc string) []string {
	var paths []string
	ids := nsxPartIDs(base, len(parts))
	for i, ips := range parts {
		display := cmp.Or(name, ips[0])
		if len(parts) > 1 {
			display = fmt.Sprintf("%s (%d of %d)", display, i+1, len(parts))
		}
		g := vndObj{"display_name": vndClip(display, 255),
			"expression": []vndObj{{"resource_type": "IPAddressExpression", "ip_addresses": ips}}}
		if desc != "" {
			g["description"] = vndClip(desc, 1024)
		}
		paths = append(paths, b.putGroup(ids[i], g))
	}
	return paths
}

// putGroup adds a group unless one with the same id is there (then the
// least name stays, so the body does not depend on the rule order). It
// returns the group's path.
func (b *nsxBuild) putGroup(id string, g vndObj) string {
	path := nsxDomain + "/groups/" + id
	if old, ok := b.groups[id]; ok && old["display_name"].(string) <= g["display_name"].(string) {
		return path
	}
	g["resource_type"], g["id"] = "Group", id
	b.groups[id] = g
	return path
}

// service adds the Service object for one protocol and port set; it returns its path.
func (b *nsxBuild) service(s rules.Service) string {
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
func nsxL4Entries(s rules.Service) (string, []vndObj) {
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
	return lower + "-" + vndJoin(ports, "_", rules.PortRange.String), entries
}

// nsxICMPEntries returns one ICMPTypeServiceEntry per type, or one for any type.
func nsxICMPEntries(s rules.Service) (string, []vndObj) {
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

// ReadNSXGroups reads a tag mapping: CSV with the columns tag,path (a
// header row naming them first; other columns are ignored), one security
// group per row: the DFW rule tag and the full path of its group
// ("/infra/domains/default/groups/SGTSWEB"). Blank rows are skipped.
func ReadNSXGroups(r io.Reader) (map[string]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("NSX group mapping: no header row tag,path: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ti, ok1 := col["tag"]
	pi, ok2 := col["path"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("NSX group mapping: header %q lacks the columns tag and path", strings.Join(head, ","))
	}
	out := map[string]string{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("NSX group mapping: %w", err)
		}
		if len(rec) <= max(ti, pi) || strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		tag, path := strings.TrimSpace(rec[ti]), strings.TrimSpace(rec[pi])
		switch {
		case tag == "":
			return nil, fmt.Errorf("NSX group mapping: line %d: no tag", line)
		case !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t"):
			return nil, fmt.Errorf("NSX group mapping: line %d: %q is no group path such as %s/groups/%s", line, path, nsxDomain, tag)
		}
		out[tag] = path
	}
}

// NSXExternalGroups lists, sorted, the paths of existing NSX groups the
// body for rs and o references without defining them: they must exist
// before the PATCH.
func NSXExternalGroups(rs rules.Set, o VendorOptions) ([]string, error) {
	b, err := buildNSX(rs, o)
	if err != nil {
		return nil, err
	}
	out := slices.Sorted(maps.Keys(b.external))
	if o.AppGroup != "" && !slices.Contains(out, o.AppGroup) {
		out = append(out, o.AppGroup)
	}
	return out, nil
}
