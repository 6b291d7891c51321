package policy

import (
	"net/netip"
	"strings"
	"testing"
)

// NSX bodies for the tests, in the hierarchical PATCH /infra form (NSX API
// reference, PatchInfra): Infra → ChildResourceReference (Domain default)
// → ChildSecurityPolicy / ChildGroup.

const gp = "/infra/domains/default/groups/"

func nsxInfra(children ...o) o {
	kids := make([]any, len(children))
	for i, c := range children {
		kids[i] = c
	}
	return o{"resource_type": "Infra", "children": []any{
		o{"resource_type": "ChildResourceReference", "id": "default", "target_type": "Domain", "children": kids}}}
}

func polJSON(id, category string, seq int, scope []string, rules ...o) o {
	kids := make([]any, len(rules))
	for i, r := range rules {
		kids[i] = o{"resource_type": "ChildRule", "Rule": r}
	}
	p := o{"resource_type": "SecurityPolicy", "id": id, "display_name": id, "category": category,
		"sequence_number": seq, "children": kids}
	if scope != nil {
		p["scope"] = scope
	}
	return o{"resource_type": "ChildSecurityPolicy", "SecurityPolicy": p}
}

// ruleJSON is a rule with its name as id; extra fields override.
func ruleJSON(name string, seq int, src, dst []string, action, direction string, extra o) o {
	r := o{"resource_type": "Rule", "id": name, "display_name": name, "sequence_number": seq,
		"source_groups": src, "destination_groups": dst, "services": []string{"ANY"},
		"action": action, "direction": direction}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

// tagGroup is a group of the VMs with an NSX tag (Condition: key Tag,
// member_type VirtualMachine, value "scope|tag").
func tagGroup(id, scope, tag string) o {
	return o{"resource_type": "ChildGroup", "Group": o{"resource_type": "Group", "id": id, "display_name": id,
		"expression": []any{o{"resource_type": "Condition", "key": "Tag", "member_type": "VirtualMachine",
			"operator": "EQUALS", "value": scope + "|" + tag}}}}
}

// tierGroups are the Books tiers, by tag AppTier|Web etc.
func tierGroups() []o {
	return []o{tagGroup("web", "AppTier", "Web"), tagGroup("app", "AppTier", "App"), tagGroup("db", "AppTier", "DB")}
}

func any1() []string { return []string{"ANY"} }

func TestNSXSemantics(t *testing.T) {
	env := Env{VMs: testVMs}
	tests := []struct {
		Name   string
		Source string // where the behaviour is documented
		Body   o
		Env    *Env
		Checks []check
	}{{
		Name:   "policy scope overrides rule scope",
		Source: `SDK model SecurityPolicy.scope: "This scope will take precedence over rule level scope"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 10, []string{gp + "web"},
				ruleJSON("drop-in", 1, any1(), any1(), "DROP", "IN", o{"scope": []string{gp + "db"}})))...),
		Checks: []check{
			{Name: "applied at web (the policy's scope)", Conv: conv(client, web1, "tcp", 443), Outcome: Blocked, Rule: "drop-in", Point: "IN at 10.20.10.11 (web-01)"},
			{Name: "not applied at db (the rule's own scope)", Conv: conv(client, db1, "tcp", 3306), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)", Point: "IN at"},
		},
	}, {
		Name:   "rule scope applies when the policy has none",
		Source: "SDK model Rule.scope: the paths where the rule is applied",
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 10, nil,
				ruleJSON("drop-in", 1, any1(), any1(), "DROP", "IN", o{"scope": []string{gp + "db"}})))...),
		Checks: []check{
			{Name: "applied at db", Conv: conv(client, db1, "tcp", 3306), Outcome: Blocked, Rule: "drop-in"},
			{Name: "not at web", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
		},
	}, {
		Name:   "IN is checked only at the destination's vNIC",
		Source: `NSX docs, About Firewall Rules: "In means that only traffic to the object is checked"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 10, nil, ruleJSON("web-in", 1, []string{gp + "web"}, any1(), "DROP", "IN", nil)))...),
		Checks: []check{
			{Name: "web to an outside server: no IN point", Conv: conv(web1, dns, "udp", 53), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)", Point: "OUT at"},
			{Name: "web to app: dropped at app's IN", Conv: conv(web1, app1, "tcp", 8080), Outcome: Blocked, Rule: "web-in", Point: "IN at 10.20.20.21 (app-01)"},
		},
	}, {
		Name:   "OUT is checked only at the source's vNIC",
		Source: `NSX docs, About Firewall Rules: "Out means that only traffic from the object is checked"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 10, nil, ruleJSON("web-out", 1, []string{gp + "web"}, any1(), "DROP", "OUT", nil)))...),
		Checks: []check{
			{Name: "web to an outside server: dropped at web's OUT", Conv: conv(web1, dns, "udp", 53), Outcome: Blocked, Rule: "web-out", Point: "OUT at 10.20.10.11 (web-01)"},
			{Name: "client to web: web's IN does not match an OUT rule", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
		},
	}, {
		Name:   "IN_OUT is checked at both vNICs; both must allow",
		Source: `NSX docs: "In/Out means that traffic in both directions is checked"; traceflow: OUT at the source, then IN at the destination`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 10, nil,
				ruleJSON("app-in-only", 1, []string{gp + "web"}, []string{gp + "app"}, "ALLOW", "IN", nil),
				ruleJSON("deny-all", 2, any1(), any1(), "DROP", "IN_OUT", nil)))...),
		Checks: []check{
			{Name: "web to app: web's OUT has only the deny", Conv: conv(web1, app1, "tcp", 8080), Outcome: Blocked, Rule: "deny-all", Point: "OUT at 10.20.10.11"},
		},
	}, {
		Name:   "a DROP above an ALLOW wins: rule sequence numbers, not file order",
		Source: "SDK model Rule.sequence_number; first match",
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 10, nil,
				ruleJSON("allow-443", 20, any1(), []string{gp + "web"}, "ALLOW", "IN_OUT", nil),
				ruleJSON("drop-web", 10, any1(), []string{gp + "web"}, "DROP", "IN_OUT", nil)))...),
		Checks: []check{{Name: "dropped", Conv: conv(client, web1, "tcp", 443), Outcome: Blocked, Rule: "drop-web"}},
	}, {
		Name:   "categories: Environment before Application whatever the sequence numbers",
		Source: `SDK model SecurityPolicy.category: "the Emergency category has the highest priority followed by Infrastructure, Environment and then Application"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("app", "Application", 1, nil, ruleJSON("app-allow", 1, any1(), any1(), "ALLOW", "IN_OUT", nil)),
			polJSON("env", "Environment", 500, nil, ruleJSON("env-drop", 1, any1(), []string{gp + "db"}, "DROP", "IN_OUT", nil)),
			polJSON("emg", "Emergency", 900, nil, ruleJSON("emergency-allow", 1, []string{client}, []string{gp + "db"}, "ALLOW", "IN_OUT", nil)))...),
		Checks: []check{
			{Name: "Environment drop before Application allow", Conv: conv(web1, db1, "tcp", 3306), Outcome: Blocked, Rule: "env-drop"},
			{Name: "Emergency allow before Environment drop", Conv: conv(client, db1, "tcp", 3306), Outcome: Allowed, Rule: "emergency-allow"},
			{Name: "Application allow", Conv: conv(web1, app1, "tcp", 8080), Outcome: Allowed, Rule: "app-allow"},
		},
	}, {
		Name:   "JUMP_TO_APPLICATION skips the rest of Environment",
		Source: `SDK model Rule.action: "rule processing will jump to the rules present in the Application category, skipping all further rules in the Environment category"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("env", "Environment", 1, nil,
				ruleJSON("jump-books", 1, any1(), []string{gp + "web"}, "JUMP_TO_APPLICATION", "IN_OUT", nil),
				ruleJSON("env-deny", 2, any1(), any1(), "DROP", "IN_OUT", nil)),
			polJSON("app", "Application", 1, nil, ruleJSON("web-443", 1, any1(), []string{gp + "web"}, "ALLOW", "IN_OUT", nil)))...),
		Checks: []check{
			{Name: "jumped to Application", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "web-443"},
			{Name: "no jump: Environment deny", Conv: conv(client, db1, "tcp", 3306), Outcome: Blocked, Rule: "env-deny"},
		},
	}, {
		Name:   "nested group: a tag condition ANDed in a NestedExpression, ORed with a path",
		Source: "SDK model Group.expression, NestedExpression, ConjunctionOperator, PathExpression",
		Body: nsxInfra(
			tagGroup("db", "AppTier", "DB"),
			o{"resource_type": "ChildGroup", "Group": o{"resource_type": "Group", "id": "books-web", "expression": []any{
				o{"resource_type": "NestedExpression", "expressions": []any{
					o{"resource_type": "Condition", "key": "Tag", "member_type": "VirtualMachine", "value": "AppType|Books"},
					o{"resource_type": "ConjunctionOperator", "conjunction_operator": "AND"},
					o{"resource_type": "Condition", "key": "Tag", "member_type": "VirtualMachine", "value": "AppTier|Web"},
				}},
				o{"resource_type": "ConjunctionOperator", "conjunction_operator": "OR"},
				o{"resource_type": "PathExpression", "paths": []string{gp + "db"}},
			}}},
			polJSON("p", "Application", 1, nil, ruleJSON("drop-books-web-db", 1, any1(), []string{gp + "books-web"}, "DROP", "IN", nil))),
		Checks: []check{
			{Name: "Books web is in", Conv: conv(client, web2, "tcp", 443), Outcome: Blocked, Rule: "drop-books-web-db"},
			{Name: "db (by path) is in", Conv: conv(client, db1, "tcp", 443), Outcome: Blocked, Rule: "drop-books-web-db"},
			{Name: "Shop web is not (AND)", Conv: conv(client, shopWeb, "tcp", 443), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
			{Name: "Books app is not", Conv: conv(client, app1, "tcp", 443), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
		},
	}, {
		Name:   "a disabled rule is ignored",
		Source: `SDK model Rule.disabled: "Flag to deactivate the rule"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 1, nil,
				ruleJSON("drop-disabled", 1, any1(), any1(), "DROP", "IN_OUT", o{"disabled": true}),
				ruleJSON("allow-web", 2, any1(), []string{gp + "web"}, "ALLOW", "IN_OUT", nil)))...),
		Checks: []check{{Name: "the allow decides", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "allow-web"}},
	}, {
		Name:   "a disabled rule counts when asked (--enable-disabled)",
		Source: "Env.EnableDisabled: what the policy does once switched on",
		Env:    &Env{VMs: testVMs, EnableDisabled: true},
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 1, nil,
				ruleJSON("drop-disabled", 1, any1(), any1(), "DROP", "IN_OUT", o{"disabled": true}),
				ruleJSON("allow-web", 2, any1(), []string{gp + "web"}, "ALLOW", "IN_OUT", nil)))...),
		Checks: []check{{Name: "the drop decides", Conv: conv(client, web1, "tcp", 443), Outcome: Blocked, Rule: "drop-disabled"}},
	}, {
		Name:   "the default rule: allow (brownfield)",
		Source: "the DFW's Default Layer3 Rule; FlowSleuth --default allow",
		Body:   nsxInfra(append(tierGroups(), polJSON("p", "Application", 1, nil, ruleJSON("web-443", 1, any1(), []string{gp + "web"}, "ALLOW", "IN_OUT", o{"services": []string{"/infra/services/HTTPS"}})))...),
		Checks: []check{
			{Name: "matched", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "web-443"},
			{Name: "default", Conv: conv(client, web1, "tcp", 22), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
			{Name: "no enforcement point", Conv: conv(client, dns, "udp", 53), Outcome: Allowed, Rule: "-"},
		},
	}, {
		Name:   "the default rule: drop",
		Source: "the DFW's Default Layer3 Rule set to drop; FlowSleuth --default drop",
		Env:    &Env{VMs: testVMs, Default: Drop},
		Body:   nsxInfra(append(tierGroups(), polJSON("p", "Application", 1, nil, ruleJSON("web-443", 1, any1(), []string{gp + "web"}, "ALLOW", "IN_OUT", o{"services": []string{"/infra/services/HTTPS"}})))...),
		Checks: []check{
			{Name: "matched", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "web-443"},
			{Name: "default", Conv: conv(client, web1, "tcp", 22), Outcome: Blocked, Rule: "Default Layer3 Rule (--default drop)"},
			{Name: "no enforcement point: outside to outside", Conv: conv(client, dns, "udp", 53), Outcome: Allowed, Rule: "-"},
		},
	}, {
		Name:   "sources_excluded negates the sources",
		Source: `SDK model Rule.sources_excluded: "the rule gets applied on all the groups that are NOT part of the source groups"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 1, nil, ruleJSON("only-web-to-db", 1, []string{gp + "web"}, []string{gp + "db"}, "DROP", "IN", o{"sources_excluded": true})))...),
		Checks: []check{
			{Name: "app (not web) to db: dropped", Conv: conv(app1, db1, "tcp", 3306), Outcome: Blocked, Rule: "only-web-to-db"},
			{Name: "web to db: not matched", Conv: conv(web1, db1, "tcp", 3306), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
		},
	}, {
		Name:   "raw addresses, ranges and CIDRs in source_groups",
		Source: `SDK model Rule.source_groups: "IP Address can be in one of the format(CIDR, IP Address, Range of IP Address)"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 1, nil, ruleJSON("drop-bad", 1, []string{"203.0.113.0/24", "198.51.100.5-198.51.100.9"}, any1(), "DROP", "IN", nil)))...),
		Checks: []check{
			{Name: "CIDR", Conv: conv(scanner, web1, "tcp", 22), Outcome: Blocked, Rule: "drop-bad"},
			{Name: "range", Conv: conv(client, web1, "tcp", 443), Outcome: Blocked, Rule: "drop-bad"},
			{Name: "outside the range", Conv: conv("198.51.100.10", web1, "tcp", 443), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
		},
	}, {
		Name:   "service entries: L4 port sets with ranges, ICMP types",
		Source: "SDK model L4PortSetServiceEntry.destination_ports (port-or-range), ICMPTypeServiceEntry.icmp_type",
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 1, nil,
				ruleJSON("ports", 1, any1(), []string{gp + "app"}, "ALLOW", "IN_OUT", o{"services": nil, "service_entries": []any{
					o{"resource_type": "L4PortSetServiceEntry", "l4_protocol": "TCP", "destination_ports": []string{"8080-8090", "9100"}}}}),
				ruleJSON("echo", 2, any1(), []string{gp + "app"}, "ALLOW", "IN_OUT", o{"services": nil, "service_entries": []any{
					o{"resource_type": "ICMPTypeServiceEntry", "protocol": "ICMPv4", "icmp_type": 8}}}),
				ruleJSON("deny", 3, any1(), []string{gp + "app"}, "DROP", "IN_OUT", nil)))...),
		Checks: []check{
			{Name: "in the range", Conv: conv(web1, app1, "tcp", 8085), Outcome: Allowed, Rule: "ports"},
			{Name: "single port", Conv: conv(web1, app1, "tcp", 9100), Outcome: Allowed, Rule: "ports"},
			{Name: "UDP is another protocol", Conv: conv(web1, app1, "udp", 8085), Outcome: Blocked, Rule: "deny"},
			{Name: "echo request", Conv: conv(web1, app1, "icmp", 8), Outcome: Allowed, Rule: "echo"},
			{Name: "another ICMP type", Conv: conv(web1, app1, "icmp", 13), Outcome: Blocked, Rule: "deny"},
		},
	}, {
		Name:   "connectivity_preference ALLOWLIST adds a drop rule at the end of the policy, in its scope",
		Source: `SDK model SecurityPolicy.connectivity_preference: "ALLOWLIST - Adds a default drop rule"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("books", "Application", 1, []string{gp + "db"}, ruleJSON("app-to-db", 1, []string{gp + "app"}, []string{gp + "db"}, "ALLOW", "IN_OUT", nil)))...),
		Checks: []check{
			{Name: "no preference: default rule", Conv: conv(web1, db1, "tcp", 3306), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
		},
	}, {
		Name:   "ip_protocol IPV6 does not match IPv4",
		Source: `SDK model Rule.ip_protocol: "Type of IP packet that should be matched"`,
		Body: nsxInfra(append(tierGroups(),
			polJSON("p", "Application", 1, nil, ruleJSON("v6-drop", 1, any1(), any1(), "DROP", "IN_OUT", o{"ip_protocol": "IPV6"})))...),
		Checks: []check{{Name: "IPv4 passes", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"}},
	}}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			e := env
			if tc.Env != nil {
				e = *tc.Env
			}
			verify(t, load(t, "nsx.json", mustJSON(t, tc.Body)), e, tc.Checks)
		})
	}
}

func TestNSXConnectivityPreference(t *testing.T) {
	// SDK model SecurityPolicy.connectivity_preference: "ALLOWLIST - Adds a
	// default drop rule [...] applied to entities specified in the scope of
	// the security policy".
	body := nsxInfra(append(tierGroups(),
		polJSON("books", "Application", 1, []string{gp + "db"}, ruleJSON("app-to-db", 1, []string{gp + "app"}, []string{gp + "db"}, "ALLOW", "IN_OUT", nil)))...)
	pol := body["children"].([]any)[0].(o)["children"].([]any)[3].(o)["SecurityPolicy"].(o)
	pol["connectivity_preference"] = "ALLOWLIST"
	verify(t, load(t, "nsx.json", mustJSON(t, body)), Env{VMs: testVMs}, []check{
		{Name: "allowed", Conv: conv(app1, db1, "tcp", 3306), Outcome: Allowed, Rule: "app-to-db"},
		{Name: "dropped by the policy's default rule", Conv: conv(web1, db1, "tcp", 3306), Outcome: Blocked,
			Rule: "default rule of the policy (connectivity_preference ALLOWLIST)", Point: "IN at 10.20.30.31"},
		{Name: "outside the policy's scope", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "Default Layer3 Rule (--default allow)"},
	})
}

func TestNSXUnresolved(t *testing.T) {
	body := nsxInfra(
		polJSON("p", "Application", 1, nil,
			ruleJSON("unknown-group", 1, any1(), []string{gp + "nowhere"}, "DROP", "IN_OUT", nil),
			ruleJSON("unknown-service", 2, any1(), any1(), "DROP", "IN_OUT", o{"services": []string{"/infra/services/Oracle-Custom"}}),
			ruleJSON("allow", 3, any1(), any1(), "ALLOW", "IN_OUT", nil)))
	p := load(t, "nsx.json", mustJSON(t, body)).Compile(Env{VMs: testVMs})
	probs := strings.Join(p.Problems(), "\n")
	for _, want := range []string{gp + "nowhere", "/infra/services/Oracle-Custom"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems do not name %s:\n%s", want, probs)
		}
	}
	v := p.Evaluate(convs(conv(client, web1, "tcp", 443)))[0]
	if v.Outcome != Allowed || v.Rule.Name != "allow" || !strings.Contains(v.Uncertain, "unknown-group") {
		t.Errorf("got %s by %q, uncertain %q; want allowed by \"allow\", uncertain because of unknown-group", v.Outcome, v.Rule.Name, v.Uncertain)
	}
	// The environment can say who the members are: then nothing is uncertain.
	p = load(t, "nsx.json", mustJSON(t, body)).Compile(Env{VMs: testVMs, Groups: map[string][]netip.Prefix{
		gp + "nowhere": {netip.MustParsePrefix(db1 + "/32")}}})
	v = p.Evaluate(convs(conv(client, db1, "tcp", 443)))[0]
	if v.Outcome != Blocked || v.Rule.Name != "unknown-group" {
		t.Errorf("with Env.Groups: got %s by %q, want blocked by unknown-group", v.Outcome, v.Rule.Name)
	}
}

func TestNSXContextProfiles(t *testing.T) {
	// A layer 7 rule cannot be decided from conversations: it is taken to
	// match, reported, and the verdict says it is uncertain.
	body := nsxInfra(append(tierGroups(), polJSON("p", "Application", 1, nil,
		ruleJSON("l7", 1, any1(), []string{gp + "web"}, "DROP", "IN", o{"profiles": []string{"/infra/context-profiles/SSL"}})))...)
	p := load(t, "nsx.json", mustJSON(t, body)).Compile(Env{VMs: testVMs})
	v := p.Evaluate(convs(conv(client, web1, "tcp", 443)))[0]
	if v.Outcome != Blocked || v.Uncertain == "" || !strings.Contains(strings.Join(p.Problems(), "\n"), "context-profiles/SSL") {
		t.Errorf("%s, uncertain %q, problems %v", v.Outcome, v.Uncertain, p.Problems())
	}
}
