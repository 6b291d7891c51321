package policy

import (
	"bytes"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// fuzzConvs are evaluated against whatever a fuzzed body loads as.
var fuzzConvs = []analysistest.Conversation{
	conv(client, web1, "tcp", 443), conv(web1, db1, "tcp", 3306), conv(db1, dns, "udp", 53),
	conv(app1, web2, "icmp", 8), conv("2001:db8::1", "2001:db8::2", "tcp", 22),
}

// FuzzLoad feeds untrusted bytes to Load: it must never panic, and what it
// accepts must compile and evaluate without panicking. Memory stays bounded
// by the input (MaxBytes) and group nesting by maxGroupDepth.
func FuzzLoad(f *testing.F) {
	seeds := []any{
		nsxInfra(append(tierGroups(), polJSON("p", "Application", 1, []string{gp + "web"},
			ruleJSON("r", 1, []string{"10.0.0.0/8", gp + "app"}, any1(), "DROP", "IN", o{"service_entries": []any{
				o{"resource_type": "L4PortSetServiceEntry", "l4_protocol": "TCP", "destination_ports": []string{"80-90"}}}})))...),
		v3Tiers("APPLY"), v4Tiers("ENFORCE"),
		o{"results": []any{o{"resource_type": "Group", "id": "g", "expression": []any{o{"resource_type": "NestedExpression",
			"expressions": []any{o{"resource_type": "PathExpression", "paths": []string{gp + "g"}}}}}}}},
		o{"address_group": o{"name": "a", "ip_address_block_list": []any{o{"ip": "10.0.0.0", "prefix_length": 8}}}, "uuid": "u"},
	}
	for _, s := range seeds {
		f.Add(mustJSON(f, s))
	}
	f.Add([]byte(`{"resource_type":"Infra","children":[{"resource_type":"ChildRule"}]}`))
	f.Add([]byte(`[[[[{}]]]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load("fuzz.json", data)
		if err != nil {
			if s != nil {
				t.Fatal("a set with an error")
			}
			return
		}
		for _, env := range []Env{{VMs: testVMs}, {Default: Drop, EnableDisabled: true, Categories: MatchAny, Intra: IntraGroupOrAllowList}} {
			p := s.Compile(env)
			vs := p.Evaluate(analysistest.Table(fuzzConvs))
			for _, v := range vs {
				if v.Rule.Index >= int32(len(p.Rules())) {
					t.Fatalf("rule index %d of %d", v.Rule.Index, len(p.Rules()))
				}
			}
		}
	})
}

// FuzzEnvReaders feeds untrusted bytes to the side-file readers.
func FuzzEnvReaders(f *testing.F) {
	f.Add([]byte("tag,path\nSGTSWEB,/infra/domains/default/groups/web\n"))
	f.Add([]byte("group,address\nAppType:Books,10.0.0.0/8\nx,10.0.0.1-10.0.0.9\n"))
	f.Add([]byte(`{"data":[{"extId":"e","key":"K","value":"V"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadTagPaths(bytes.NewReader(data))
		m, err := ReadMembers(bytes.NewReader(data))
		if err == nil {
			for _, ps := range m {
				for _, p := range ps {
					if !p.IsValid() {
						t.Fatalf("invalid prefix from %q", data)
					}
				}
			}
		}
		ReadCategories(data)
	})
}
