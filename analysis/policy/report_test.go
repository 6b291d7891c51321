package policy

import (
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// reportBody allows web 443 from anywhere and app 8080 from web, ALLOW
// rule "unused" matches nothing observed, the default rule drops.
func reportBody() o {
	return nsxInfra(append(tierGroups(), polJSON("books", "Application", 1, nil,
		ruleJSON("web-443", 1, any1(), []string{gp + "web"}, "ALLOW", "IN_OUT", o{"services": []string{"/infra/services/HTTPS"}}),
		ruleJSON("web-app", 2, []string{gp + "web"}, []string{gp + "app"}, "ALLOW", "IN_OUT", o{"service_entries": []any{
			o{"resource_type": "L4PortSetServiceEntry", "l4_protocol": "TCP", "destination_ports": []string{"8080-8089"}}}, "services": nil}),
		ruleJSON("unused", 3, []string{gp + "db"}, any1(), "ALLOW", "OUT", o{"services": []string{"/infra/services/NTP"}})))...)
}

func TestSummarize(t *testing.T) {
	tagged := func(c analysistest.Conversation, tag string, d ingest.Direction) analysistest.Conversation {
		c.Tags = []analysis.Tag{{Name: tag, Direction: d}}
		c.Sessions, c.OrigBytes = 10, 1000
		return c
	}
	cs := []analysistest.Conversation{
		tagged(conv(client, web1, "tcp", 443), "SGTSWEB", ingest.DirInbound),
		tagged(conv(web1, app1, "tcp", 8080), "SGTSWEB", ingest.DirOutbound),
		tagged(conv(web1, db1, "tcp", 3306), "SGTSWEB", ingest.DirOutbound),   // broken: no rule
		tagged(conv(scanner, web1, "tcp", 443), "SGTSWEB", ingest.DirInbound), // suspect, admitted
		tagged(conv(scanner, web1, "tcp", 23), "SGTSWEB", ingest.DirInbound),  // suspect, blocked
	}
	review := []string{"", "", "", "port scan", "port scan"}
	p := load(t, "nsx.json", mustJSON(t, reportBody())).Compile(Env{VMs: testVMs, Default: Drop})
	vs := p.Evaluate(analysistest.Table(cs))
	r := p.Summarize(analysistest.Table(cs), vs, review)
	if !slices.Equal(r.Broken, []int{2}) || r.OK() {
		t.Errorf("broken %v, want [2]", r.Broken)
	}
	if !slices.Equal(r.SuspectAdmitted, []int{3}) {
		t.Errorf("suspect admitted %v, want [3]", r.SuspectAdmitted)
	}
	if r.ByOutcome[Blocked].Conversations != 2 || r.InReview[Blocked].Conversations != 1 || r.Total.Sessions != 50 {
		t.Errorf("totals %+v, review %+v", r.ByOutcome, r.InReview)
	}
	if len(r.ByRule) != 1 || r.ByRule[0].Rule.Name != "Default Layer3 Rule (--default drop)" || r.ByRule[0].Conversations != 2 {
		t.Errorf("by rule %+v", r.ByRule)
	}
	if len(r.ByTag) != 2 || r.ByTag[0].Tag != "SGTSWEB" {
		t.Errorf("by tag %+v", r.ByTag)
	}
	var unused []string
	for _, u := range r.Unused {
		unused = append(unused, u.Name)
	}
	if !slices.Equal(unused, []string{"unused"}) {
		t.Errorf("unused %v", unused)
	}
	// The web group is every VM tagged AppTier|Web: Books' two and Shop's.
	// web-443 admits Any → web on one port: 2 sources seen × 3 × 1 = 6
	// combinations, 2 seen; web-app admits 3 × 1 × 10 ports, 1 seen.
	var wide []string
	for _, w := range r.Wide {
		wide = append(wide, w.Rule.Name)
		if w.Rule.Name == "web-app" && (w.Admitted != 30 || w.Observed != 1) {
			t.Errorf("web-app admits %d, observed %d; want 30, 1", w.Admitted, w.Observed)
		}
	}
	if !slices.Equal(wide, []string{"web-app", "web-443"}) {
		t.Errorf("wide %v", wide)
	}
}

func TestCompare(t *testing.T) {
	cs := convs(conv(client, web1, "tcp", 443), conv(web1, app1, "tcp", 8080), conv(web1, app1, "tcp", 8081))
	a := load(t, "a.json", mustJSON(t, reportBody())).Compile(Env{VMs: testVMs, Default: Drop})
	// B allows only HTTPS into web, and everything from web to app on any port.
	b := load(t, "b.json", mustJSON(t, nsxInfra(append(tierGroups(), polJSON("b", "Application", 1, nil,
		ruleJSON("b-web", 1, any1(), []string{gp + "web"}, "ALLOW", "IN_OUT", o{"services": []string{"/infra/services/HTTPS"}}),
		ruleJSON("b-app", 2, []string{gp + "web"}, []string{gp + "app"}, "ALLOW", "IN_OUT", nil)))...))).Compile(Env{VMs: testVMs, Default: Drop})
	d := Compare(cs, a, a.Evaluate(cs), b, b.Evaluate(cs))
	if len(d.OnlyA) != 0 || len(d.OnlyB) != 0 {
		t.Errorf("only A %v, only B %v: both allow all three", d.OnlyA, d.OnlyB)
	}
	names := func(rs []RuleRef) (out []string) {
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	if got := names(d.CoveredA); !slices.Equal(got, []string{"web-443", "web-app"}) {
		t.Errorf("rules of A covering nothing B does not: %v", got)
	}
	cs = convs(append(analysistest.Rows(cs), conv(web1, app1, "tcp", 22))...)
	d = Compare(cs, a, a.Evaluate(cs), b, b.Evaluate(cs))
	if !slices.Equal(d.OnlyB, []int{3}) || slices.Contains(names(d.CoveredB), "b-app") {
		t.Errorf("only B %v, covered B %v: b-app alone admits port 22", d.OnlyB, names(d.CoveredB))
	}
}
