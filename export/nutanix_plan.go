package export

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// A rules.Set sorted into Nutanix secured groups and allow lists (see the
// mapping in nutanix.go).

// nxPeer is one Nutanix allow-list peer: any address, a category set
// (ANDed), or a subnet.
type nxPeer struct {
	any  bool
	cats []string     // "Key:Value"
	pfx  netip.Prefix // when neither any nor cats
}

func (p nxPeer) String() string {
	switch {
	case p.any:
		return "any"
	case len(p.cats) > 0:
		return strings.Join(p.cats, " & ")
	case p.pfx.IsSingleIP():
		return p.pfx.Addr().String()
	}
	return p.pfx.String()
}

// compare orders any before categories before subnets.
func (p nxPeer) compare(q nxPeer) int {
	rank := func(p nxPeer) int {
		switch {
		case p.any:
			return 0
		case len(p.cats) > 0:
			return 1
		}
		return 2
	}
	return cmp.Or(cmp.Compare(rank(p), rank(q)), slices.Compare(p.cats, q.cats), p.pfx.Addr().Compare(q.pfx.Addr()),
		cmp.Compare(p.pfx.Bits(), q.pfx.Bits()))
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
	tcp, udp    []rules.PortRange
	icmp, icmp6 vndICMP
}

// label renders the services as "tcp/443, udp/53, icmp".
func (s *nxSvc) label() string {
	var parts []string
	for _, p := range []struct {
		name string
		r    []rules.PortRange
	}{{"tcp", s.tcp}, {"udp", s.udp}} {
		if len(p.r) > 0 {
			parts = append(parts, p.name+"/"+vndJoin(p.r, ",", rules.PortRange.String))
		}
	}
	for _, p := range []struct {
		name string
		c    vndICMP
	}{{"icmp", s.icmp}, {"icmpv6", s.icmp6}} {
		if p.c.used && !p.c.any {
			parts = append(parts, p.name+"/"+vndJoin(p.c.types, ",", strconv.Itoa))
		} else if p.c.used {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(parts, ", ")
}

// nxLimits is what one Nutanix API version can say.
type nxLimits struct {
	format      string
	ipv6        bool // IPv6 subnets and ICMPv6
	maxICMPType int
}

// nxGroup is a secured group: workloads carrying all its categories.
type nxGroup struct {
	key       string   // the categories joined by "&"
	cats      []string // "Key:Value"
	name      string   // for people: "AppTier:Web"
	inventory bool     // the inventory named it (else the secured category or placeholder)
}

// nxEntry is one allow entry of a secured group, from one rule.
type nxEntry struct {
	group string           // the secured group's key
	dir   ingest.Direction // DirInbound or DirOutbound
	peer  nxPeer
	svc   nxSvc
	rule  *rules.Rule
	names []string // the names of the rules it holds, when several rules give the same entry
}

// nxPlan is a rules.Set sorted into Nutanix secured groups and allow lists.
type nxPlan struct {
	groups  map[string]*nxGroup
	entries []nxEntry
	intra   map[string]bool // groups whose members may talk to each other
	tiers   bool            // a secured group comes from the inventory
	losses  vndLosses
}

// planNutanix sorts the rules; the error wraps ErrBadOption.
func planNutanix(rs rules.Set, o VendorOptions, lim nxLimits) (*nxPlan, error) {
	secured, err := o.securedCategory()
	if err != nil {
		return nil, err
	}
	p := &nxPlan{groups: map[string]*nxGroup{}, intra: map[string]bool{}, losses: vndLosses{format: lim.format}}
	for i := range rs.Rules {
		p.add(&rs.Rules[i], lim, secured)
	}
	if len(p.groups) == 0 {
		p.group(rules.Endpoint{}, secured) // an empty policy still secures the group
	}
	slices.SortStableFunc(p.entries, func(a, b nxEntry) int {
		return cmp.Or(strings.Compare(a.group, b.group), cmp.Compare(a.dir, b.dir), a.peer.compare(b.peer),
			strings.Compare(a.svc.label(), b.svc.label()), strings.Compare(a.rule.ID, b.rule.ID))
	})
	p.entries = mergeEntries(p.entries)
	return p, nil
}

// mergeEntries joins sorted entries that say the same (rules of several
// groups secured alike, by one secured category): one entry, named after
// all their rules.
func mergeEntries(es []nxEntry) []nxEntry {
	var out []nxEntry
	for _, e := range es {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.group == e.group && last.dir == e.dir && last.peer.compare(e.peer) == 0 && last.svc.label() == e.svc.label() {
				if len(last.names) == 0 {
					last.names = []string{nxRuleName(last)}
				}
				if name := nxRuleName(&e); !slices.Contains(last.names, name) {
					last.names = append(last.names, name)
				}
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

// sortedGroups returns the secured groups sorted by key.
func (p *nxPlan) sortedGroups() []*nxGroup {
	var out []*nxGroup
	for _, k := range vndSortedKeys(p.groups) {
		out = append(out, p.groups[k])
	}
	return out
}

// group returns the key of the secured group of a monitored endpoint: its
// inventory categories, else the secured category.
func (p *nxPlan) group(e rules.Endpoint, secured string) string {
	g := &nxGroup{cats: e.Categories, name: e.Name, inventory: len(e.Categories) > 0}
	if !g.inventory {
		g.cats, g.name = []string{secured}, secured
	}
	g.key = strings.Join(g.cats, "&")
	if old := p.groups[g.key]; old != nil {
		return old.key
	}
	p.groups[g.key] = g
	p.tiers = p.tiers || g.inventory
	return g.key
}

func (p *nxPlan) add(r *rules.Rule, lim nxLimits, secured string) {
	if !vndAllows(r) {
		p.losses.add(r, true, "not an allow rule ("+r.Action.String()+")")
		return
	}
	if r.Direction != ingest.DirInbound && r.Direction != ingest.DirOutbound && r.Direction != ingest.DirIntra {
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
	switch r.Direction {
	case ingest.DirInbound:
		p.entry(p.group(r.Dst, secured), ingest.DirInbound, r.Src, svc, r, lim)
	case ingest.DirOutbound:
		p.entry(p.group(r.Src, secured), ingest.DirOutbound, r.Dst, svc, r, lim)
	default:
		src, dst := p.group(r.Src, secured), p.group(r.Dst, secured)
		if src == dst {
			p.intra[src] = true
			p.losses.add(r, false, "Flow allows traffic inside "+p.groups[src].name+" on every service or none: "+
				"every service is allowed, not only "+vndServiceLabel(r.Service))
			return
		}
		// A connection between two groups passes both ends' lists.
		p.entry(src, ingest.DirOutbound, r.Dst, svc, r, lim)
		p.entry(dst, ingest.DirInbound, r.Src, svc, r, lim)
	}
}

// entry adds the entries of rule r on group g towards the peer endpoint.
func (p *nxPlan) entry(g string, dir ingest.Direction, peer rules.Endpoint, svc nxSvc, r *rules.Rule, lim nxLimits) {
	peers, reason, dropped := nxPeers(peer, lim.ipv6)
	if reason != "" {
		p.losses.add(r, dropped, reason)
	}
	for _, pe := range peers {
		p.entries = append(p.entries, nxEntry{group: g, dir: dir, peer: pe, svc: svc, rule: r})
	}
}

// nxPeers maps an endpoint to peers. The reason tells what was changed or
// left out, dropped that nothing is left.
func nxPeers(e rules.Endpoint, ipv6 bool) (peers []nxPeer, reason string, dropped bool) {
	if e.Kind == rules.KindAny {
		return []nxPeer{{any: true}}, "", false
	}
	if cats := endpointCategories(e); len(cats) > 0 {
		return []nxPeer{{cats: cats}}, nxSameKey(cats), false
	}
	var v6 []string
	for _, p := range e.Prefixes {
		if p.Addr().Unmap().Is6() && !ipv6 {
			v6 = append(v6, p.String())
			continue
		}
		peers = append(peers, nxPeer{pfx: vndPrefix(p)})
	}
	slices.SortFunc(peers, nxPeer.compare)
	peers = slices.CompactFunc(peers, func(a, b nxPeer) bool { return a.compare(b) == 0 })
	switch {
	case len(v6) > 0:
		return peers, "IPv6 peers left out (v3 rules match IPv4 only): " + strings.Join(v6, ", "), len(peers) == 0
	case len(peers) == 0:
		return nil, fmt.Sprintf("peer %q is no Key:Value category and has no addresses", e.Name), true
	case e.Kind == rules.KindGroup:
		return peers, fmt.Sprintf("peer %q has no Nutanix category: written as the %d addresses seen in it", e.Name, len(peers)), false
	}
	return peers, "", false
}

// nxSameKey warns when a category set has two values of one key: Flow
// reads several values of a key as either of them, wider than the set.
func nxSameKey(cats []string) string {
	seen := map[string]string{}
	for _, c := range cats {
		k, _, _ := vndCategory(c)
		if o, ok := seen[k]; ok {
			return fmt.Sprintf("categories %s and %s share a key: Flow matches either, not both", o, c)
		}
		seen[k] = c
	}
	return ""
}

// nxService maps a service. ok is false when Flow cannot carry it; a
// reason with ok true says how it was widened.
func nxService(s rules.Service, lim nxLimits) (svc nxSvc, reason string, ok bool) {
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

// nxEntryLabel describes an entry the way the Prism UI lists them:
// "10.1.2.0/24 -> tcp/443" inbound, "-> 10.9.9.9 udp/53" outbound.
func nxEntryLabel(e *nxEntry) string {
	if e.dir == ingest.DirInbound {
		return e.peer.String() + " -> " + e.svc.label()
	}
	return "-> " + e.peer.String() + " " + e.svc.label()
}

// nxRuleName is what an entry is called: its rules' names, else its label.
func nxRuleName(e *nxEntry) string {
	if len(e.names) > 0 {
		return strings.Join(e.names, "; ")
	}
	return cmp.Or(e.rule.Name, nxEntryLabel(e))
}

// nxDescription describes a policy securing groups.
func nxDescription(groups []*nxGroup) string {
	var names []string
	for _, g := range groups {
		names = append(names, g.name)
	}
	d := "Allow flows discovered by FlowSleuth for " + strings.Join(names, ", ")
	for _, g := range groups {
		if g.key == PlaceholderCategory {
			d += ". " + PlaceholderCategory + " is a placeholder: replace it with the category of the secured workloads"
		}
	}
	return d
}

// nxRanges renders port ranges as integer pairs under the given names.
func nxRanges(rs []rules.PortRange, start, end string) []vndObj {
	out := make([]vndObj, len(rs))
	for i, r := range rs {
		out[i] = vndObj{start: int(r.From), end: int(r.To)}
	}
	return out
}

func nxTypes(types []int) []vndObj {
	out := make([]vndObj, len(types))
	for i, t := range types {
		out[i] = vndObj{"type": t}
	}
	return out
}
