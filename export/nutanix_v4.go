package export

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// v4limits is what a v4 NetworkSecurityPolicy can say.
var v4limits = nxLimits{format: "Nutanix v4", ipv6: true, maxICMPType: 255}

// Placeholder is a stand-in in a v4 body that the admin replaces before
// sending it: v4 names categories by extId (a UUID that Prism Central
// assigns), which the logs cannot tell. VendorOptions.CategoryIDs fills
// the ones it knows. Look the others up with
// GET /api/prism/v4.0/config/categories?$filter=key eq 'AppTier' and value eq 'Web'.
type Placeholder struct {
	Placeholder string `json:"placeholder"` // as written in the body: "<extId of category AppTier:Web>"
	Kind        string `json:"kind"`        // "category"
	Name        string `json:"name"`        // "AppTier:Web"
}

// Placeholders lists the placeholders of one body, sorted by Name.
type Placeholders []Placeholder

// nxRefs hands out category extIds, or placeholders for the categories
// ids lacks, and remembers the placeholders.
type nxRefs struct {
	ids     map[string]string
	missing map[string]string
}

func (m nxRefs) category(name string) string {
	if id := m.ids[name]; id != "" {
		return id
	}
	m.missing[name] = "<extId of category " + name + ">"
	return m.missing[name]
}

// categories returns the references of a category set.
func (m nxRefs) categories(cats []string) []string {
	out := make([]string, len(cats))
	for i, c := range cats {
		out[i] = m.category(c)
	}
	return out
}

func (m nxRefs) list() Placeholders {
	out := make(Placeholders, 0, len(m.missing))
	for _, name := range vndSortedKeys(m.missing) {
		out = append(out, Placeholder{Placeholder: m.missing[name], Kind: "category", Name: name})
	}
	return out
}

// WriteNutanixV4 writes the body of POST /api/microseg/v4.0/config/policies
// (v4.1 and v4.2 take it too): one APPLICATION policy with an APPLICATION
// rule per entry (see the mapping in nutanix.go), each secured by its
// group's categories (securedGroupCategoryReferences): inbound rules on the
// destination's group with the peer in src*, outbound rules on the source's
// group with the peer in dest*. Then one INTRA_GROUP rule per secured group:
// ALLOW when traffic inside it was seen, else DENY.
//
// Several category references in one list: FlowSleuth writes the tier's
// set ([AppType:Books, AppTier:Web]) and relies on Prism reading it as the
// VMs carrying all of them, keys ANDed. The v4 models say only "a list of
// categories"; the AND reading is how Nutanix's own v4 examples secure the
// tier of an application (sbourdeaud/nutanix
// python/api.v4/sdk/add_security_policy.py: securedGroupCategoryReferences
// [AppType:X, AppTier:T] per tier, and an INTRA_GROUP DENY on the same pair
// "to prevent entities with the same tier from talking to each other"), and
// what v3 says explicitly with CATEGORIES_MATCH_ALL. Read as "any of them",
// the list would secure every Books VM and every Web VM of the estate, and
// a db VM would take the web tier's allow lists (the acceptance test,
// evaluated with that reading, admits outside→db on 443). So: one value per
// key (nxSameKey reports a set that has two), the v3 body when in doubt
// (its filter says the intersection), and a check of the first v4 import in
// Prism's policy view.
//
// Categories are written by extId, from VendorOptions.CategoryIDs, else as
// placeholders "<extId of category Key:Value>", returned sorted for the
// admin to fill in. Only v4.0 fields are used, but for IPv6: IPv6 peers and
// ICMPv6 use the v4.2 fields (src/destIpv6Subnet, icmpV6Services,
// isIpv4/isIpv6AddressScope). Like the SDK, a client POSTing the body must
// send an NTNX-Request-Id header (a fresh UUID).
//
// With VendorOptions.Update (a v4 GET of the discovery policy), the body is
// the update of that policy: its extId and name, for PUT
// .../policies/{extId} with the If-Match ETag (WriteNutanixV4Update says
// which). Errors are as for WriteNutanixV3.
func WriteNutanixV4(w io.Writer, rs rules.Set, o VendorOptions) (Placeholders, error) {
	p, err := planNutanix(rs, o, v4limits)
	if err != nil {
		return nil, err
	}
	if o.Update != nil && o.Update.V4 == nil {
		return nil, fmt.Errorf("the policy to update is a %s policy, not a v4 one: %w", o.Update.API, ErrBadOption)
	}
	refs := nxRefs{ids: o.CategoryIDs, missing: map[string]string{}}
	rules, v6 := []vndObj{}, false
	entries := nxV4Peers(p.entries)
	for i := range entries {
		e := &entries[i]
		spec := nxV4AppSpec(e, p.groups[e.group], refs)
		v6 = v6 || spec["srcIpv6Subnet"] != nil || spec["destIpv6Subnet"] != nil || spec["icmpV6Services"] != nil
		rules = append(rules, vndObj{"description": nxV4Description(e), "type": "APPLICATION", "spec": spec})
	}
	groups := p.sortedGroups()
	for _, g := range groups {
		intra := vndObj{"$objectType": "microseg.v4.config.IntraEntityGroupRuleSpec",
			"securedGroupCategoryReferences": refs.categories(g.cats),
			"securedGroupAction":             map[bool]string{false: "DENY", true: "ALLOW"}[p.intra[g.key]]}
		rules = append(rules, vndObj{"description": vndClip("traffic inside "+g.name, 255), "type": "INTRA_GROUP", "spec": intra})
	}
	pol := vndObj{"name": vndClip(o.policyName(), 63), "description": vndClip(nxDescription(groups), 1000),
		"type": "APPLICATION", "state": map[bool]string{false: "MONITOR", true: "ENFORCE"}[o.Apply],
		"isHitlogEnabled": true, "isIpv6TrafficAllowed": false, "rules": rules}
	if v6 {
		pol["isIpv4AddressScope"], pol["isIpv6AddressScope"] = true, true
	}
	if u := o.Update; u != nil {
		pol["extId"] = u.V4.ExtID
		if u.V4.Name != "" {
			pol["name"] = vndClip(u.V4.Name, 63)
		}
	}
	if err := vndWriteJSON(w, pol); err != nil {
		return nil, fmt.Errorf("write Nutanix v4 policy: %w", err)
	}
	return refs.list(), p.losses.err()
}

// nxV4Peers joins the sorted entries of one secured group, direction and
// peer into one entry allowing all their services: a v4 ApplicationRuleSpec
// takes tcpServices, udpServices and icmpServices together, the rule
// allowing any of them (the v4 models: "specifying at least one protocol
// service or service group is mandatory"; Nutanix's own v4 example secures
// each tier with one rule holding TCP ports and ICMP, sbourdeaud/nutanix
// python/api.v4/sdk/add_security_policy.py). The analysis evaluator reads
// the services of a rule the same way (analysis/policy v4Services). Only
// v3 needs an entry per protocol: its network rule has one protocol.
func nxV4Peers(es []nxEntry) []nxEntry {
	var out []nxEntry
	for _, e := range es {
		n := len(out)
		if n == 0 || out[n-1].group != e.group || out[n-1].dir != e.dir || out[n-1].peer.compare(e.peer) != 0 {
			out = append(out, e)
			continue
		}
		last := &out[n-1]
		names := nxEntryNames(last)
		for _, name := range nxEntryNames(&e) {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		last.names = names
		s := &last.svc
		s.tcp = vndMergeRanges(slices.Concat(s.tcp, e.svc.tcp))
		s.udp = vndMergeRanges(slices.Concat(s.udp, e.svc.udp))
		s.icmp.types, s.icmp6.types = slices.Clone(s.icmp.types), slices.Clone(s.icmp6.types) // shared with other entries
		s.icmp.merge(e.svc.icmp)
		s.icmp6.merge(e.svc.icmp6)
	}
	return out
}

// nxEntryNames lists the names of the rules an entry holds.
func nxEntryNames(e *nxEntry) []string {
	if len(e.names) > 0 {
		return slices.Clone(e.names)
	}
	return []string{nxRuleName(e)}
}

// nxV4Description is a rule's description: its rule's name, and the user's
// description when there is one.
func nxV4Description(e *nxEntry) string {
	d := nxRuleName(e)
	if e.rule.DescriptionEdited && e.rule.Description != "" {
		d += ": " + e.rule.Description
	}
	return vndClip(d, 255)
}

// nxV4AppSpec writes one ApplicationRuleSpec on group g: the peer on the
// src side for inbound entries and on the dest side for outbound ones.
func nxV4AppSpec(e *nxEntry, g *nxGroup, refs nxRefs) vndObj {
	a := vndObj{"$objectType": "microseg.v4.config.ApplicationRuleSpec",
		"securedGroupCategoryReferences": refs.categories(g.cats)}
	side := map[ingest.Direction]string{ingest.DirInbound: "src", ingest.DirOutbound: "dest"}[e.dir]
	switch addr := (vndObj{"value": e.peer.pfx.Addr().String(), "prefixLength": e.peer.pfx.Bits()}); {
	case e.peer.any:
		a[side+"AllowSpec"] = "ALL"
	case len(e.peer.cats) > 0:
		a[side+"CategoryReferences"] = refs.categories(e.peer.cats)
	case e.peer.pfx.Addr().Is4():
		a[side+"Subnet"] = addr
	default:
		a[side+"Ipv6Subnet"] = addr
	}
	s := &e.svc
	if len(s.tcp) > 0 {
		a["tcpServices"] = nxRanges(s.tcp, "startPort", "endPort")
	}
	if len(s.udp) > 0 {
		a["udpServices"] = nxRanges(s.udp, "startPort", "endPort")
	}
	for _, c := range []struct {
		key string
		c   vndICMP
	}{{"icmpServices", s.icmp}, {"icmpV6Services", s.icmp6}} {
		switch {
		case c.c.any:
			a[c.key] = []vndObj{{"isAllAllowed": true}}
		case c.c.used:
			a[c.key] = nxTypes(c.c.types)
		}
	}
	return a
}

// WriteNutanixV4Update writes what the PUT of an updated v4 policy needs
// besides its body: the request line and the If-Match and NTNX-Request-Id
// headers. body is the written body (the request id is derived from it, so
// that sending the same update twice is recognised as one request).
func WriteNutanixV4Update(w io.Writer, u *ExistingPolicy, bodyFile string, body []byte) error {
	if u == nil || u.V4 == nil {
		return fmt.Errorf("no v4 policy to update: %w", ErrBadOption)
	}
	etag := u.V4.ETag
	if etag == "" {
		etag = "<the ETag header of GET /api/microseg/v4.0/config/policies/" + u.V4.ExtID + ">"
	}
	reqID := vndUUID("NTNX-Request-Id", u.V4.ExtID, etag, string(body))
	lines := []string{
		"# Update of the existing Flow policy " + fmt.Sprintf("%q", u.V4.Name) + " with the body in " + bodyFile + ".",
		"# The ETag changes with every change of the policy: take it from a fresh GET if this one is old.",
		"PUT https://<prism-central>:9440/api/microseg/v4.0/config/policies/" + u.V4.ExtID,
		"If-Match: " + etag,
		"NTNX-Request-Id: " + reqID,
		"Content-Type: application/json",
		"",
		"curl -k -u admin -X PUT -H 'Content-Type: application/json' -H 'If-Match: " + etag + "' \\",
		"  -H 'NTNX-Request-Id: " + reqID + "' --data @" + shellQuote(bodyFile) + " \\",
		"  https://<prism-central>:9440/api/microseg/v4.0/config/policies/" + u.V4.ExtID,
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-") == "" && s != "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
