package policy

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// The test estate: a three-tier application "Books" (web, app, db), a web
// VM of another application "Shop", a DNS server and outside clients.
var (
	web1    = "10.20.10.11"
	web2    = "10.20.10.12"
	app1    = "10.20.20.21"
	db1     = "10.20.30.31"
	shopWeb = "10.30.10.11"
	dns     = "10.10.0.10" // not a VM: a server outside the estate
	client  = "198.51.100.7"
	scanner = "203.0.113.66"
	testVMs = []inventory.VM{
		vm("web-01", web1, "AppType:Books", "AppTier:Web", "Env:Prod", "SGTSWEB"),
		vm("web-02", web2, "AppType:Books", "AppTier:Web", "Env:Prod", "SGTSWEB"),
		vm("app-01", app1, "AppType:Books", "AppTier:App", "Env:Prod", "SGTSAPP"),
		vm("db-01", db1, "AppType:Books", "AppTier:DB", "Env:Prod", "SGTSDB"),
		vm("shop-web", shopWeb, "AppType:Shop", "AppTier:Web", "Env:Dev"),
	}
)

func vm(name, ip string, groups ...string) inventory.VM {
	return inventory.VM{Name: name, IPs: []netip.Addr{netip.MustParseAddr(ip)}, Groups: groups}
}

// conv makes a conversation; proto "tcp", "udp" or "icmp".
func conv(src, dst, proto string, port uint16) analysistest.Conversation {
	p, ok := ingest.ParseProto(proto)
	if !ok {
		panic(proto)
	}
	return analysistest.Conversation{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: p, DPort: port, Sessions: 1}
}

// mustJSON renders v as JSON.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// load loads one body, failing the test on error.
func load(t testing.TB, name string, body []byte) *Set {
	t.Helper()
	s, err := Load(name, body)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// obj is shorthand for a JSON object.
type o = map[string]any

// check is one expected verdict.
type check struct {
	Name    string
	Conv    analysistest.Conversation
	Outcome Outcome
	Rule    string // the deciding rule's name; "" to skip, "-" for none (no enforcement point)
	Point   string // prefix of Verdict.Point ("OUT at", "IN at"), "" to skip
}

// verify evaluates the checks against set in env.
func verify(t *testing.T, set *Set, env Env, checks []check) {
	t.Helper()
	convs := make([]analysistest.Conversation, len(checks))
	for i, c := range checks {
		convs[i] = c.Conv
	}
	vs := set.Evaluate(analysistest.Table(convs), env)
	for i, c := range checks {
		v := vs[i]
		rule := v.Rule.Name
		if v.Rule.Index < 0 {
			rule = "-"
		}
		if v.Outcome != c.Outcome || c.Rule != "" && rule != c.Rule || c.Point != "" && !hasPrefix(v.Point, c.Point) {
			t.Errorf("%s: %s → %s %d: got %s by %q at %q (%s), want %s by %q at %q", c.Name, c.Conv.Src, c.Conv.Dst, c.Conv.DPort,
				v.Outcome, v.Rule.Name, v.Point, v.Why, c.Outcome, c.Rule, c.Point)
		}
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// convs gathers conversations in a table.
func convs(cs ...analysistest.Conversation) *analysis.Table { return analysistest.Table(cs) }

// Policies counts the policies of the set.
func (s *Set) Policies() int {
	n := len(s.ntx)
	for _, b := range s.nsx {
		n += len(b.policies)
	}
	return n
}

// Evaluate returns one verdict per row of t, in the same order.
func (s *Set) Evaluate(t *analysis.Table, env Env) []Verdict {
	return s.Compile(env).Evaluate(t)
}
