package demo_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// demoConvs returns the conversations of the app's built-in demo log of vendor.
func demoConvs(t *testing.T, vendor string) *analysis.Table {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := demo.Generate(&buf, demo.Config{Vendor: vendor, Sessions: 3000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	m := analysis.NewModel(analysis.Options{})
	p := ingest.NewParser()
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var ev ingest.Event
		if b, err := p.Parse([]byte(l), &ev); b == ingest.Parsed {
			m.Add(&ev)
		} else if b == ingest.Malformed {
			t.Fatalf("%v: %s", err, l)
		}
	}
	return m.Table()
}

// TestKnobsChangeTheDemo: the app's built-in demo (3,000 sessions, seed 1)
// gives each generalisation knob something to change. The administrators
// fill a /29, collapsed by default, so a collapse minimum above their
// number lists them and splits their two ports into rules of their own; the
// 24 partner systems stay listed, so a lower Any threshold makes them Any
// and merges their two ports, and a lower coverage collapses them.
func TestKnobsChangeTheDemo(t *testing.T) {
	for _, vendor := range []string{"nsxv", "nutanix"} {
		t.Run(vendor, func(t *testing.T) {
			convs := demoConvs(t, vendor)
			def := rules.Synthesize(convs, rules.Knobs{})
			if !hasRule(def, "10.99.5.16/29", "22, 9090") {
				t.Errorf("by default no rule admits the administrators' /29 on 22 and 9090:\n%s", ruleList(def))
			}
			for _, tc := range []struct {
				Name  string
				Knobs rules.Knobs
				Cmp   int // the sign of (rules with the knob) - (rules by default)
				Has   string
			}{
				{"collapse min above the admins", rules.Knobs{CollapseMin: 9}, +1, "[10.99.5.16/32 10.99.5.17/32 "},
				{"Any above 5", rules.Knobs{AnyPeers: 5}, -1, "8443-8444"},
				{"coverage 30%", rules.Knobs{CollapseCoverage: 30}, -1, "172.16.8.0/26"},
			} {
				rs := rules.Synthesize(convs, tc.Knobs)
				d := len(rs.Rules) - len(def.Rules)
				if d*tc.Cmp <= 0 || rs.Permissiveness == def.Permissiveness {
					t.Errorf("%s: %d rules admitting %d unseen combinations; by default %d and %d",
						tc.Name, len(rs.Rules), rs.Permissiveness, len(def.Rules), def.Permissiveness)
				}
				if !strings.Contains(ruleList(rs), tc.Has) {
					t.Errorf("%s: no rule has %q:\n%s", tc.Name, tc.Has, ruleList(rs))
				}
			}
		})
	}
}

// hasRule reports whether a rule's source is src and its ports are ports.
func hasRule(rs rules.Set, src, ports string) bool {
	for _, r := range rs.Rules {
		if r.Src.Name == src && r.Service.PortList() == ports {
			return true
		}
	}
	return false
}

func ruleList(rs rules.Set) string {
	var b strings.Builder
	for _, r := range rs.Rules {
		fmt.Fprintf(&b, "%s → %s %s\n", endpointText(r.Src), endpointText(r.Dst), r.Service.Label())
	}
	return b.String()
}

// endpointText is an endpoint's name, and an IP set's members, which its
// name does not list: "SSH clients [10.99.5.16/32 10.99.5.17/32 …]".
func endpointText(e rules.Endpoint) string {
	if e.Kind != rules.KindIPSet {
		return e.Name
	}
	ps := make([]string, len(e.Prefixes))
	for i, p := range e.Prefixes {
		ps[i] = p.String()
	}
	return e.Name + " [" + strings.Join(ps, " ") + "]"
}
