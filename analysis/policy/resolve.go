package policy

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// members is what a group, category or peer resolves to: a set of
// addresses, Any, and whether part of it could not be resolved (then the
// set holds only what could be).
type members struct {
	any        bool
	set        addrSet
	unresolved bool
}

// has reports whether a is a member: yes, or maybe when a is not among the
// known members but some were unresolved.
func (m *members) has(a netip.Addr) (yes, maybe bool) {
	if m.any || m.set.contains(a) {
		return true, false
	}
	return false, m.unresolved
}

func (m members) or(o members) members {
	return members{any: m.any || o.any, set: union(m.set, o.set), unresolved: m.unresolved || o.unresolved}
}

func (m members) and(o members) members {
	switch {
	case m.any:
		o.unresolved = o.unresolved || m.unresolved
		return o
	case o.any:
		m.unresolved = m.unresolved || o.unresolved
		return m
	}
	return members{set: intersect(m.set, o.set), unresolved: m.unresolved || o.unresolved}
}

// resolver resolves the names bodies use against the environment, and
// collects what it cannot resolve.
type resolver struct {
	env      Env
	vms      []inventory.VM
	byTag    map[tagKey]addrSet // inventory "Key:Value" and bare tags, by scope and tag
	problems []string
	seen     map[string]bool
}

// tagKey is an NSX tag: scope and tag. An inventory group "Key:Value" is
// scope Key, tag Value; a bare group "T" is tag T with an empty scope.
type tagKey struct{ scope, tag string }

func splitTag(g string) tagKey {
	if k, v, ok := strings.Cut(g, ":"); ok {
		return tagKey{k, v}
	}
	return tagKey{"", g}
}

func newResolver(env Env) *resolver {
	r := &resolver{env: env, vms: env.VMs, byTag: map[tagKey]addrSet{}, seen: map[string]bool{}}
	acc := map[tagKey][]addrRange{}
	for _, vm := range env.VMs {
		for _, g := range vm.Groups {
			k := splitTag(g)
			for _, a := range vm.IPs {
				a = a.Unmap().WithZone("")
				acc[k] = append(acc[k], addrRange{a, a})
			}
		}
	}
	for k, rs := range acc {
		r.byTag[k] = setOf(rs...)
	}
	return r
}

// problem records an unresolved reference or an unevaluated construct once.
func (r *resolver) problem(msg string) {
	if !r.seen[msg] {
		r.seen[msg] = true
		r.problems = append(r.problems, msg)
	}
}

// envGroup returns Env.Groups[key] as members, and whether it is there.
func (r *resolver) envGroup(key string) (members, bool) {
	ps, ok := r.env.Groups[key]
	if !ok {
		return members{}, false
	}
	return members{set: setOfPrefixes(ps)}, true
}

// category resolves a Nutanix category "Key:Value": the inventory's VMs that
// have it, and Env.Groups["Key:Value"]. where names the reference for the
// problem list.
func (r *resolver) category(kv, where string) members {
	k := splitTag(kv)
	set, inInv := r.byTag[k]
	m := members{set: set}
	if g, ok := r.envGroup(kv); ok {
		m = m.or(g)
		inInv = true
	}
	if !inInv {
		r.problem("category " + kv + " (" + where + "): no VM of the inventory has it and no --members line names it")
		m.unresolved = true
	}
	return m
}

// vmsWhere returns the addresses of the VMs for which keep is true.
func (r *resolver) vmsWhere(keep func(vm *inventory.VM) bool) addrSet {
	var rs []addrRange
	for i := range r.vms {
		if keep(&r.vms[i]) {
			for _, a := range r.vms[i].IPs {
				a = a.Unmap().WithZone("")
				rs = append(rs, addrRange{a, a})
			}
		}
	}
	return setOf(rs...)
}

// vmIndex maps addresses to the inventory's VMs.
func vmIndex(vms []inventory.VM) map[netip.Addr]int32 {
	ix := make(map[netip.Addr]int32)
	for i, vm := range vms {
		for _, a := range vm.IPs {
			a = a.Unmap().WithZone("")
			if _, ok := ix[a]; !ok {
				ix[a] = int32(i)
			}
		}
	}
	return ix
}

// sortedProblems returns the problems in a stable order.
func (r *resolver) sortedProblems() []string {
	out := slices.Clone(r.problems)
	slices.Sort(out)
	return out
}
