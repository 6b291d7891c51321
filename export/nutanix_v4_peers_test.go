package export

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// nxMonitoredBooks is the books fixture with a monitoring host reaching
// the web tier on three services, as the demo's monitor-01 does.
func nxMonitoredBooks() vtFixture {
	fx := vtBooks()
	in := ingest.DirInbound
	web := vtTier("Web", "SGTSWEB", "10.20.10.11", "10.20.10.12")
	mon := func(role string) rules.Endpoint { return vtIPSet("monitor-01", role, "10.10.0.40") }
	fx.rs.Rules = append(fx.rs.Rules,
		vtRule("r-mon-icmp", in, mon("icmp"), web, vtSvc(ingest.ProtoICMP)),
		vtRule("r-mon-9100", in, mon("9100"), web, vtSvc(ingest.ProtoTCP, "9100")),
		vtRule("r-mon-snmp", in, mon("161"), web, vtSvc(ingest.ProtoUDP, "161")))
	fx.opts.Apply = true
	return fx
}

// TestNutanixV4OneRulePerPeer: the v4 body has one APPLICATION rule per
// secured group, direction and peer, carrying all the peer's services.
func TestNutanixV4OneRulePerPeer(t *testing.T) {
	fx := nxMonitoredBooks()
	body, _ := vtWrite(t, vtFormats()[1], fx)
	if err := validateNutanixV4(t, body); err != nil {
		t.Fatal(err)
	}
	var pol struct {
		Rules []struct {
			Type, Description string
			Spec              map[string]any
		}
	}
	if err := json.Unmarshal(body, &pol); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, r := range pol.Rules {
		if r.Type != "APPLICATION" {
			continue
		}
		key := fmt.Sprint(r.Spec["securedGroupCategoryReferences"], r.Spec["srcSubnet"], r.Spec["destSubnet"],
			r.Spec["srcCategoryReferences"], r.Spec["destCategoryReferences"], r.Spec["srcAllowSpec"], r.Spec["destAllowSpec"])
		if prev, ok := seen[key]; ok {
			t.Errorf("rules %q and %q have the same secured group and peer: one rule should hold both", prev, r.Description)
		}
		seen[key] = r.Description
		if sub, _ := r.Spec["srcSubnet"].(map[string]any); sub["value"] == "10.10.0.40" {
			got := fmt.Sprint(r.Spec["tcpServices"], r.Spec["udpServices"], r.Spec["icmpServices"])
			if want := "[map[endPort:9100 startPort:9100]] [map[endPort:161 startPort:161]] [map[isAllAllowed:true]]"; got != want {
				t.Errorf("monitor-01 → web: services %s, want %s", got, want)
			}
		}
	}
	// web: Any, monitor-01, the app tier, two DNS servers, two HTTPS
	// servers; app: the web tier, the db tier; db: the app tier, two DNS
	// servers, the backup server.
	if len(seen) != 13 {
		t.Errorf("%d APPLICATION rules, want 13 (one per tier, direction and peer): %v", len(seen), seen)
	}
}

// TestNutanixV4SameAsV3: evaluated by analysis/policy, the v4 body (one
// rule per peer, services together) decides every probe as the v3 body
// (one entry per peer and protocol) does: joining services widens nothing.
func TestNutanixV4SameAsV3(t *testing.T) {
	fx := nxMonitoredBooks()
	var sets []*policy.Set
	for _, f := range vtFormats()[:2] {
		body, _ := vtWrite(t, f, fx)
		s, err := policy.Load(f.name+".json", body)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		sets = append(sets, s)
	}
	vm := func(name, tier string, addr string) inventory.VM {
		return inventory.VM{Name: name, IPs: []netip.Addr{netip.MustParseAddr(addr)}, Groups: []string{"AppTier:" + tier, "AppType:Books"}}
	}
	env := policy.Env{VMs: []inventory.VM{vm("web-01", "Web", "10.20.10.11"), vm("web-02", "Web", "10.20.10.12"),
		vm("app-01", "App", "10.20.20.21"), vm("db-01", "DB", "10.20.30.31")}}
	peers := []string{"10.10.0.40", "10.10.0.10", "10.10.0.30", "192.0.2.80", "198.51.100.7"}
	var probes []analysistest.Conversation
	for _, v := range env.VMs {
		for _, p := range peers {
			peer := netip.MustParseAddr(p)
			for _, proto := range []uint8{ingest.ProtoTCP, ingest.ProtoUDP, ingest.ProtoICMP} {
				for _, port := range []uint16{0, 53, 88, 161, 443, 3306, 9100, 9102} {
					if proto == ingest.ProtoICMP && port != 0 || proto != ingest.ProtoICMP && port == 0 {
						continue
					}
					probes = append(probes,
						analysistest.Conversation{Src: peer, Dst: v.IPs[0], Proto: proto, DPort: port, Direction: ingest.DirInbound, Sessions: 1},
						analysistest.Conversation{Src: v.IPs[0], Dst: peer, Proto: proto, DPort: port, Direction: ingest.DirOutbound, Sessions: 1})
				}
			}
		}
	}
	pt := analysistest.Table(probes)
	v3, v4 := sets[0].Compile(env).Evaluate(pt), sets[1].Compile(env).Evaluate(pt)
	allowed := 0
	for i, c := range probes {
		if v3[i].Outcome != v4[i].Outcome {
			t.Errorf("%s→%s %d/%d: v3 %s (%s), v4 %s (%s)", c.Src, c.Dst, c.Proto, c.DPort,
				v3[i].Outcome, v3[i].Why, v4[i].Outcome, v4[i].Why)
		}
		if v4[i].Outcome == policy.Allowed {
			allowed++
		}
	}
	// The grid holds both answers: monitor-01 reaches the web tier on its
	// three services only.
	want := map[string]policy.Outcome{"17/161": policy.Allowed, "17/9100": policy.Blocked, "6/161": policy.Blocked,
		"6/9100": policy.Allowed, "1/0": policy.Allowed}
	for i, c := range probes {
		if c.Src.String() == "10.10.0.40" && c.Dst.String() == "10.20.10.11" {
			if w, ok := want[fmt.Sprintf("%d/%d", c.Proto, c.DPort)]; ok && v4[i].Outcome != w {
				t.Errorf("monitor-01 → web-01 %d/%d: %s, want %s", c.Proto, c.DPort, v4[i].Outcome, w)
			}
		}
	}
	if allowed == 0 || allowed == len(probes) {
		t.Errorf("%d of %d probes allowed: the grid tells nothing", allowed, len(probes))
	}
}
