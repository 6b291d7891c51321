package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// The vendor bodies are checked three ways: golden files (run
// "go test ./export -run Vendor -update" to rewrite testdata/vendor/*.golden.*
// and review the diff), strict validators that take their field lists from
// the vendors' own artifacts (nutanix_v3_schema_test.go, nutanix_v4_schema_test.go,
// nsx_schema_test.go), and the behaviour tests below.

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func vtUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Fixture builders.

func vtPrefixes(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		if !strings.Contains(s, "/") {
			a := netip.MustParseAddr(s)
			ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func vtGroup(group string, addrs ...string) rules.Endpoint {
	return rules.Endpoint{Name: group, Kind: rules.KindGroup, Group: group, Prefixes: vtPrefixes(addrs...)}
}

func vtAddrs(addrs ...string) rules.Endpoint {
	return rules.Endpoint{Name: strings.Join(addrs, ", "), Kind: rules.KindAddresses, Prefixes: vtPrefixes(addrs...)}
}

var vtAny = rules.Endpoint{Name: "Any", Kind: rules.KindAny}

// vtSvc builds a service; ports are "443" or "8000-8080".
func vtSvc(proto uint8, ports ...string) rules.Service {
	s := rules.Service{Proto: proto}
	for _, p := range ports {
		from, to, _ := strings.Cut(p, "-")
		f, _ := strconv.Atoi(from)
		t := f
		if to != "" {
			t, _ = strconv.Atoi(to)
		}
		s.Ports = append(s.Ports, rules.PortRange{From: uint16(f), To: uint16(t)})
	}
	return s
}

func vtRule(id string, dir ingest.Direction, src, dst rules.Endpoint, svc rules.Service) rules.Rule {
	return rules.Rule{ID: id, Name: id, Direction: dir, Src: src, Dst: dst, Service: svc,
		Action:      ingest.ActionAllow,
		Description: fmt.Sprintf("%s → %s (%s) — 12 sessions", src.Name, dst.Name, vndServiceLabel(svc))}
}

type vtFixture struct {
	name string
	rs   rules.Set
	opts VendorOptions
}

// vtFixtures are the rule sets every vendor body is tested with.
func vtFixtures() []vtFixture {
	in, out, intra := ingest.DirInbound, ingest.DirOutbound, ingest.DirIntra
	tcp, udp := ingest.ProtoTCP, ingest.ProtoUDP

	// The running example of vendor-json.md.
	appX := vtGroup("AppType:App-X", "10.3.0.10", "10.3.0.11")
	appx := []rules.Rule{
		vtRule("in-tcp-443", in, vtAddrs("10.1.2.0/24"), appX, vtSvc(tcp, "443")),
		vtRule("out-udp-53", out, appX, vtAddrs("10.9.9.9"), vtSvc(udp, "53")),
		vtRule("out-tcp-5432", out, appX, vtAddrs("10.9.9.9"), vtSvc(tcp, "5432")),
	}

	// Three tiers with INTRA rules, ICMP, a category peer, a non-category
	// group, merged DNS and a port list that NSX must split.
	web, app, db := vtGroup("AppTier:Web", "10.3.1.10", "10.3.1.11"), vtGroup("AppTier:App", "10.3.2.10"),
		vtGroup("AppTier:DB", "10.3.3.10")
	dns := vtAddrs("10.0.0.53", "10.0.0.54")
	many := []string{"1001", "1003", "1005", "1007", "1009", "1011", "1013", "1015", "1017", "1019",
		"1021", "1023", "1025", "1027", "1029", "2000-2010", "3000-3100", "4000"}
	tiers := []rules.Rule{
		vtRule("in-web", in, vtAny, web, vtSvc(tcp, "80", "443")),
		vtRule("in-monitoring", in, vtGroup("AppType:Monitoring"), web, vtSvc(tcp, "9100")),
		vtRule("in-icmp", in, vtAddrs("10.50.0.0/24"), web, vtSvc(ingest.ProtoICMP)),
		vtRule("in-ping", in, vtAddrs("10.50.0.5"), app, vtSvc(ingest.ProtoICMP, "8")),
		vtRule("in-ssh", in, vtGroup("jump-hosts", "10.60.0.4", "10.60.0.5"), db, vtSvc(tcp, "22")),
		vtRule("web-app", intra, web, app, vtSvc(tcp, "8080-8089")),
		vtRule("app-db", intra, app, db, vtSvc(tcp, "5432")),
		vtRule("out-dns-web", out, web, dns, vtSvc(udp, "53")),
		vtRule("out-dns-app", out, app, dns, vtSvc(udp, "53")),
		vtRule("out-many", out, app, vtAddrs("10.20.0.0/16"), vtSvc(tcp, many...)),
	}

	// IPv6, other protocols, unknown direction, endpoints that cannot be
	// said, long names: the losses.
	mon := vtAddrs("10.4.0.10", "2001:db8:4::10")
	long := vtRule("long", in, vtAddrs("10.5.0.0/16"), mon, vtSvc(tcp, "8000-8080"))
	long.Name = strings.Repeat("very long rule name ", 16)
	long.Description = strings.Repeat("evidence ", 240)
	v6 := []rules.Rule{
		vtRule("in-v6", in, vtAddrs("2001:db8:1::/64"), mon, vtSvc(tcp, "443")),
		vtRule("in-mixed", in, vtAddrs("10.1.0.0/24", "2001:db8:2::/64"), mon, vtSvc(tcp, "8443")),
		vtRule("in-icmpv6", in, vtAny, mon, vtSvc(ingest.ProtoICMPv6, "128")),
		vtRule("out-gre", out, mon, vtAddrs("10.7.0.1"), vtSvc(47)),
		vtRule("out-ntp", out, mon, vtAny, vtSvc(udp, "123")),
		vtRule("unknown-dir", ingest.DirUnknown, vtAddrs("10.8.0.1"), vtAddrs("10.8.0.2"), vtSvc(tcp, "22")),
		vtRule("in-legacy", in, rules.Endpoint{Name: "SGTSLEGACY", Kind: rules.KindGroup, Group: "SGTSLEGACY"},
			mon, vtSvc(tcp, "1521")),
		long,
	}
	return []vtFixture{
		{"appx", rules.Set{Rules: appx}, VendorOptions{PolicyName: "App-X-discovered", SecuredCategory: "AppType:App-X"}},
		vtBooks(),
		{"threetier", rules.Set{Rules: tiers}, VendorOptions{PolicyName: "Shop", SecuredCategory: "AppType:Shop", Apply: true}},
		{"losses", rules.Set{Rules: v6}, VendorOptions{PolicyName: strings.Repeat("Legacy estate ", 6)}},
	}
}

// vtTier is a tier of the Books application as synthesis names it with an
// inventory: the tier ANDed with the application's category, and its NSX
// security group.
func vtTier(tier, tag string, addrs ...string) rules.Endpoint {
	return rules.Endpoint{Name: "AppTier:" + tier, Kind: rules.KindGroup, Group: "AppType:Books&AppTier:" + tier,
		Categories: []string{"AppType:Books", "AppTier:" + tier}, Tag: tag, Prefixes: vtPrefixes(addrs...)}
}

// vtIPSet is an IP set of peers.
func vtIPSet(name, id string, addrs ...string) rules.Endpoint {
	return rules.Endpoint{Name: name, Kind: rules.KindIPSet, Group: id, Prefixes: vtPrefixes(addrs...)}
}

// vtBooks is the three-tier Books application of the demo as an inventory
// names it: tiers by category and NSX group (SGTSDB outside the default
// path, by the tag mapping), tier-to-tier and intra-tier rules, IP sets of
// shared services, and an NSX history holding a rule that is gone.
func vtBooks() vtFixture {
	in, out, intra := ingest.DirInbound, ingest.DirOutbound, ingest.DirIntra
	tcp, udp := ingest.ProtoTCP, ingest.ProtoUDP
	web, app, db := vtTier("Web", "SGTSWEB", "10.20.10.11", "10.20.10.12"), vtTier("App", "SGTSAPP", "10.20.20.21", "10.20.20.22"),
		vtTier("DB", "SGTSDB", "10.20.30.31")
	dcs := vtIPSet("dc-01, dc-02", "OUTBOUND servers of g:AppType:Books&AppTier:Web 17/53", "10.10.0.10", "10.10.0.11")
	dbDNS := vtIPSet("dc-01, dc-02", "OUTBOUND servers of g:AppType:Books&AppTier:DB 17/53", "10.10.0.10", "10.10.0.11")
	list := []rules.Rule{
		vtRule("r-https", in, vtAny, web, vtSvc(tcp, "443")),
		vtRule("r-webapp", intra, web, app, vtSvc(tcp, "8080")),
		vtRule("r-appdb", intra, app, db, vtSvc(tcp, "3306", "5432")),
		vtRule("r-appapp", intra, app, app, vtSvc(tcp, "7000")),
		vtRule("r-webdns", out, web, dcs, vtSvc(udp, "53")),
		vtRule("r-dbdns", out, db, dbDNS, vtSvc(udp, "53")),
		vtRule("r-backup", in, vtAddrs("10.10.0.30"), db, vtSvc(tcp, "9102")),
		vtRule("r-updates", out, web, vtIPSet("HTTPS servers", "OUTBOUND servers of g:AppType:Books&AppTier:Web 6/443",
			"192.0.2.80", "192.0.2.81"), vtSvc(tcp, "443")),
	}
	list[0].Name = "Internet to web" // a rename reaches every body
	return vtFixture{"books", rules.Set{Rules: list, Scope: rules.Scope{TierKey: "AppTier",
		AppCategories: []string{"AppType:Books"}, AppGroups: []string{"SGTSBOOKS"}}},
		VendorOptions{PolicyName: "Books", NSXGroups: map[string]string{"SGTSDB": "/infra/domains/prod/groups/SGTSDB"},
			NSXSequence: 200, NSXHistory: []string{"fs-r-gone", "fs-r-https"}}}
}

// vtFormat is one vendor writer with the validator of its vendor artifact.
type vtFormat struct {
	name     string
	write    func(*bytes.Buffer, rules.Set, VendorOptions) (Placeholders, error)
	validate func(testing.TB, []byte, vtFixture) error
}

// vtNSXExternal are the existing NSX groups a fixture's body may reference:
// the paths its tag mapping (or the default path) gives its endpoints' tags,
// and its application group.
func vtNSXExternal(fx vtFixture) []string {
	var out []string
	for _, r := range fx.rs.Rules {
		for _, e := range []rules.Endpoint{r.Src, r.Dst} {
			if e.Tag == "" {
				continue
			}
			if p, ok := fx.opts.NSXGroups[e.Tag]; ok {
				out = append(out, p)
			} else {
				out = append(out, "/infra/domains/default/groups/"+e.Tag)
			}
		}
	}
	if fx.opts.AppGroup != "" {
		out = append(out, fx.opts.AppGroup)
	}
	return out
}

func vtFormats() []vtFormat {
	return []vtFormat{
		{"nutanix-v3", func(b *bytes.Buffer, rs rules.Set, o VendorOptions) (Placeholders, error) {
			return nil, WriteNutanixV3(b, rs, o)
		}, func(t testing.TB, b []byte, _ vtFixture) error { return validateNutanixV3(t, b) }},
		{"nutanix-v4", func(b *bytes.Buffer, rs rules.Set, o VendorOptions) (Placeholders, error) {
			return WriteNutanixV4(b, rs, o)
		}, func(t testing.TB, b []byte, _ vtFixture) error { return validateNutanixV4(t, b) }},
		{"nsx", func(b *bytes.Buffer, rs rules.Set, o VendorOptions) (Placeholders, error) {
			return nil, WriteNSXPolicy(b, rs, o)
		}, func(t testing.TB, b []byte, fx vtFixture) error { return validateNSX(t, b, vtNSXExternal(fx)...) }},
	}
}

// vtWrite writes one body and its report: placeholders and losses, one a line.
func vtWrite(t testing.TB, f vtFormat, fx vtFixture) (body []byte, report string) {
	t.Helper()
	var b bytes.Buffer
	ph, err := f.write(&b, fx.rs, fx.opts)
	var le *LossError
	if err != nil && !errors.As(err, &le) {
		t.Fatalf("%s %s: %v", fx.name, f.name, err)
	}
	var rep strings.Builder
	for _, p := range ph {
		fmt.Fprintf(&rep, "%s\tplaceholder\t%s\t%s\t%s\n", f.name, p.Kind, p.Name, p.Placeholder)
	}
	if le != nil {
		if !errors.Is(err, ErrNotExportable) || le.Format == "" || err.Error() == "" {
			t.Errorf("%s %s: bad LossError %#v", fx.name, f.name, le)
		}
		for _, l := range le.Losses {
			what := "changed"
			if l.Dropped {
				what = "dropped"
			}
			fmt.Fprintf(&rep, "%s\t%s\t%s\t%s\n", f.name, what, l.RuleID, l.Reason)
		}
	}
	return b.Bytes(), rep.String()
}

// vtGolden compares got with testdata/vendor/name, or rewrites it with -update.
func vtGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "vendor", name)
	if vtUpdating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update and review the diff); got:\n%s", path, got)
	}
}

func TestVendorGolden(t *testing.T) {
	for _, fx := range vtFixtures() {
		var report strings.Builder
		for _, f := range vtFormats() {
			t.Run(fx.name+"/"+f.name, func(t *testing.T) {
				body, rep := vtWrite(t, f, fx)
				if err := f.validate(t, body, fx); err != nil {
					t.Errorf("the vendor schema rejects our body: %v", err)
				}
				vtGolden(t, fx.name+"."+f.name+".golden.json", body)
				report.WriteString(rep)
			})
		}
		t.Run(fx.name+"/report", func(t *testing.T) { vtGolden(t, fx.name+".report.golden.txt", []byte(report.String())) })
	}
}

// TestVendorDeterministic: the rule order must not change the bodies.
func TestVendorDeterministic(t *testing.T) {
	for _, fx := range vtFixtures() {
		for _, f := range vtFormats() {
			want, wantRep := vtWrite(t, f, fx)
			r := rand.New(rand.NewPCG(1, 2))
			for range 5 {
				shuffled := fx
				shuffled.rs.Rules = slices.Clone(fx.rs.Rules)
				r.Shuffle(len(shuffled.rs.Rules), func(i, j int) {
					shuffled.rs.Rules[i], shuffled.rs.Rules[j] = shuffled.rs.Rules[j], shuffled.rs.Rules[i]
				})
				got, gotRep := vtWrite(t, f, shuffled)
				if !bytes.Equal(got, want) {
					t.Fatalf("%s %s: body depends on rule order", fx.name, f.name)
				}
				if vtSortedLines(gotRep) != vtSortedLines(wantRep) {
					t.Fatalf("%s %s: report depends on rule order:\n%s\n%s", fx.name, f.name, gotRep, wantRep)
				}
			}
		}
	}
}

func vtSortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestVendorBadOption(t *testing.T) {
	for _, cat := range []string{"AppTier", "AppTier:", ":Web", "a:b:c"} {
		for _, f := range vtFormats() {
			var b bytes.Buffer
			_, err := f.write(&b, vtFixtures()[0].rs, VendorOptions{SecuredCategory: cat})
			if !errors.Is(err, ErrBadOption) || b.Len() != 0 {
				t.Errorf("%s with secured category %q: err %v, wrote %d bytes", f.name, cat, err, b.Len())
			}
		}
	}
}

func TestVendorEmptyRuleSet(t *testing.T) {
	for _, f := range vtFormats() {
		body, rep := vtWrite(t, f, vtFixture{name: "empty"})
		if err := f.validate(t, body, vtFixture{}); err != nil {
			t.Errorf("%s: empty body rejected: %v", f.name, err)
		}
		if f.name == "nutanix-v3" && !bytes.Contains(body, []byte(`"inbound_allow_list": []`)) {
			t.Errorf("v3 must write empty allow lists as []:\n%s", body)
		}
		if strings.Contains(rep, "dropped") || !strings.Contains(string(body), PlaceholderCategory) &&
			f.name != "nsx" {
			t.Errorf("%s: report %q, body:\n%s", f.name, rep, body)
		}
	}
}

// vtDecode decodes a body into generic JSON (numbers as json.Number).
func vtDecode(t testing.TB, body []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// vtDelete as a value to vtSet deletes the key.
var vtDelete = &struct{}{}

// vtSet returns body with the value at a dotted path ("a.0.b", -1 for the
// last element) replaced, added, or deleted.
func vtSet(t testing.TB, body []byte, path string, val any) []byte {
	t.Helper()
	root := vtDecode(t, body)
	keys := strings.Split(path, ".")
	cur := root
	for i, k := range keys {
		last := i == len(keys)-1
		switch c := cur.(type) {
		case map[string]any:
			if last && val == vtDelete {
				delete(c, k)
			} else if last {
				c[k] = val
			}
			cur = c[k]
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n >= len(c) || n < -len(c) {
				t.Fatalf("bad index %q in %s", k, path)
			}
			if n < 0 {
				n += len(c)
			}
			if last {
				c[n] = val
			}
			cur = c[n]
		default:
			t.Fatalf("%s: no object at %q", path, k)
		}
	}
	out, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// vtNegative runs mutations of a valid body that a validator must reject.
type vtNegative struct {
	name string
	path string
	val  any
	want string // part of the error
}

func vtRunNegatives(t *testing.T, body []byte, validate func(testing.TB, []byte) error, cases []vtNegative) {
	t.Helper()
	if err := validate(t, body); err != nil {
		t.Fatalf("the valid body is rejected: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(t, vtSet(t, body, tc.path, tc.val))
			if err == nil {
				t.Fatalf("accepted %s = %v", tc.path, tc.val)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// vtBody returns a body written for one fixture.
func vtBody(t testing.TB, fixture, format string) []byte {
	t.Helper()
	for _, fx := range vtFixtures() {
		for _, f := range vtFormats() {
			if fx.name == fixture && f.name == format {
				body, _ := vtWrite(t, f, fx)
				return body
			}
		}
	}
	t.Fatalf("no fixture %s/%s", fixture, format)
	return nil
}

func TestVendorModes(t *testing.T) {
	fx := vtFixtures()[0]
	for _, tc := range []struct {
		format      string
		apply       bool
		want, wantN string // in the body, and not
	}{
		{"nutanix-v3", false, `"action": "MONITOR"`, `"APPLY"`},
		{"nutanix-v3", true, `"action": "APPLY"`, `"MONITOR"`},
		{"nutanix-v4", false, `"state": "MONITOR"`, `"ENFORCE"`},
		{"nutanix-v4", true, `"state": "ENFORCE"`, `"MONITOR"`},
	} {
		fx.opts.Apply = tc.apply
		for _, f := range vtFormats() {
			if f.name != tc.format {
				continue
			}
			body, _ := vtWrite(t, f, fx)
			if !bytes.Contains(body, []byte(tc.want)) || bytes.Contains(body, []byte(tc.wantN)) {
				t.Errorf("%s apply=%t: want %s and no %s", tc.format, tc.apply, tc.want, tc.wantN)
			}
		}
	}
}

// TestVendorNotAllow: a rule that is not an allow rule is never exported as one.
func TestVendorNotAllow(t *testing.T) {
	r := vtRule("drop", ingest.DirInbound, vtAny, vtGroup("AppTier:Web"), vtSvc(ingest.ProtoTCP, "22"))
	r.Action = ingest.ActionDrop
	for _, f := range vtFormats() {
		body, rep := vtWrite(t, f, vtFixture{name: "drop", rs: rules.Set{Rules: []rules.Rule{r}}})
		if !strings.Contains(rep, "dropped\tdrop\tnot an allow rule") || bytes.Contains(body, []byte(`"22"`)) ||
			bytes.Contains(body, []byte(": 22")) {
			t.Errorf("%s: report %q, body:\n%s", f.name, rep, body)
		}
	}
}

func TestNSXTooLarge(t *testing.T) {
	var rs rules.Set
	for i := range nsxMaxIntents {
		rs.Rules = append(rs.Rules, vtRule(strconv.Itoa(i), ingest.DirOutbound, vtGroup("AppTier:Web"),
			vtAddrs(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String()), vtSvc(ingest.ProtoTCP, "443")))
	}
	var b bytes.Buffer
	if err := WriteNSXPolicy(&b, rs, VendorOptions{}); !errors.Is(err, ErrTooLarge) || b.Len() != 0 {
		t.Errorf("got %v and %d bytes, want ErrTooLarge and nothing", err, b.Len())
	}
}

func TestVendorClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 64, "short"},
		{"abcdefgh", 8, "abcdefgh"},
		{"abcdefghi", 8, "abcde..."},
		{"ab→cdefgh", 8, "ab→..."},
		{"a→→→", 8, "a→..."}, // never cut inside a character
		{"→→→→", 9, "→→..."},
	} {
		if got := vndClip(tc.in, tc.n); got != tc.want || len(got) > tc.n {
			t.Errorf("vndClip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	if got := vndSlug("App X/é:1", 32); got != "App_X___1" || !nsxIDPattern.MatchString(got) {
		t.Errorf("vndSlug = %q", got)
	}
}
