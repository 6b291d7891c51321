package policy

import (
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// NSX group membership. Sources (vsphere-automation-sdk-go
// services/nsxt/model, the Group and Expression types' doc comments):
//   - Group.expression: "all non-conjunction expressions must be at even
//     indices, separated by a conjunction expression at odd indices";
//     ConjunctionOperator.conjunction_operator is AND or OR. The order of
//     evaluation of a mixed list is not documented: AND binds tighter than
//     OR here, as in the NSX UI, which ORs criteria made of ANDed conditions.
//   - IPAddressExpression.ip_addresses: "a single IP address, IP address
//     range or a subnet" ("192.168.1.1-192.168.1.100", "192.168.0.0/24").
//   - PathExpression.paths: "policy paths of groups, segments and policy
//     logical ports"; groups are resolved, the others cannot be from logs.
//   - NestedExpression.expressions: an expression list of its own.
//   - Condition: key Tag|Name|…, member_type VirtualMachine|…, operator
//     (EQUALS when not given), value; a Tag value is "scope|tag", and "|tag"
//     "would be evaluated for tag value not for empty scope value".
//
// Members come from the inventory: a VM's group "Key:Value" is the NSX tag
// scope Key, tag Value; a bare group "T" is tag T with an empty scope.

// maxGroupDepth bounds nested and path expressions (NSX allows few levels;
// a cycle in an untrusted file must not recurse forever).
const maxGroupDepth = 32

// nsxGroups resolves group paths against the groups the bodies define and
// the environment, caching each group.
type nsxGroups struct {
	r       *resolver
	defined map[string]map[string]any
	done    map[string]members
	busy    map[string]bool
}

func newNSXGroups(r *resolver, bodies []*nsxBody) *nsxGroups {
	g := &nsxGroups{r: r, defined: map[string]map[string]any{}, done: map[string]members{}, busy: map[string]bool{}}
	for _, b := range bodies {
		for path, o := range b.groups {
			g.defined[path] = o
		}
	}
	return g
}

// group returns the members of the group at path; where names the
// reference for problems.
func (g *nsxGroups) group(path, where string, depth int) members {
	if m, ok := g.done[path]; ok {
		return m
	}
	if g.busy[path] || depth > maxGroupDepth {
		g.r.problem("NSX group " + path + " (" + where + "): refers to itself or nests too deep")
		return members{unresolved: true}
	}
	g.busy[path] = true
	defer delete(g.busy, path)
	env, inEnv := g.r.envGroup(path)
	var m members
	if o, ok := g.defined[path]; ok {
		m = g.expressions(objs(o, "expression"), path, depth)
		if len(objs(o, "extended_expression")) > 0 {
			g.r.problem("NSX group " + path + ": identity (Active Directory) membership cannot be evaluated from addresses")
			m.unresolved = true
		}
	} else {
		name := path[strings.LastIndexByte(path, '/')+1:]
		m.set = g.r.vmsWhere(func(vm *inventory.VM) bool { return hasGroup(vm, name) })
		if !inEnv && m.set.empty() {
			g.r.problem("NSX group " + path + " (" + where + "): not defined in the policy files, not in --nsx-groups or --members, and no VM of the inventory is in " + name)
			m.unresolved = true
		}
	}
	if inEnv {
		m = m.or(env)
		m.unresolved = false // the user said who the members are
	}
	g.done[path] = m
	return m
}

func hasGroup(vm *inventory.VM, name string) bool {
	for _, g := range vm.Groups {
		if g == name {
			return true
		}
	}
	return false
}

// expressions evaluates an expression list: terms joined by conjunction
// operators, AND before OR.
func (g *nsxGroups) expressions(list []map[string]any, path string, depth int) members {
	var result members
	var term *members
	op := "OR"
	flush := func() {
		if term != nil {
			result = result.or(*term)
			term = nil
		}
	}
	for _, e := range list {
		if str(e, "resource_type") == "ConjunctionOperator" {
			op = strings.ToUpper(str(e, "conjunction_operator"))
			continue
		}
		m := g.expression(e, path, depth)
		if op == "AND" && term != nil {
			x := term.and(m)
			term = &x
		} else {
			flush()
			term = &m
		}
		op = "OR"
	}
	flush()
	return result
}

// expression evaluates one non-conjunction expression.
func (g *nsxGroups) expression(e map[string]any, path string, depth int) members {
	switch rt := str(e, "resource_type"); rt {
	case "IPAddressExpression":
		var rs []addrRange
		for _, s := range strs(e, "ip_addresses") {
			r, err := parseAddrSpec(s)
			if err != nil {
				g.r.problem("NSX group " + path + ": " + err.Error())
				continue
			}
			rs = append(rs, r)
		}
		return members{set: setOf(rs...)}
	case "PathExpression":
		var m members
		for _, p := range strs(e, "paths") {
			if strings.Contains(p, "/groups/") {
				m = m.or(g.group(p, "member of "+path, depth+1))
			} else {
				g.r.problem("NSX group " + path + ": member " + p + " is not a group; its addresses are unknown")
				m.unresolved = true
			}
		}
		return m
	case "NestedExpression":
		return g.expressions(objs(e, "expressions"), path, depth+1)
	case "Condition":
		return g.condition(e, path)
	default:
		g.r.problem("NSX group " + path + ": " + rt + " membership cannot be evaluated from addresses")
		return members{unresolved: true}
	}
}

// condition evaluates a Condition on the inventory's VMs.
func (g *nsxGroups) condition(e map[string]any, path string) members {
	key, mt, val := str(e, "key"), str(e, "member_type"), str(e, "value")
	op := strings.ToUpper(str(e, "operator"))
	if op == "" {
		op = "EQUALS"
	}
	fail := func(why string) members {
		g.r.problem("NSX group " + path + ": condition " + key + " " + op + " " + val + ": " + why)
		return members{unresolved: true}
	}
	if mt != "" && mt != "VirtualMachine" {
		return fail("member type " + mt + " is not evaluated (only VirtualMachine)")
	}
	cmp, ok := stringOp(op)
	if !ok {
		return fail("operator not evaluated")
	}
	if len(g.r.vms) == 0 {
		return fail("no inventory to find the VMs in (--inventory)")
	}
	var set addrSet
	switch key {
	case "Tag":
		scope, tag, piped := strings.Cut(val, "|")
		if !piped {
			scope, tag = "", val
		}
		scopeNot := strings.EqualFold(str(e, "scope_operator"), "NOTEQUALS")
		set = g.r.vmsWhere(func(vm *inventory.VM) bool {
			for _, grp := range vm.Groups {
				k := splitTag(grp)
				if scope != "" && (k.scope == scope) == scopeNot {
					continue
				}
				if tag == "" || cmp(k.tag, tag) {
					return true
				}
			}
			return false
		})
	case "Name":
		set = g.r.vmsWhere(func(vm *inventory.VM) bool { return cmp(vm.Name, val) })
	default:
		return fail("key " + key + " is not evaluated (only Tag and Name)")
	}
	if set.empty() {
		return fail("no VM of the inventory matches")
	}
	return members{set: set}
}

// stringOp returns the comparison of a Condition operator.
func stringOp(op string) (func(have, want string) bool, bool) {
	switch op {
	case "EQUALS":
		return func(h, w string) bool { return h == w }, true
	case "CONTAINS":
		return strings.Contains, true
	case "STARTSWITH":
		return strings.HasPrefix, true
	case "ENDSWITH":
		return strings.HasSuffix, true
	}
	return nil, false
}
