package export

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// nsxSem checks the rules of the NSX Policy API that its bindings do not
// carry. Sources: NSX API reference (L4PortSetServiceEntry: at most 15
// port values, a range counting 2; Rule: "ANY" alone, at most 128 groups;
// Rule.tag truncated after 32 characters; PatchInfra: at most 5000
// intents; InlineNsxIPAddressExpression1: 1 to 4000 addresses, "Both IPv4
// and IPv6 addresses within one expression is not allowed"), terraform-provider-nsxt (rule sequence numbers unique and
// increasing from 1; ids as path segments), and our own rule that every
// path points at an object of the same body.
type nsxSem struct {
	defined map[string]bool
	objects int
	errs    []error
}

var nsxIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

func nsxSemantics(root any) []error {
	s := &nsxSem{defined: map[string]bool{}}
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

// collect records the path of every Group, Service and SecurityPolicy.
func (s *nsxSem) collect(v any, domain string) {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			s.collect(x, domain)
		}
	case map[string]any:
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
		for i, c := range children {
			rule, _ := c.(map[string]any)["Rule"].(map[string]any)
			if n, _ := rule["sequence_number"].(json.Number); n.String() != strconv.Itoa(i+1) {
				s.fail(fmt.Sprintf("%s.children[%d]", path, i), "sequence_number %v, want %d", rule["sequence_number"], i+1)
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
		case !s.defined[str]:
			s.fail(path, "%q names no object of this body", str)
		}
	}
}

func TestNSXSchemaRejects(t *testing.T) {
	body := vtBody(t, "appx", "nsx")
	pol := "children.-1.children.-1.SecurityPolicy."
	rule := pol + "children.0.Rule."
	svc := "children.0.Service."
	vtRunNegatives(t, body, validateNSX, []vtNegative{
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

// TestNSXIPGroups checks that a side with IPv4 and IPv6 members, and one
// with more addresses than an expression holds, become several groups of
// one family and at most 4000 addresses, all named by the rule.
func TestNSXIPGroups(t *testing.T) {
	var many []string
	for _, ip := range vtIPs(nsxMaxIPs + 1) {
		many = append(many, ip.(string))
	}
	rs := analysis.RuleSet{Rules: []analysis.Rule{
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
	for id, want := range map[string][]int{"fs-mixed": {1, 1}, "fs-many": {4000, 1, 1}} {
		var got []int
		for _, path := range sources[id] {
			got = append(got, sizes[path])
		}
		if !slices.Equal(got, want) {
			t.Errorf("rule %s: groups of %v addresses, want %v", id, got, want)
		}
	}
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
