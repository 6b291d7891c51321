package export

import (
	"fmt"
	"io"
	"maps"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// v3limits is what a v3 network_security_rule can say.
var v3limits = nxLimits{format: "Nutanix v3", maxICMPType: 43}

// WriteNutanixV3 writes Prism Central v3 network_security_rule bodies: one
// app_rule per secured group (see the mapping in nutanix.go), whose target
// group is the group's categories (CATEGORIES_MATCH_ALL), its inbound and
// outbound entries in inbound_allow_list and outbound_allow_list, one
// network_rule per peer and protocol. An empty list is written as [] and
// means "allow nothing" in that direction. When the inventory names the
// secured groups (tiers), the file is a JSON array of the bodies, each for
// POST /api/nutanix/v3/network_security_rules; else the one body.
//
// With VendorOptions.Update (saved v3 GETs of existing policies: the
// discovery policy, or the tiers' policies of an earlier export), each body
// securing the categories of an existing policy becomes its update:
// metadata with its uuid and spec_version, for PUT
// /api/nutanix/v3/network_security_rules/{uuid}; the others stay POSTs. A
// lone discovery policy securing other categories is updated by the first
// body.
//
// The error wraps ErrBadOption, with nothing written, for a bad option. A
// *LossError (errors.Is ErrNotExportable) means the bodies were written in
// full and are valid but leave out or change the rules they list.
func WriteNutanixV3(w io.Writer, rs rules.Set, o VendorOptions) error {
	p, err := planNutanix(rs, o, v3limits)
	if err != nil {
		return err
	}
	if o.Update != nil && o.Update.V3 == nil {
		return fmt.Errorf("the policy to update is a %s policy, not a v3 one: %w", o.Update.API, ErrBadOption)
	}
	var bodies []vndObj
	groups := p.sortedGroups()
	for _, g := range groups {
		bodies = append(bodies, p.v3Body(g, o))
	}
	if o.Update != nil {
		p.v3Update(bodies, groups, o.Update.V3)
	}
	var doc any = bodies[0]
	if p.tiers {
		doc = bodies
	}
	if err := vndWriteJSON(w, doc); err != nil {
		return fmt.Errorf("write Nutanix v3 policy: %w", err)
	}
	return p.losses.err()
}

// v3Body is the network_security_rule securing group g.
func (p *nxPlan) v3Body(g *nxGroup, o VendorOptions) vndObj {
	lists := map[ingest.Direction][]vndObj{ingest.DirInbound: {}, ingest.DirOutbound: {}}
	for i := range p.entries {
		if e := &p.entries[i]; e.group == g.key {
			lists[e.dir] = append(lists[e.dir], nxV3Rules(e)...)
		}
	}
	app := vndObj{"action": map[bool]string{false: "MONITOR", true: "APPLY"}[o.Apply],
		"inbound_allow_list": lists[ingest.DirInbound], "outbound_allow_list": lists[ingest.DirOutbound],
		"target_group": vndObj{"peer_specification_type": "FILTER", "filter": nxV3Filter(g.cats),
			"default_internal_policy": map[bool]string{false: "DENY_ALL", true: "ALLOW_ALL"}[p.intra[g.key]]}}
	name := o.policyName()
	if p.tiers {
		name += " - " + g.name
	}
	return vndObj{"api_version": "3.1.0", "metadata": vndObj{"kind": "network_security_rule"},
		"spec": vndObj{"name": vndClip(name, 64), "description": vndClip(nxDescription([]*nxGroup{g}), 1000),
			"resources": vndObj{"allow_ipv6_traffic": false, "is_policy_hitlog_enabled": true, "app_rule": app}}}
}

// v3Update turns the bodies securing the categories of existing policies
// into PUTs of them. When no body secures what the one existing policy
// secures (the discovery policy of seed workflow 1 secures
// Traffic-Discovery:Application-X), the first body updates it and says so;
// existing policies no body updates are listed.
func (p *nxPlan) v3Update(bodies []vndObj, groups []*nxGroup, olds []*V3Policy) {
	used := make([]bool, len(olds))
	for i, g := range groups {
		for j, old := range olds {
			if !used[j] && sameCategories(g.cats, old.Target) {
				used[j] = true
				v3Put(bodies[i], old)
				break
			}
		}
	}
	if len(olds) == 1 && !used[0] {
		used[0] = true
		v3Put(bodies[0], olds[0])
		p.losses.list = append(p.losses.list, Loss{RuleName: olds[0].Name, Reason: fmt.Sprintf(
			"the updated policy %q secured %v and now secures %v", olds[0].Name, olds[0].Target, groups[0].cats)})
	}
	for j, old := range olds {
		if !used[j] {
			p.losses.list = append(p.losses.list, Loss{RuleName: old.Name, Reason: fmt.Sprintf(
				"the existing policy %q (securing %v) is updated by no body: delete it or keep it", old.Name, old.Target)})
		}
	}
}

// v3Put makes body the PUT of an existing policy: its metadata (uuid,
// spec_version and what it belongs to) and its name.
func v3Put(body vndObj, old *V3Policy) {
	md := vndObj{"kind": "network_security_rule", "uuid": old.UUID, "spec_version": old.SpecVersion}
	for _, k := range []string{"categories", "project_reference", "owner_reference"} {
		if v, ok := old.Metadata[k]; ok {
			md[k] = v
		}
	}
	body["metadata"] = md
	if old.Name != "" {
		body["spec"].(vndObj)["name"] = vndClip(old.Name, 64)
	}
}

// sameCategories reports whether two category lists hold the same set.
func sameCategories(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, c := range a {
		found := false
		for _, d := range b {
			found = found || c == d
		}
		if !found {
			return false
		}
	}
	return true
}

// nxV3Filter is a category filter matching VMs with all of cats (values of
// one key are either of them).
func nxV3Filter(cats []string) vndObj {
	params := map[string][]string{}
	for _, c := range cats {
		k, v, _ := vndCategory(c)
		params[k] = append(params[k], v)
	}
	return vndObj{"type": "CATEGORIES_MATCH_ALL", "kind_list": []string{"vm"}, "params": params}
}

// nxV3Rules writes one network_rule per protocol of an entry.
func nxV3Rules(e *nxEntry) []vndObj {
	peer := vndObj{"peer_specification_type": "ALL"}
	switch {
	case len(e.peer.cats) > 0:
		peer = vndObj{"peer_specification_type": "FILTER", "filter": nxV3Filter(e.peer.cats)}
	case !e.peer.any:
		peer = vndObj{"peer_specification_type": "IP_SUBNET",
			"ip_subnet": vndObj{"ip": e.peer.pfx.Addr().String(), "prefix_length": e.peer.pfx.Bits()}}
	}
	s := &e.svc
	var out []vndObj
	for _, p := range []struct {
		proto, key string
		used       bool
		val        any
	}{
		{"TCP", "tcp_port_range_list", len(s.tcp) > 0, nxRanges(s.tcp, "start_port", "end_port")},
		{"UDP", "udp_port_range_list", len(s.udp) > 0, nxRanges(s.udp, "start_port", "end_port")},
		{"ICMP", "icmp_type_code_list", s.icmp.used, nxTypes(s.icmp.types)}, // no list: any type
	} {
		if !p.used {
			continue
		}
		r := maps.Clone(peer)
		r["protocol"], r["description"] = p.proto, vndClip(nxRuleName(e), 64)
		if p.proto != "ICMP" || !s.icmp.any {
			r[p.key] = p.val
		}
		out = append(out, r)
	}
	return out
}
