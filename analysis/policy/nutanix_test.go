package policy

import (
	"net/netip"
	"strings"
	"testing"
)

// Nutanix v3 bodies for the tests, in the shape of the v3 swagger
// (prism-go-client v3/swagger.json): network_security_rule_intent_input.

// v3Cats is a category_filter: CATEGORIES_MATCH_ALL unless any.
func v3Cats(any bool, kv ...string) o {
	params := o{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, ":")
		vals, _ := params[k].([]string)
		params[k] = append(vals, v)
	}
	typ := "CATEGORIES_MATCH_ALL"
	if any {
		typ = "CATEGORIES_MATCH_ANY"
	}
	return o{"type": typ, "kind_list": []string{"vm"}, "params": params}
}

// v3Rule is one network_security_rule of kind ("app_rule",
// "quarantine_rule") with a target group.
func v3Rule(name, kind, action string, target o, internal string, inbound, outbound []any) o {
	r := o{"action": action, "target_group": o{"peer_specification_type": "FILTER", "filter": target,
		"default_internal_policy": internal}, "inbound_allow_list": inbound, "outbound_allow_list": outbound}
	return o{"api_version": "3.1.0", "metadata": o{"kind": "network_security_rule", "uuid": name + "-uuid"},
		"spec": o{"name": name, "resources": o{kind: r}}}
}

// v3Peer is a network_rule: peer ALL (nil filter), FILTER or IP_SUBNET.
func v3Peer(desc string, peer any, proto string, ports ...int) o {
	r := o{"description": desc}
	switch p := peer.(type) {
	case nil:
		r["peer_specification_type"] = "ALL"
	case string:
		a, n, _ := strings.Cut(p, "/")
		r["peer_specification_type"], r["ip_subnet"] = "IP_SUBNET", o{"ip": a, "prefix_length": atoi(n)}
	case o:
		r["peer_specification_type"], r["filter"] = "FILTER", p
	}
	if proto != "" {
		r["protocol"] = proto
	}
	var list []any
	for _, port := range ports {
		list = append(list, o{"start_port": port, "end_port": port})
	}
	switch proto {
	case "TCP":
		r["tcp_port_range_list"] = list
	case "UDP":
		r["udp_port_range_list"] = list
	}
	return r
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Nutanix v4 bodies (microseg-go-client v4 models: NetworkSecurityPolicy,
// ApplicationRuleSpec, IntraEntityGroupRuleSpec, TwoEnvIsolationRuleSpec).

func v4Pol(name, typ, state string, rules ...o) o {
	rs := make([]any, len(rules))
	for i, r := range rules {
		rs[i] = r
	}
	p := o{"name": name, "type": typ, "rules": rs}
	if state != "" {
		p["state"] = state
	}
	return p
}

// ph is the placeholder FlowSleuth writes for a category's extId.
func ph(kv string) string { return "<extId of " + kv + ">" }

func v4App(desc string, secured []string, spec o) o {
	spec["$objectType"] = "microseg.v4.config.ApplicationRuleSpec"
	spec["securedGroupCategoryReferences"] = secured
	return o{"description": desc, "type": "APPLICATION", "spec": spec}
}

func v4Intra(secured []string, action string) o {
	return o{"description": "intra " + action, "type": "INTRA_GROUP", "spec": o{"$objectType": "microseg.v4.config.IntraEntityGroupRuleSpec",
		"securedGroupCategoryReferences": secured, "securedGroupAction": action}}
}

func tcp(ports ...int) []any {
	var out []any
	for _, p := range ports {
		out = append(out, o{"startPort": p, "endPort": p})
	}
	return out
}

var (
	books     = v3Cats(false, "AppType:Books")
	booksWeb  = v3Cats(false, "AppType:Books", "AppTier:Web")
	booksApp  = v3Cats(false, "AppType:Books", "AppTier:App")
	booksDB   = v3Cats(false, "AppType:Books", "AppTier:DB")
	v4Web     = []string{ph("AppType:Books"), ph("AppTier:Web")}
	v4App_    = []string{ph("AppType:Books"), ph("AppTier:App")}
	v4DB      = []string{ph("AppType:Books"), ph("AppTier:DB")}
	implicitW = "not in the allow lists of AppTier:Web & AppType:Books (implicit deny)"
)

// v3Tiers is one network_security_rule per tier, each tier's inbound and
// outbound lists naming the next tier (category peers ANDed with the
// application, CATEGORIES_MATCH_ALL).
func v3Tiers(action string) []any {
	return []any{
		v3Rule("books-web", "app_rule", action, booksWeb, "DENY_ALL",
			[]any{v3Peer("any to 443", nil, "TCP", 443)},
			[]any{v3Peer("to app 8080", booksApp, "TCP", 8080)}),
		v3Rule("books-app", "app_rule", action, booksApp, "DENY_ALL",
			[]any{v3Peer("web to 8080", booksWeb, "TCP", 8080)},
			[]any{v3Peer("to db 3306", booksDB, "TCP", 3306)}),
		v3Rule("books-db", "app_rule", action, booksDB, "DENY_ALL",
			[]any{v3Peer("app to 3306", booksApp, "TCP", 3306)}, nil),
	}
}

// v4Tiers is the same as one v4 APPLICATION policy whose rules carry their
// own secured groups.
func v4Tiers(state string) o {
	return v4Pol("books", "APPLICATION", state,
		v4App("any to web 443", v4Web, o{"srcAllowSpec": "ALL", "tcpServices": tcp(443)}),
		v4App("web to app 8080", v4Web, o{"destCategoryReferences": v4App_, "tcpServices": tcp(8080)}),
		v4App("web to app 8080 (in)", v4App_, o{"srcCategoryReferences": v4Web, "tcpServices": tcp(8080)}),
		v4App("app to db 3306", v4App_, o{"destCategoryReferences": v4DB, "tcpServices": tcp(3306)}),
		v4App("app to db 3306 (in)", v4DB, o{"srcCategoryReferences": v4App_, "tcpServices": tcp(3306)}),
		v4Intra(v4Web, "DENY"), v4Intra(v4App_, "DENY"), v4Intra(v4DB, "DENY"))
}

// tierChecks hold for v3Tiers and v4Tiers in force.
func tierChecks(web2app, web2appIn, db2dns string, blocked Outcome) []check {
	return []check{
		{Name: "client to web 443", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Point: "IN at 10.20.10.11"},
		{Name: "web to app 8080", Conv: conv(web1, app1, "tcp", 8080), Outcome: Allowed, Rule: web2app},
		{Name: "web to db: not in web's outbound list", Conv: conv(web1, db1, "tcp", 3306), Outcome: blocked, Rule: implicitW, Point: "OUT at 10.20.10.11"},
		{Name: "client to db: not in db's inbound list", Conv: conv(client, db1, "tcp", 3306), Outcome: blocked, Point: "IN at 10.20.30.31"},
		{Name: "db to DNS: db's outbound list is empty", Conv: conv(db1, dns, "udp", 53), Outcome: blocked, Rule: db2dns, Point: "OUT at 10.20.30.31"},
		{Name: "web to web: DENY inside the tier", Conv: conv(web1, web2, "tcp", 22), Outcome: blocked, Point: "OUT at 10.20.10.11"},
		{Name: "client to Shop web: not secured", Conv: conv(client, shopWeb, "tcp", 22), Outcome: Allowed, Rule: "-"},
	}
}

func TestNutanixSemantics(t *testing.T) {
	env := Env{VMs: testVMs}
	tests := []struct {
		Name   string
		Source string
		Body   any
		Env    *Env
		Checks []check
	}{{
		Name:   "v3 ALLOW_ALL inside the target group",
		Source: `v3 swagger target_group.default_internal_policy: "Default policy for communication within target group"`,
		Body:   v3Rule("books", "app_rule", "APPLY", books, "ALLOW_ALL", []any{v3Peer("any 443", nil, "TCP", 443)}, []any{v3Peer("out", nil, "")}),
		Checks: []check{
			{Name: "web to db, both in the group", Conv: conv(web1, db1, "tcp", 3306), Outcome: Allowed, Rule: "traffic inside AppType:Books (ALLOW_ALL)"},
			{Name: "client to web 443", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "any 443"},
		},
	}, {
		Name:   "v3 DENY_ALL inside the target group",
		Source: `v3 swagger target_group.default_internal_policy DENY_ALL`,
		Body:   v3Rule("books", "app_rule", "APPLY", books, "DENY_ALL", []any{v3Peer("any 443", nil, "TCP", 443)}, []any{v3Peer("out", nil, "")}),
		Checks: []check{
			{Name: "web to db, both in the group", Conv: conv(web1, db1, "tcp", 3306), Outcome: Blocked, Rule: "traffic inside AppType:Books (DENY_ALL)", Point: "OUT at 10.20.10.11"},
			{Name: "web to DNS: outbound ALL", Conv: conv(web1, dns, "udp", 53), Outcome: Allowed, Rule: "out"},
		},
	}, {
		Name:   "v3 tier rules: one network_security_rule per tier",
		Source: `v3 swagger app_rule: "Empty outbound_allow_list will not allow anything from the target group"`,
		Body:   v3Tiers("APPLY"),
		Checks: tierChecks("to app 8080", "web to 8080", "not in the allow lists of AppTier:DB & AppType:Books (implicit deny)", Blocked),
	}, {
		Name:   "v4 tier rules: each rule carries its secured group",
		Source: "v4 ApplicationRuleSpec.securedGroupCategoryReferences, src/destCategoryReferences; IntraEntityGroupRuleSpec",
		Body:   v4Tiers("ENFORCE"),
		Checks: []check{
			{Name: "client to web 443", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "any to web 443"},
			{Name: "web to app 8080", Conv: conv(web1, app1, "tcp", 8080), Outcome: Allowed, Rule: "web to app 8080"},
			{Name: "web to db", Conv: conv(web1, db1, "tcp", 3306), Outcome: Blocked, Rule: implicitW, Point: "OUT at 10.20.10.11"},
			{Name: "web to web", Conv: conv(web1, web2, "tcp", 22), Outcome: Blocked, Rule: "intra DENY"},
			{Name: "app to db", Conv: conv(app1, db1, "tcp", 3306), Outcome: Allowed, Rule: "app to db 3306"},
		},
	}, {
		Name:   "v3 CATEGORIES_MATCH_ALL ANDs the keys",
		Source: "v3 swagger category_filter.type CATEGORIES_MATCH_ALL | CATEGORIES_MATCH_ANY",
		Body:   v3Rule("web", "app_rule", "APPLY", booksWeb, "ALLOW_ALL", nil, nil),
		Checks: []check{
			{Name: "Books web is secured: empty inbound list", Conv: conv(client, web1, "tcp", 22), Outcome: Blocked},
			{Name: "Shop web is not (AppTier:Web without AppType:Books)", Conv: conv(client, shopWeb, "tcp", 22), Outcome: Allowed, Rule: "-"},
		},
	}, {
		Name:   "v3 CATEGORIES_MATCH_ANY ORs them",
		Source: "v3 swagger category_filter.type CATEGORIES_MATCH_ANY (the default)",
		Body:   v3Rule("web", "app_rule", "APPLY", v3Cats(true, "AppType:Books", "AppTier:Web"), "ALLOW_ALL", nil, nil),
		Checks: []check{
			{Name: "Shop web is secured too", Conv: conv(client, shopWeb, "tcp", 22), Outcome: Blocked},
		},
	}, {
		Name:   "v4 categories ANDed across keys (the default reading, MatchAllKeys)",
		Source: "v4 docs silent; MatchAllKeys mirrors v3 CATEGORIES_MATCH_ALL",
		Body:   v4Pol("web", "APPLICATION", "ENFORCE", v4App("any 443", v4Web, o{"srcAllowSpec": "ALL", "tcpServices": tcp(443)}), v4Intra(v4Web, "ALLOW")),
		Checks: []check{
			{Name: "Books web secured", Conv: conv(client, web1, "tcp", 22), Outcome: Blocked},
			{Name: "Shop web not secured", Conv: conv(client, shopWeb, "tcp", 22), Outcome: Allowed, Rule: "-"},
		},
	}, {
		Name:   "v4 categories ORed (the MatchAny reading)",
		Source: "Env.Categories MatchAny",
		Env:    &Env{VMs: testVMs, Categories: MatchAny},
		Body:   v4Pol("web", "APPLICATION", "ENFORCE", v4App("any 443", v4Web, o{"srcAllowSpec": "ALL", "tcpServices": tcp(443)}), v4Intra(v4Web, "ALLOW")),
		Checks: []check{
			{Name: "Shop web secured too", Conv: conv(client, shopWeb, "tcp", 22), Outcome: Blocked},
		},
	}, {
		Name:   "v3 isolation: Prod and Dev cannot talk, either way; an app policy does not reopen it",
		Source: `Nutanix Flow glossary: "block all traffic, regardless of direction, between two groups of VMs [...] VMs within a group can communicate"`,
		Body: []any{
			o{"metadata": o{"kind": "network_security_rule"}, "spec": o{"name": "prod-dev", "resources": o{"isolation_rule": o{
				"action": "APPLY", "first_entity_filter": v3Cats(false, "Env:Prod"), "second_entity_filter": v3Cats(false, "Env:Dev")}}}},
			v3Rule("books", "app_rule", "APPLY", books, "ALLOW_ALL", []any{v3Peer("in", nil, "")}, []any{v3Peer("out", nil, "")}),
		},
		Checks: []check{
			{Name: "Prod to Dev", Conv: conv(web1, shopWeb, "tcp", 443), Outcome: Blocked, Rule: "prod-dev isolation"},
			{Name: "Dev to Prod", Conv: conv(shopWeb, web1, "tcp", 443), Outcome: Blocked, Rule: "prod-dev isolation"},
			{Name: "within Prod", Conv: conv(web1, app1, "tcp", 8080), Outcome: Allowed},
		},
	}, {
		Name:   "v4 TWO_ENV_ISOLATION with extIds from the categories list",
		Source: "v4 TwoEnvIsolationRuleSpec; Env.CategoryIDs from GET /api/prism/v4.x/config/categories",
		Env:    &Env{VMs: testVMs, CategoryIDs: map[string]string{"1111": "Env:Prod", "2222": "Env:Dev"}},
		Body: v4Pol("prod-dev", "ISOLATION", "ENFORCE", o{"description": "isolate", "type": "TWO_ENV_ISOLATION", "spec": o{
			"$objectType": "microseg.v4.config.TwoEnvIsolationRuleSpec", "firstIsolationGroup": []string{"1111"}, "secondIsolationGroup": []string{"2222"}}}),
		Checks: []check{
			{Name: "Dev to Prod", Conv: conv(shopWeb, db1, "tcp", 3306), Outcome: Blocked, Rule: "isolate"},
			{Name: "client to Prod: not isolated", Conv: conv(client, db1, "tcp", 3306), Outcome: Allowed, Rule: "-"},
		},
	}, {
		Name:   "v3 MONITOR blocks nothing: would block",
		Source: `v3 swagger app_rule.action APPLY | MONITOR`,
		Body:   v3Tiers("MONITOR"),
		Checks: tierChecks("to app 8080", "web to 8080", "not in the allow lists of AppTier:DB & AppType:Books (implicit deny)", WouldBlock),
	}, {
		Name:   "v4 MONITOR: would block",
		Source: "v4 SecurityPolicyState MONITOR",
		Body:   v4Tiers("MONITOR"),
		Checks: []check{
			{Name: "web to db", Conv: conv(web1, db1, "tcp", 3306), Outcome: WouldBlock, Rule: implicitW},
			{Name: "web to app", Conv: conv(web1, app1, "tcp", 8080), Outcome: Allowed},
		},
	}, {
		Name:   "v4 SAVE is not in force",
		Source: `v4 SecurityPolicyState: "can be omitted or set null to save the policy without applying or monitoring it"`,
		Body:   v4Tiers("SAVE"),
		Checks: []check{{Name: "web to db", Conv: conv(web1, db1, "tcp", 3306), Outcome: Allowed, Rule: "-"}},
	}, {
		Name:   "an applied policy's block beats a monitored isolation's would-block",
		Source: "Monitor blocks nothing; an applied policy blocks",
		Body: []any{
			o{"spec": o{"name": "prod-dev", "resources": o{"isolation_rule": o{"action": "MONITOR",
				"first_entity_filter": v3Cats(false, "Env:Prod"), "second_entity_filter": v3Cats(false, "Env:Dev")}}}},
			v3Rule("books", "app_rule", "APPLY", books, "ALLOW_ALL", nil, []any{v3Peer("out", nil, "")}),
		},
		Checks: []check{
			{Name: "Prod web to Dev: monitored isolation only", Conv: conv(web1, shopWeb, "tcp", 443), Outcome: WouldBlock, Rule: "prod-dev isolation"},
			{Name: "Dev to Prod web: Books' empty inbound list blocks", Conv: conv(shopWeb, web1, "tcp", 443), Outcome: Blocked, Point: "IN at 10.20.10.11"},
		},
	}, {
		Name:   "v3 quarantine: nothing in, everything out; the app policy is not consulted",
		Source: `v3 swagger quarantine_rule: "Empty inbound_allow_list will not allow anything into target group. Empty outbound_allow_list will allow everything from target group."`,
		Env:    &Env{VMs: testVMs, Groups: map[string][]netip.Prefix{"Quarantine:Strict": {netip.MustParsePrefix(web2 + "/32")}}},
		Body: []any{
			v3Rule("quarantine", "quarantine_rule", "APPLY", v3Cats(false, "Quarantine:Strict"), "DENY_ALL", nil, nil),
			v3Rule("books", "app_rule", "APPLY", books, "ALLOW_ALL", []any{v3Peer("in", nil, "")}, nil),
		},
		Checks: []check{
			{Name: "client to the quarantined VM", Conv: conv(client, web2, "tcp", 443), Outcome: Blocked, Rule: "not in the allow lists of Quarantine:Strict (implicit deny)"},
			{Name: "the quarantined VM to DNS", Conv: conv(web2, dns, "udp", 53), Outcome: Allowed},
			{Name: "client to a Books VM not quarantined", Conv: conv(client, web1, "tcp", 443), Outcome: Allowed, Rule: "in"},
		},
	}, {
		Name:   "intra-group traffic under the IntraGroupOrAllowList reading",
		Source: "Env.Intra: the documentation is silent",
		Env:    &Env{VMs: testVMs, Intra: IntraGroupOrAllowList},
		Body:   v3Rule("books", "app_rule", "APPLY", books, "DENY_ALL", []any{v3Peer("db from app", app1+"/32", "TCP", 3306)}, []any{v3Peer("out", nil, "")}),
		Checks: []check{
			{Name: "app to db: the inbound entry admits it", Conv: conv(app1, db1, "tcp", 3306), Outcome: Allowed},
			{Name: "web to db: DENY_ALL", Conv: conv(web1, db1, "tcp", 3306), Outcome: Blocked, Point: "IN at 10.20.30.31"},
		},
	}, {
		Name:   "address groups defined in the files",
		Source: "v3 swagger network_rule.address_group_inclusion_list; address_group.ip_address_block_list",
		Body: []any{
			o{"address_group": o{"name": "dns-servers", "ip_address_block_list": []any{o{"ip": "10.10.0.0", "prefix_length": 28}}}, "uuid": "ag-1"},
			v3Rule("books", "app_rule", "APPLY", books, "ALLOW_ALL", nil, []any{o{"address_group_inclusion_list": []any{o{"kind": "address_group", "uuid": "ag-1"}},
				"protocol": "UDP", "udp_port_range_list": []any{o{"start_port": 53, "end_port": 53}}, "description": "dns"}}),
		},
		Checks: []check{
			{Name: "to a DNS server", Conv: conv(web1, dns, "udp", 53), Outcome: Allowed, Rule: "dns"},
			{Name: "elsewhere", Conv: conv(web1, "10.10.0.20", "udp", 53), Outcome: Blocked},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			e := env
			if tc.Env != nil {
				e = *tc.Env
			}
			verify(t, load(t, "ntx.json", mustJSON(t, tc.Body)), e, tc.Checks)
		})
	}
}

func TestNutanixIPv6(t *testing.T) {
	// v3: "allow_ipv6_traffic": rules match IPv4 only, this lets IPv6 by.
	v6 := "2001:db8::11"
	env := Env{Groups: map[string][]netip.Prefix{"AppType:Books": {netip.MustParsePrefix(v6 + "/128")}}}
	for _, allow := range []bool{false, true} {
		body := v3Rule("books", "app_rule", "APPLY", books, "ALLOW_ALL", []any{v3Peer("in", nil, "")}, nil)
		body["spec"].(o)["resources"].(o)["allow_ipv6_traffic"] = allow
		v := load(t, "v3.json", mustJSON(t, body)).Evaluate(convs(conv("2001:db8::1", v6, "tcp", 443)), env)[0]
		if want := map[bool]Outcome{false: Blocked, true: Allowed}[allow]; v.Outcome != want {
			t.Errorf("allow_ipv6_traffic %v: %s (%s), want %s", allow, v.Outcome, v.Why, want)
		}
	}
}

func TestNutanixUnresolved(t *testing.T) {
	p := load(t, "v4.json", mustJSON(t, v4Tiers("ENFORCE"))).Compile(Env{})
	probs := strings.Join(p.Problems(), "\n")
	if !strings.Contains(probs, "category AppType:Books") {
		t.Errorf("problems do not name the category no VM has:\n%s", probs)
	}
	body := v4Pol("x", "APPLICATION", "ENFORCE", v4App("r", []string{"9f2c-unknown"}, o{"srcAllowSpec": "ALL", "isAllProtocolAllowed": true}))
	p = load(t, "v4.json", mustJSON(t, body)).Compile(Env{})
	if probs := strings.Join(p.Problems(), "\n"); !strings.Contains(probs, "9f2c-unknown") || !strings.Contains(probs, "--categories") {
		t.Errorf("an unknown extId is not reported with the remedy:\n%s", probs)
	}
}
