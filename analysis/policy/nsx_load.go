package policy

import (
	"fmt"
	"slices"
	"strings"
)

// The NSX Policy API shapes read here, and where they are documented:
//   - the hierarchical body of PATCH /policy/api/v1/infra and of a
//     hierarchical GET: Infra → ChildDomain / ChildResourceReference →
//     Domain → ChildSecurityPolicy → SecurityPolicy → ChildRule → Rule, and
//     ChildGroup → Group, ChildService → Service (NSX API reference,
//     PatchInfra; vsphere-automation-sdk-go services/nsxt/model Child* types);
//   - plain SecurityPolicy (with its "rules"), Rule, Group and Service
//     objects, and lists of them ({"results": [...]}), as GET returns them
//     and the NSX UI exports them.
//
// Objects marked_for_delete are skipped: "Objects that are marked for
// deletion are not returned in GET call" (SDK model, MarkedForDelete).

func (l *loader) body() *nsxBody {
	if l.nsxBody == nil {
		l.nsxBody = &nsxBody{file: l.file, byPath: map[string]*nsxPolicy{},
			groups: map[string]map[string]any{}, services: map[string]map[string]any{}}
		l.set.nsx = append(l.set.nsx, l.nsxBody)
	}
	return l.nsxBody
}

// nsx reads an NSX object and its children; ctx is its parent's path.
func (l *loader) nsx(o map[string]any, at string) { l.nsxIn(o, at, "") }

func (l *loader) nsxIn(o map[string]any, at, ctx string) {
	if boolean(o, "marked_for_delete") {
		return
	}
	rt := str(o, "resource_type")
	id := str(o, "id")
	switch {
	case rt == "Infra":
		l.nsxChildren(o, at, "/infra")
	case rt == "ChildResourceReference":
		l.nsxChildren(o, at, childPath(ctx, str(o, "target_type"), id))
	case strings.HasPrefix(rt, "Child"):
		inner := obj(o, strings.TrimPrefix(rt, "Child"))
		if inner == nil {
			l.err = fmt.Errorf("%s: %s without its %s object", at, rt, strings.TrimPrefix(rt, "Child"))
			return
		}
		l.nsxIn(inner, at+"."+strings.TrimPrefix(rt, "Child"), ctx)
	case rt == "Domain":
		l.nsxChildren(o, at, pathOr(o, childPath(orInfra(ctx), "Domain", id)))
	case rt == "SecurityPolicy":
		l.nsxPolicy(o, at, ctx)
	case rt == "Rule":
		l.nsxLooseRule(o, at)
	case rt == "Group":
		path := pathOr(o, childPath(orDomain(ctx), "Group", id))
		l.body().groups[path] = o
		l.nsxObjects = true
	case rt == "Service":
		l.body().services[pathOr(o, "/infra/services/"+id)] = o
		l.nsxObjects = true
	case rt == "GatewayPolicy" || rt == "RedirectionPolicy" || rt == "CommunicationMap":
		l.note("NSX %s %q not evaluated: FlowSleuth models the distributed firewall's security policies", rt, nameOf(o))
	case rt == "":
		l.err = fmt.Errorf("%s: an NSX object without resource_type", at)
	default:
		// Other objects of a hierarchical GET (context profiles, segments,
		// tier-1 gateways, …) do not change the distributed firewall's
		// verdicts; their children may hold domains.
		l.nsxChildren(o, at, pathOr(o, ctx))
	}
}

func (l *loader) nsxChildren(o map[string]any, at, ctx string) {
	l.body()
	for i, c := range objs(o, "children") {
		if l.err != nil {
			return
		}
		l.nsxIn(c, fmt.Sprintf("%s.children[%d]", at, i), ctx)
	}
}

// childPath is the policy path of a child of type typ and id under parent.
func childPath(parent, typ, id string) string {
	seg, ok := map[string]string{"Domain": "domains", "SecurityPolicy": "security-policies", "Group": "groups",
		"Service": "services", "Rule": "rules"}[typ]
	switch {
	case typ == "Infra":
		return "/infra"
	case !ok:
		seg = strings.ToLower(typ)
	}
	return parent + "/" + seg + "/" + id
}

func orInfra(ctx string) string {
	if ctx == "" {
		return "/infra"
	}
	return ctx
}

func orDomain(ctx string) string {
	if ctx == "" || ctx == "/infra" {
		return "/infra/domains/default"
	}
	return ctx
}

func pathOr(o map[string]any, def string) string {
	if p := str(o, "path"); p != "" {
		return p
	}
	return def
}

func nameOf(o map[string]any) string {
	if n := str(o, "display_name"); n != "" {
		return n
	}
	return str(o, "id")
}

// nsxPolicy reads a SecurityPolicy, its "rules" and its ChildRule children.
func (l *loader) nsxPolicy(o map[string]any, at, ctx string) {
	b := l.body()
	parent := str(o, "parent_path")
	if parent == "" {
		parent = orDomain(ctx)
	}
	p := &nsxPolicy{
		id: str(o, "id"), name: nameOf(o), category: str(o, "category"),
		path: pathOr(o, childPath(parent, "SecurityPolicy", str(o, "id"))), scope: strs(o, "scope"),
		connectivity: str(o, "connectivity_preference"), order: len(b.policies),
	}
	if p.connectivity == "" {
		p.connectivity = str(o, "connectivity_strategy")
	}
	p.seq, _ = integer(o, "sequence_number")
	if old := b.byPath[p.path]; old != nil && old.stub {
		p.rules = old.rules // rules listed before their policy
		b.policies = slices.DeleteFunc(b.policies, func(x *nsxPolicy) bool { return x == old })
		p.order = old.order
	}
	b.policies = append(b.policies, p)
	b.byPath[p.path] = p
	for i, r := range objs(o, "rules") {
		l.nsxRule(p, r, fmt.Sprintf("%s.rules[%d]", at, i))
	}
	for i, c := range objs(o, "children") {
		if boolean(c, "marked_for_delete") {
			continue
		}
		if r := obj(c, "Rule"); r != nil {
			l.nsxRule(p, r, fmt.Sprintf("%s.children[%d].Rule", at, i))
		}
	}
}

// nsxLooseRule reads a Rule listed without its policy (GET .../rules).
func (l *loader) nsxLooseRule(o map[string]any, at string) {
	b := l.body()
	parent := str(o, "parent_path")
	p := b.byPath[parent]
	if p == nil {
		p = &nsxPolicy{id: parent[strings.LastIndexByte(parent, '/')+1:], path: parent, stub: true, order: len(b.policies)}
		p.name = p.id
		b.policies = append(b.policies, p)
		b.byPath[parent] = p
		l.note("NSX rules of policy %s listed without the policy: its category and sequence number are unknown, evaluated last", parent)
	}
	l.nsxRule(p, o, at)
}

// nsxRule reads one Rule into p. Defaults, from terraform-provider-nsxt
// docs/resources/policy_security_policy.md: action ALLOW, direction IN_OUT,
// ip_version IPV4_IPV6; an empty source or destination set means Any.
func (l *loader) nsxRule(p *nsxPolicy, o map[string]any, at string) {
	if boolean(o, "marked_for_delete") {
		return
	}
	r := &nsxRuleRaw{
		id: str(o, "id"), name: nameOf(o), order: len(p.rules),
		src: strs(o, "source_groups"), dst: strs(o, "destination_groups"),
		srcNeg: boolean(o, "sources_excluded"), dstNeg: boolean(o, "destinations_excluded"),
		services: strs(o, "services"), entries: objs(o, "service_entries"), scope: strs(o, "scope"), profiles: strs(o, "profiles"),
		direction: strings.ToUpper(str(o, "direction")), ipProtocol: strings.ToUpper(str(o, "ip_protocol")),
		action: strings.ToUpper(str(o, "action")), disabled: boolean(o, "disabled"),
	}
	r.seq, _ = integer(o, "sequence_number")
	if r.direction == "" {
		r.direction = "IN_OUT"
	}
	if r.action == "" {
		r.action = "ALLOW"
	}
	switch r.action {
	case "ALLOW", "DROP", "REJECT", "JUMP_TO_APPLICATION":
	default:
		l.err = fmt.Errorf("%s: rule %q: unknown action %q", at, r.name, r.action)
		return
	}
	switch r.direction {
	case "IN", "OUT", "IN_OUT":
	default:
		l.err = fmt.Errorf("%s: rule %q: unknown direction %q", at, r.name, r.direction)
		return
	}
	p.rules = append(p.rules, r)
}
