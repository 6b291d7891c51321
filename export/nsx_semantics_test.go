package export

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// nsxSem checks the rules of the NSX Policy API that its bindings do not
// carry. Sources: NSX API reference (L4PortSetServiceEntry: at most 15
// port values, a range counting 2; Rule: "ANY" alone, at most 128 groups;
// Rule.tag truncated after 32 characters; PatchInfra: at most 5000
// intents; InlineNsxIPAddressExpression1: 1 to 4000 addresses, "Both IPv4
// and IPv6 addresses within one expression is not allowed"), terraform-provider-nsxt (rule sequence numbers unique and
// increasing from 1; ids as path segments), and our own rule that every
// path points at an object of the same body, or at an existing group the
// caller allows (the tag mapping's).
type nsxSem struct {
	defined  map[string]bool
	external map[string]bool
	objects  int
	errs     []error
}

var nsxIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

func nsxSemantics(root any, external ...string) []error {
	s := &nsxSem{defined: map[string]bool{}, external: map[string]bool{}}
	for _, p := range external {
		s.external[p] = true
	}
	s.collect(root, "")
	s.check(root, "$")
	if s.objects > nsxMaxIntents {
		s.fail("$", "%d objects, more than %d", s.objects, nsxMaxIntents)
	}
	return s.errs
}

func (s *nsxSem) fail(path, format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// collect records the path of every Group, Service and SecurityPolicy
// that the body does not mark for delete (a reference to one of those
// names nothing once the PATCH is through).
func (s *nsxSem) collect(v any, domain string) {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			s.collect(x, domain)
		}
	case map[string]any:
		if v["marked_for_delete"] == true {
			return
		}
		id, _ := v["id"].(string)
		switch v["resource_type"] {
		case "ChildResourceReference", "Domain":
			domain = "/infra/domains/" + id
		case "Service":
			s.defined["/infra/services/"+id] = true
		case "Group":
			s.defined[domain+"/groups/"+id] = true
		case "SecurityPolicy":
			s.defined[domain+"/security-policies/"+id] = true
		}
		for _, k := range vndSortedKeys(v) {
			s.collect(v[k], domain)
		}
	}
}

func (s *nsxSem) check(v any, path string) {
	switch v := v.(type) {
	case []any:
		for i, x := range v {
			s.check(x, fmt.Sprintf("%s[%d]", path, i))
		}
	case map[string]any:
		s.object(v, path)
		for _, k := range vndSortedKeys(v) {
			s.check(v[k], path+"."+k)
		}
	}
}

func (s *nsxSem) object(v map[string]any, path string) {
	if id, ok := v["id"].(string); ok {
		s.objects++
		if !nsxIDPattern.MatchString(id) {
			s.fail(path, "id %q is not made of [A-Za-z0-9_.-]", id)
		}
	}
	for _, k := range []string{"destination_ports", "source_ports"} {
		if ports, ok := v[k].([]any); ok {
			s.ports(ports, path+"."+k)
		}
	}
	for _, k := range []string{"source_groups", "destination_groups", "services", "scope"} {
		if refs, ok := v[k].([]any); ok {
			s.refs(refs, k != "services" && k != "scope", path+"."+k)
		}
	}
	if ips, ok := v["ip_addresses"].([]any); ok {
		s.ipAddresses(ips, path+".ip_addresses")
	}
	if tag, ok := v["tag"].(string); ok && len(tag) > nsxMaxTag {
		s.fail(path, "tag of %d characters, NSX keeps %d", len(tag), nsxMaxTag)
	}
	if v["resource_type"] == "SecurityPolicy" {
		children, _ := v["children"].([]any)
		seq := 0
		for i, c := range children {
			if c.(map[string]any)["marked_for_delete"] == true {
				continue // a deletion names the rule by id only
			}
			seq++
			rule, _ := c.(map[string]any)["Rule"].(map[string]any)
			if n, _ := rule["sequence_number"].(json.Number); n.String() != strconv.Itoa(seq) {
				s.fail(fmt.Sprintf("%s.children[%d]", path, i), "sequence_number %v, want %d", rule["sequence_number"], seq)
			}
		}
	}
}

// ipAddresses checks an IPAddressExpression's list: 1 to 4000 addresses,
// prefixes or ranges, all of one family.
func (s *nsxSem) ipAddresses(ips []any, path string) {
	if len(ips) == 0 || len(ips) > nsxMaxIPs {
		s.fail(path, "%d addresses, want 1 to %d", len(ips), nsxMaxIPs)
	}
	families := map[bool]bool{}
	for _, ip := range ips {
		str, _ := ip.(string)
		first, _, _ := strings.Cut(str, "-")
		first, _, _ = strings.Cut(first, "/")
		a, err := netip.ParseAddr(first)
		if err != nil {
			s.fail(path, "%q is no address, prefix or range", str)
			continue
		}
		families[a.Is4()] = true
	}
	if len(families) > 1 {
		s.fail(path, "both IPv4 and IPv6 addresses in one expression")
	}
}

var nsxPortPattern = regexp.MustCompile(`^([0-9]{1,5})(?:-([0-9]{1,5}))?$`)

func (s *nsxSem) ports(ports []any, path string) {
	n := 0
	for _, p := range ports {
		str, _ := p.(string)
		m := nsxPortPattern.FindStringSubmatch(str)
		if m == nil {
			s.fail(path, "port %v is not \"N\" or \"N-M\"", p)
			continue
		}
		from, _ := strconv.Atoi(m[1])
		to, _ := strconv.Atoi(cmp.Or(m[2], m[1]))
		if from > to || to > 65535 {
			s.fail(path, "bad port range %q", str)
		}
		if n++; m[2] != "" {
			n++
		}
	}
	if n > nsxMaxPortValues {
		s.fail(path, "%d port values, NSX takes at most %d (a range counts 2)", n, nsxMaxPortValues)
	}
}

// refs checks a list of paths; groups may also hold IP literals.
func (s *nsxSem) refs(refs []any, groups bool, path string) {
	if len(refs) > 128 {
		s.fail(path, "%d entries, at most 128", len(refs))
	}
	for _, r := range refs {
		str, _ := r.(string)
		switch _, ipErr := netip.ParsePrefix(str); {
		case str == "ANY":
			if len(refs) != 1 {
				s.fail(path, `"ANY" must be the only entry`)
			}
		case !strings.HasPrefix(str, "/"):
			if _, err := netip.ParseAddr(str); !groups || err != nil && ipErr != nil {
				s.fail(path, "%q is no full path", str)
			}
		case !s.defined[str] && !s.external[str]:
			s.fail(path, "%q names no object of this body nor a group of the tag mapping", str)
		}
	}
}

func TestNSXSchemaRejects(t *testing.T) {
	body := vtBody(t, "appx", "nsx")
	pol := "children.-1.children.-1.SecurityPolicy."
	rule := pol + "children.0.Rule."
	svc := "children.0.Service."
	vtRunNegatives(t, body, func(t testing.TB, b []byte) error { return validateNSX(t, b) }, []vtNegative{
		{"unknown key in Rule", rule + "log", true, `unknown property "log" of Rule`},
		{"port as int", svc + "service_entries.0.destination_ports", []any{443}, "want a bindings.StringType"},
		{"16 ports", svc + "service_entries.0.destination_ports", vtStrings(16), "16 port values"},
		{"8 ranges", svc + "service_entries.0.destination_ports", vtRanges(8), "16 port values"},
		{"port text", svc + "service_entries.0.destination_ports", []any{"https"}, "is not \"N\""},
		{"action ACCEPT", rule + "action", "ACCEPT", "is not one of"},
		{"direction INBOUND", rule + "direction", "INBOUND", "is not one of"},
		{"category lowercase", pol + "category", "application", "is not one of"},
		{"l4_protocol lowercase", svc + "service_entries.0.l4_protocol", "udp", "is not one of"},
		{"sequence as string", rule + "sequence_number", "10", "want a bindings.IntegerType"},
		{"sequence out of order", rule + "sequence_number", 7, "sequence_number 7, want 1"},
		{"rule key lowercase", pol + "children.0.rule", map[string]any{}, `unknown property "rule"`},
		{"ChildRule without resource_type", pol + "children.0.resource_type", vtDelete, "cannot go in"},
		{"Rule without id", rule + "id", vtDelete, `missing required property "id"`},
		{"Rule in Infra", "children.0.resource_type", "ChildRule", "cannot go in Infra.children"},
		{"resource_type mismatch", rule + "resource_type", "Group", "resource_type Group in a Rule"},
		{"group id not a path", rule + "source_groups", []any{"app-x"}, "is no full path"},
		{"path to nothing", rule + "destination_groups", []any{"/infra/domains/default/groups/nope"}, "names no object"},
		{"ANY mixed", rule + "services", []any{"ANY", "/infra/services/x"}, `"ANY" must be the only entry`},
		{"bad id", rule + "id", "in tcp 443", "is not made of"},
		{"long tag", rule + "tag", strings.Repeat("t", 33), "NSX keeps 32"},
		{"expression without resource_type", "children.-1.children.0.Group.expression.0.resource_type", vtDelete, "cannot go in Group.expression"},
		{"Condition without value", "children.-1.children.-2.Group.expression.0.value", vtDelete, `missing required property "value"`},
		{"Condition key bad", "children.-1.children.-2.Group.expression.0.key", "tag", "is not one of"},
		{"IPv4 and IPv6 in one expression", "children.-1.children.0.Group.expression.0.ip_addresses",
			[]any{"10.1.2.0/24", "2001:db8::/64"}, "both IPv4 and IPv6"},
		{"4001 addresses", "children.-1.children.0.Group.expression.0.ip_addresses", vtIPs(4001), "4001 addresses"},
		{"no addresses", "children.-1.children.0.Group.expression.0.ip_addresses", []any{}, "0 addresses"},
	})
}

// TestNSXPolicyID checks that distinct policy names give distinct ids, made
// of the characters NSX takes, and that a name NSX takes is its own id.
func TestNSXPolicyID(t *testing.T) {
	long := strings.Repeat("Legacy estate ", 6)
	names := []string{"App-X-discovered", "Shop (prod)", "Shop [prod]", "Shop _prod_", long + "A", long + "B", "Zürich", "Zurich"}
	seen := map[string]string{}
	for _, name := range names {
		id := nsxPolicyID(name)
		if !nsxIDPattern.MatchString(id) || len(id) > 64 {
			t.Errorf("%q: id %q is not an NSX id of at most 64 characters", name, id)
		}
		if other, ok := seen[id]; ok {
			t.Errorf("%q and %q share the id %q", name, other, id)
		}
		seen[id] = name
	}
	if got := nsxPolicyID("App-X-discovered"); got != "App-X-discovered" {
		t.Errorf("got %q, want the name itself", got)
	}
}

func vtIPs(n int) []any {
	var out []any
	for i := range n {
		out = append(out, netip.AddrFrom4([4]byte{10, 100, byte(i >> 8), byte(i)}).String())
	}
	return out
}

// nsxIPGroupsBody is what TestNSXIPGroups reads of a body.
type nsxIPGroupsBody struct {
	Children []struct {
		Children []struct {
			Group *struct {
				ID         string
				Expression []struct {
					IPAddresses []string `json:"ip_addresses"`
				}
			}
			SecurityPolicy *struct {
				Children []struct {
					Rule struct {
						ID           string
						SourceGroups []string `json:"source_groups"`
					}
				}
			}
		}
	}
}

// TestNSXIPGroups checks that a peer side with IPv4 and IPv6 members goes
// into the rule as it is, and that a side with more entries than a rule
// holds becomes several groups of one family and at most 4000 addresses,
// all named by the rule.
func TestNSXIPGroups(t *testing.T) {
	var many []string
	for _, ip := range vtIPs(nsxMaxIPs + 1) {
		many = append(many, ip.(string))
	}
	rs := rules.Set{Rules: []rules.Rule{
		vtRule("mixed", ingest.DirInbound, vtAddrs("10.1.0.0/24", "2001:db8:2::/64"), vtGroup("AppType:App-X"),
			vtSvc(ingest.ProtoTCP, "443")),
		vtRule("many", ingest.DirInbound, vtAddrs(append(many, "2001:db8:3::1")...), vtGroup("AppType:App-X"),
			vtSvc(ingest.ProtoTCP, "22")),
	}}
	var b bytes.Buffer
	if err := WriteNSXPolicy(&b, rs, VendorOptions{SecuredCategory: "AppType:App-X"}); err != nil {
		t.Fatal(err)
	}
	if err := validateNSX(t, b.Bytes()); err != nil {
		t.Fatal(err)
	}
	var body nsxIPGroupsBody
	if err := json.Unmarshal(b.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{}
	sources := map[string][]string{}
	for _, c := range body.Children[len(body.Children)-1].Children {
		if c.Group != nil && len(c.Group.Expression) > 0 && c.Group.Expression[0].IPAddresses != nil {
			sizes[nsxDomain+"/groups/"+c.Group.ID] = len(c.Group.Expression[0].IPAddresses)
		}
		if c.SecurityPolicy != nil {
			for _, r := range c.SecurityPolicy.Children {
				sources[r.Rule.ID] = r.Rule.SourceGroups
			}
		}
	}
	if got := sources["fs-mixed"]; !slices.Equal(got, []string{"10.1.0.0/24", "2001:db8:2::/64"}) {
		t.Errorf("rule fs-mixed: sources %v, want the prefixes", got)
	}
	var got []int
	for _, path := range sources["fs-many"] {
		got = append(got, sizes[path])
	}
	if want := []int{4000, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("rule fs-many: groups of %v addresses, want %v", got, want)
	}
}

// nsxBooks writes the NSX body of the books fixture with o changed by set.
func nsxBooks(t *testing.T, set func(*VendorOptions)) ([]byte, nsxPolicyBody) {
	t.Helper()
	fx := vtBooks()
	set(&fx.opts)
	var b bytes.Buffer
	if err := WriteNSXPolicy(&b, fx.rs, fx.opts); err != nil {
		t.Fatal(err)
	}
	if err := validateNSX(t, b.Bytes(), vtNSXExternal(fx)...); err != nil {
		t.Fatal(err)
	}
	var body nsxPolicyBody
	if err := json.Unmarshal(b.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), body
}

// nsxPolicyBody is what the NSX tests read of a body.
type nsxPolicyBody struct {
	Children []struct {
		Children []struct {
			SecurityPolicy *struct {
				SequenceNumber int `json:"sequence_number"`
				Children       []struct {
					MarkedForDelete bool `json:"marked_for_delete"`
					Rule            struct {
						ID, Action, Direction, Tag string
						Disabled                   bool
						Scope                      []string
					}
				}
			}
		}
	}
}

func (b nsxPolicyBody) rules() []struct {
	MarkedForDelete bool `json:"marked_for_delete"`
	Rule            struct {
		ID, Action, Direction, Tag string
		Disabled                   bool
		Scope                      []string
	}
} {
	domain := b.Children[len(b.Children)-1].Children
	return domain[len(domain)-1].SecurityPolicy.Children
}

// TestNSXBoundary: allow rules are enabled, the boundary is the last rule,
// applied to the tiers (or to --app-group), tagged <app>-boundary, and the
// only switch: disabled unless Apply. The policy has its sequence number.
func TestNSXBoundary(t *testing.T) {
	for _, apply := range []bool{false, true} {
		_, body := nsxBooks(t, func(o *VendorOptions) { o.Apply = apply })
		rules := body.rules()
		last := rules[len(rules)-1].Rule
		if last.ID != nsxBoundaryID || last.Action != "DROP" || last.Disabled == apply || last.Tag != "SGTSBOOKS-boundary" ||
			!slices.Equal(last.Scope, []string{"/infra/domains/default/groups/SGTSAPP", "/infra/domains/default/groups/SGTSWEB",
				"/infra/domains/prod/groups/SGTSDB"}) {
			t.Errorf("apply=%t: boundary %+v", apply, last)
		}
		for _, r := range rules[:len(rules)-1] {
			if !r.MarkedForDelete && (r.Rule.Action != "ALLOW" || r.Rule.Disabled) {
				t.Errorf("apply=%t: allow rule %+v", apply, r.Rule)
			}
		}
	}
	_, body := nsxBooks(t, func(o *VendorOptions) { o.AppGroup = "/infra/domains/default/groups/SGTSBOOKS" })
	rules := body.rules()
	if last := rules[len(rules)-1].Rule; !slices.Equal(last.Scope, []string{"/infra/domains/default/groups/SGTSBOOKS"}) {
		t.Errorf("boundary with an application group: %+v", last)
	}
	domain := body.Children[len(body.Children)-1].Children
	if seq := domain[len(domain)-1].SecurityPolicy.SequenceNumber; seq != 200 {
		t.Errorf("sequence_number %d, want 200", seq)
	}
	_, body = nsxBooks(t, func(o *VendorOptions) { o.NSXSequence = 0 })
	domain = body.Children[len(body.Children)-1].Children
	if seq := domain[len(domain)-1].SecurityPolicy.SequenceNumber; seq != DefaultNSXSequence {
		t.Errorf("default sequence_number %d, want %d", seq, DefaultNSXSequence)
	}
	var b bytes.Buffer
	if err := WriteNSXPolicy(&b, vtBooks().rs, VendorOptions{AppGroup: "SGTSBOOKS"}); !errors.Is(err, ErrBadOption) || b.Len() != 0 {
		t.Errorf("an application group that is no path: %v", err)
	}
}

// TestNSXTagsAndScopes: every allow rule is applied to the group of its
// monitored end and tagged with that group's tag; an intra rule between two
// tiers is two rules, one at each end.
func TestNSXTagsAndScopes(t *testing.T) {
	_, body := nsxBooks(t, func(*VendorOptions) {})
	got := map[string]string{}
	for _, r := range body.rules() {
		if r.MarkedForDelete || r.Rule.ID == nsxBoundaryID {
			continue
		}
		got[r.Rule.ID] = fmt.Sprintf("%s %v %s", r.Rule.Direction, r.Rule.Scope, r.Rule.Tag)
	}
	want := map[string]string{
		"fs-r-https":      "IN [/infra/domains/default/groups/SGTSWEB] SGTSWEB",
		"fs-r-webapp-out": "OUT [/infra/domains/default/groups/SGTSWEB] SGTSWEB",
		"fs-r-webapp-in":  "IN [/infra/domains/default/groups/SGTSAPP] SGTSAPP",
		"fs-r-appdb-out":  "OUT [/infra/domains/default/groups/SGTSAPP] SGTSAPP",
		"fs-r-appdb-in":   "IN [/infra/domains/prod/groups/SGTSDB] SGTSDB",
		"fs-r-appapp":     "IN_OUT [/infra/domains/default/groups/SGTSAPP] SGTSAPP",
		"fs-r-webdns":     "OUT [/infra/domains/default/groups/SGTSWEB] SGTSWEB",
		"fs-r-dbdns":      "OUT [/infra/domains/prod/groups/SGTSDB] SGTSDB",
		"fs-r-backup":     "IN [/infra/domains/prod/groups/SGTSDB] SGTSDB",
		"fs-r-updates":    "OUT [/infra/domains/default/groups/SGTSWEB] SGTSWEB",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rules %v", got)
	}
}

// TestNSXStaleRules: rules exported before and gone now are marked for
// delete; NSXObjectIDs lists what the body holds, to remember for next time.
func TestNSXStaleRules(t *testing.T) {
	_, body := nsxBooks(t, func(*VendorOptions) {})
	var deleted []string
	for _, r := range body.rules() {
		if r.MarkedForDelete {
			deleted = append(deleted, r.Rule.ID)
		}
	}
	if !slices.Equal(deleted, []string{"fs-r-gone"}) {
		t.Errorf("marked for delete: %v, want fs-r-gone only (fs-r-https is still there)", deleted)
	}
	fx := vtBooks()
	ids, err := NSXObjectIDs(fx.rs, fx.opts)
	if err != nil || !slices.Contains(ids, "fs-r-https") || !slices.Contains(ids, nsxBoundaryID) || slices.Contains(ids, "fs-r-gone") {
		t.Errorf("NSXObjectIDs: %v %v", ids, err)
	}
}

// TestNSXExternalReferences: the validator takes the tag mapping's groups
// and still rejects any other path the body does not define.
func TestNSXExternalReferences(t *testing.T) {
	fx := vtBooks()
	body, _ := nsxBooks(t, func(*VendorOptions) {})
	if err := validateNSX(t, body); err == nil || !strings.Contains(err.Error(), "SGTSWEB") {
		t.Errorf("without the mapping the references to existing groups must be rejected: %v", err)
	}
	rule := "children.-1.children.-1.SecurityPolicy.children.0.Rule."
	vtRunNegatives(t, body, func(t testing.TB, b []byte) error { return validateNSX(t, b, vtNSXExternal(fx)...) }, []vtNegative{
		{"group outside the mapping", rule + "source_groups", []any{"/infra/domains/default/groups/SGTSOTHER"}, "names no object"},
		{"mapped tag under its default path", rule + "destination_groups", []any{"/infra/domains/default/groups/SGTSDB"}, "names no object"},
		{"scope outside the mapping", rule + "scope", []any{"/infra/domains/default/groups/SGTSOTHER"}, "names no object"},
	})
}

func vtStrings(n int) []any {
	var out []any
	for i := range n {
		out = append(out, strconv.Itoa(1000+2*i))
	}
	return out
}

func vtRanges(n int) []any {
	var out []any
	for i := range n {
		out = append(out, fmt.Sprintf("%d-%d", 1000+10*i, 1005+10*i))
	}
	return out
}

// TestNSXPortChunks checks the split at 15 values, a range counting 2.
func TestNSXPortChunks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ports []string
		want  []int // values per entry
	}{
		{"15 singles", vtStringsN(15), []int{15}},
		{"16 singles", vtStringsN(16), []int{15, 1}},
		{"7 ranges and a single", append(vtRangesN(7), "9999"), []int{15}},
		{"8 ranges", vtRangesN(8), []int{14, 2}},
		{"any port", nil, []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, entries := nsxL4Entries(vtSvc(6, tc.ports...))
			var got []int
			for _, e := range entries {
				n := 0
				ports, _ := e["destination_ports"].([]string)
				for _, p := range ports {
					n += 1 + strings.Count(p, "-")
				}
				got = append(got, n)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v values per entry, want %v", got, tc.want)
			}
		})
	}
}

func vtStringsN(n int) []string {
	var out []string
	for _, s := range vtStrings(n) {
		out = append(out, s.(string))
	}
	return out
}

func vtRangesN(n int) []string {
	var out []string
	for _, s := range vtRanges(n) {
		out = append(out, s.(string))
	}
	return out
}

func TestReadNSXGroups(t *testing.T) {
	m, err := ReadNSXGroups(strings.NewReader("\ufefftag,path,comment\nSGTSDB,/infra/domains/prod/groups/SGTSDB,db\n\n SGTSWEB , /infra/domains/default/groups/web \n"))
	if err != nil || len(m) != 2 || m["SGTSDB"] != "/infra/domains/prod/groups/SGTSDB" || m["SGTSWEB"] != "/infra/domains/default/groups/web" {
		t.Errorf("got %v, %v", m, err)
	}
	for _, bad := range []string{"", "name,path\nx,/a\n", "tag,path\nSGTSDB,SGTSDB\n", "tag,path\n,/infra/x\n", `tag,path` + "\n\"x,/y\n"} {
		if _, err := ReadNSXGroups(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
