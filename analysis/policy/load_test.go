package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// The shapes Load accepts besides the hierarchical bodies of the semantic
// tests: what GET returns and the NSX UI and Prism export.
func TestLoadShapes(t *testing.T) {
	plainPolicy := o{"resource_type": "SecurityPolicy", "id": "books", "display_name": "Books", "category": "Application",
		"path":  "/infra/domains/default/security-policies/books",
		"rules": []any{ruleJSON("drop-db", 1, any1(), []string{gp + "db"}, "DROP", "IN_OUT", nil)}}
	dbGroup := o{"resource_type": "Group", "id": "db", "path": gp + "db",
		"expression": []any{o{"resource_type": "IPAddressExpression", "ip_addresses": []string{db1}}}}
	tests := []struct {
		Name string
		Body any
		Want Outcome // of client → db1 tcp/3306
	}{
		{"plain SecurityPolicy and Group in an array", []any{plainPolicy, dbGroup}, Blocked},
		{"NSX list response", o{"results": []any{plainPolicy, dbGroup}, "result_count": 2}, Blocked},
		{"hierarchical GET with ChildDomain", o{"resource_type": "Infra", "children": []any{o{"resource_type": "ChildDomain",
			"Domain": o{"resource_type": "Domain", "id": "default", "children": []any{
				o{"resource_type": "ChildGroup", "Group": dbGroup},
				o{"resource_type": "ChildSecurityPolicy", "SecurityPolicy": plainPolicy}}}}}}, Blocked},
		{"a rule marked_for_delete is gone", []any{dbGroup, o{"resource_type": "SecurityPolicy", "id": "p", "category": "Application",
			"rules": []any{ruleJSON("drop-db", 1, any1(), []string{gp + "db"}, "DROP", "IN_OUT", o{"marked_for_delete": true})}}}, Allowed},
		{"rules listed without their policy", o{"results": []any{dbGroup, ruleJSON("drop-db", 1, any1(), []string{gp + "db"}, "DROP", "IN_OUT",
			o{"parent_path": "/infra/domains/default/security-policies/books"})}}, Blocked},
		{"v3 list response", o{"api_version": "3.1", "entities": []any{v3Rule("db", "app_rule", "APPLY", booksDB, "DENY_ALL", nil, nil)}}, Blocked},
		{"v3 GET response (spec and status)", func() o {
			r := v3Rule("db", "app_rule", "APPLY", booksDB, "DENY_ALL", nil, nil)
			r["status"] = o{"state": "COMPLETE"}
			return r
		}(), Blocked},
		{"v4 list response", o{"data": []any{v4Pol("db", "APPLICATION", "ENFORCE", v4Intra(v4DB, "DENY"))}, "metadata": o{"totalAvailableResults": 1}}, Blocked},
		{"v4 GET of one policy", o{"data": v4Pol("db", "APPLICATION", "ENFORCE", v4Intra(v4DB, "DENY"))}, Blocked},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			v := load(t, "f.json", mustJSON(t, tc.Body)).Evaluate(convs(conv(client, db1, "tcp", 3306)), Env{VMs: testVMs})[0]
			if v.Outcome != tc.Want {
				t.Errorf("got %s (%s), want %s", v.Outcome, v.Why, tc.Want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		Name, Body string
		Want       []string // in the message
		Is         error
	}{
		{"not JSON", "{\n  \"resource_type\": \"Infra\",\n  oops\n}", []string{"bad.json", "line 3"}, nil},
		{"something else", `{"hello": "world"}`, []string{"bad.json", "hello"}, ErrFormat},
		{"a bare number", `42`, []string{"bad.json"}, ErrFormat},
		{"an NSX rule with an unknown action", string(mustJSON(t, nsxInfra(polJSON("p", "Application", 1, nil,
			ruleJSON("r", 1, any1(), any1(), "PERMIT", "IN_OUT", nil))))), []string{"PERMIT"}, nil},
		{"a v4 policy in an unknown state", `{"name":"x","type":"APPLICATION","state":"ON"}`, []string{"ON"}, nil},
		{"a categories list given as a policy", `{"data":[{"extId":"1","key":"AppType","value":"Books"}]}`, []string{"--categories"}, nil},
		{"a v3 list with no rule", `{"entities": []}`, []string{"no policy"}, ErrEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			_, err := Load("bad.json", []byte(tc.Body))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.Want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if tc.Is != nil && !errors.Is(err, tc.Is) {
				t.Errorf("%v is not %v", err, tc.Is)
			}
		})
	}
	if _, err := Load("big.json", make([]byte, MaxBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a file over MaxBytes: %v", err)
	}
}

func TestGroupCycle(t *testing.T) {
	// Two groups naming each other must neither hang nor crash.
	g := func(id, other string) o {
		return o{"resource_type": "ChildGroup", "Group": o{"resource_type": "Group", "id": id,
			"expression": []any{o{"resource_type": "PathExpression", "paths": []string{gp + other}}}}}
	}
	body := nsxInfra(g("a", "b"), g("b", "a"), polJSON("p", "Application", 1, nil, ruleJSON("r", 1, any1(), []string{gp + "a"}, "DROP", "IN_OUT", nil)))
	p := load(t, "cycle.json", mustJSON(t, body)).Compile(Env{VMs: testVMs})
	if !strings.Contains(strings.Join(p.Problems(), "\n"), "refers to itself") {
		t.Errorf("the cycle is not reported: %v", p.Problems())
	}
	p.Evaluate(convs(conv(client, web1, "tcp", 443)))
}

func TestMerge(t *testing.T) {
	nsx := load(t, "nsx.json", mustJSON(t, nsxInfra(append(tierGroups(), polJSON("p", "Application", 1, nil,
		ruleJSON("drop-db", 1, any1(), []string{gp + "db"}, "DROP", "IN", nil)))...)))
	ntx := load(t, "v3.json", mustJSON(t, v3Rule("web", "app_rule", "APPLY", booksWeb, "ALLOW_ALL", nil, nil)))
	s := Merge(nsx, nil, ntx)
	if s.Policies() != 2 {
		t.Errorf("%d policies, want 2", s.Policies())
	}
	vs := s.Evaluate(convs(conv(client, db1, "tcp", 1), conv(client, web1, "tcp", 1), conv(client, app1, "tcp", 1)), Env{VMs: testVMs})
	for i, want := range []string{"nsx.json", "v3.json", ""} {
		if vs[i].Rule.File != want || (want == "") != (vs[i].Outcome == Allowed) {
			t.Errorf("verdict %d: %s by %s of %q, want a block from %q", i, vs[i].Outcome, vs[i].Rule.Name, vs[i].Rule.File, want)
		}
	}
}

func TestLearnedGroups(t *testing.T) {
	port := uint16(80)
	c := func(src, dst string, v ingest.Vendor, tags ...analysis.Tag) analysistest.Conversation {
		port++ // one conversation each, as a table holds them
		x := conv(src, dst, "tcp", port)
		x.Vendors, x.Tags = []ingest.Vendor{v}, tags
		return x
	}
	got := LearnedGroups(convs(
		c(client, web1, ingest.NSXT, analysis.Tag{Name: "SGTSWEB", Direction: ingest.DirInbound}),
		c(web1, app1, ingest.NSXT, analysis.Tag{Name: "SGTSWEB", Direction: ingest.DirOutbound}, analysis.Tag{Name: "SGTSAPP", Direction: ingest.DirInbound}),
		c(app1, db1, ingest.NSXV, analysis.Tag{Name: "SGTSDB", Direction: ingest.DirIntra}),
		c(client, web2, ingest.Nutanix, analysis.Tag{Name: "Discover", Direction: ingest.DirInbound}),
		c(client, web2, ingest.NSXT, analysis.Tag{Name: "SGTSWEB", Direction: ingest.DirUnknown}),
	), map[string]string{"SGTSAPP": "/infra/domains/prod/groups/app"})
	want := map[string]string{
		gp + "SGTSWEB":                   web1,
		"/infra/domains/prod/groups/app": app1,
		gp + "SGTSDB":                    app1 + " " + db1,
		"Discover":                       web2,
	}
	if len(got) != len(want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	for k, w := range want {
		var have []string
		for _, p := range got[k] {
			have = append(have, p.Addr().String())
		}
		if strings.Join(have, " ") != w {
			t.Errorf("%s: %v, want %s", k, have, w)
		}
	}
}

// TestLearnedGroupsMembers: each group lists its addresses once, IPv4 ones
// (in address order) before IPv6 ones, however often and in whatever order
// the conversations show them; a conversation both NSX and Nutanix logged
// teaches its NSX group and its Nutanix policy.
func TestLearnedGroupsMembers(t *testing.T) {
	port := uint16(80)
	c := func(src, dst string, vs []ingest.Vendor, tags ...analysis.Tag) analysistest.Conversation {
		port++
		x := conv(src, dst, "tcp", port)
		x.Vendors, x.Tags = vs, tags
		return x
	}
	nsx, both := []ingest.Vendor{ingest.NSXT}, []ingest.Vendor{ingest.NSXT, ingest.Nutanix}
	web := analysis.Tag{Name: "SGTSWEB", Direction: ingest.DirOutbound}
	db := analysis.Tag{Name: "SGTSDB", Direction: ingest.DirIntra}
	got := LearnedGroups(convs(
		c(web2, client, nsx, web),
		c(web1, client, nsx, web),
		c("2001:db8::2", client, nsx, web),
		c(web2, scanner, nsx, web),
		c("2001:db8::1", client, nsx, web),
		c(web1, scanner, both, web),
		c("::ffff:"+app1, db1, nsx, web),
		c(web1, app1, nsx, db),
		c(web1, db1, nsx, db),
		c(app1, client, nsx, db),
		c("2001:db8::1", "2001:db8::2", nsx, db),
		c("2001:db8::1", "2001:db8::3", nsx, db),
		c("2001:db8::2", "2001:db8::1", nsx, db),
	), nil)
	want := map[string]string{
		gp + "SGTSWEB": web1 + "/32 " + web2 + "/32 " + app1 + "/32 2001:db8::1/128 2001:db8::2/128",
		"SGTSWEB":      web1 + "/32",
		gp + "SGTSDB":  web1 + "/32 " + app1 + "/32 " + db1 + "/32 " + client + "/32 2001:db8::1/128 2001:db8::2/128 2001:db8::3/128",
	}
	if len(got) != len(want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	for k, w := range want {
		var have []string
		for _, p := range got[k] {
			have = append(have, p.String())
		}
		if strings.Join(have, " ") != w {
			t.Errorf("%s: %v, want %s", k, have, w)
		}
	}
}

func TestEnvReaders(t *testing.T) {
	paths, err := ReadTagPaths(strings.NewReader("tag,path\n# comment\nSGTSWEB, /infra/domains/default/groups/web\n\n"))
	if err != nil || paths["SGTSWEB"] != "/infra/domains/default/groups/web" {
		t.Errorf("ReadTagPaths: %v %v", paths, err)
	}
	if _, err := ReadTagPaths(strings.NewReader("SGTSWEB,web\n")); !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a path without / : %v", err)
	}
	m, err := ReadMembers(strings.NewReader("group,address\nAppType:Books,10.20.0.0/16\nAppType:Books,10.30.0.1\n/infra/domains/default/groups/dns,10.10.0.10-10.10.0.13\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m["AppType:Books"]) != "[10.20.0.0/16 10.30.0.1/32]" || fmt.Sprint(m["/infra/domains/default/groups/dns"]) != "[10.10.0.10/31 10.10.0.12/31]" {
		t.Errorf("ReadMembers: %v", m)
	}
	if _, err := ReadMembers(strings.NewReader("g,not-an-address\n")); !errors.Is(err, ErrSyntax) {
		t.Errorf("a bad address: %v", err)
	}
	cats, err := ReadCategories([]byte(`{"data":[{"extId":"e1","key":"AppType","value":"Books"},{"extId":"e2","key":"AppTier","value":"Web"}]}`))
	if err != nil || cats["e1"] != "AppType:Books" || cats["e2"] != "AppTier:Web" {
		t.Errorf("ReadCategories: %v %v", cats, err)
	}
	if _, err := ReadCategories([]byte(`{"data":{}}`)); err == nil {
		t.Error("ReadCategories of an object: no error")
	}
}

func TestRangePrefixes(t *testing.T) {
	r, _ := parseAddrSpec("10.0.0.1-10.0.0.6")
	if got := fmt.Sprint(rangePrefixes(r)); got != "[10.0.0.1/32 10.0.0.2/31 10.0.0.4/31 10.0.0.6/32]" {
		t.Errorf("got %s", got)
	}
	s := setOfPrefixes([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("10.0.1.0/24"), netip.MustParsePrefix("2001:db8::/64")})
	if s.String() != "10.0.0.0/23, 2001:db8::/64" || !s.contains(netip.MustParseAddr("10.0.1.255")) || s.contains(netip.MustParseAddr("10.0.2.0")) {
		t.Errorf("set %s", s)
	}
}

// The integer ranges answer as the address ranges they come from.
func TestAddrSetContains(t *testing.T) {
	var rs []addrRange
	for i := 0; i < 40; i++ {
		lo := netip.AddrFrom4([4]byte{10, byte(i * 6), 0, 0})
		hi := netip.AddrFrom4([4]byte{10, byte(i*6 + i%3), 255, 255})
		rs = append(rs, addrRange{lo, hi})
	}
	rs = append(rs, prefixRange(netip.MustParsePrefix("2001:db8::/32")))
	s := setOf(rs...)
	for i := 0; i < 256; i++ {
		for _, a := range []netip.Addr{netip.AddrFrom4([4]byte{10, byte(i), 7, 7}), netip.AddrFrom4([4]byte{11, byte(i), 0, 0}),
			netip.MustParseAddr(fmt.Sprintf("2001:db%x::1", i%16))} {
			want := false
			for _, r := range rs {
				want = want || r.lo.Compare(a) <= 0 && a.Compare(r.hi) <= 0
			}
			if got := s.contains(a); got != want {
				t.Fatalf("contains(%s) = %v, want %v", a, got, want)
			}
		}
	}
}
