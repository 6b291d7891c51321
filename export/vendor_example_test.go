package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// exampleRules is the running example: 10.1.2.0/24 may reach App-X on
// TCP 443, and 2001:db8:1::/64 too.
func exampleRules() rules.Set {
	appX := rules.Endpoint{Name: "App-X", Kind: rules.KindGroup, Group: "AppType:App-X"}
	peer := func(p string) rules.Endpoint {
		return rules.Endpoint{Name: p, Kind: rules.KindAddresses, Prefixes: []netip.Prefix{netip.MustParsePrefix(p)}}
	}
	https := rules.Service{Proto: ingest.ProtoTCP, Ports: []rules.PortRange{{From: 443, To: 443}}}
	return rules.Set{Rules: []rules.Rule{
		{ID: "in-443", Direction: ingest.DirInbound, Action: ingest.ActionAllow, Src: peer("10.1.2.0/24"), Dst: appX, Service: https},
		{ID: "in-443-v6", Direction: ingest.DirInbound, Action: ingest.ActionAllow, Src: peer("2001:db8:1::/64"), Dst: appX, Service: https},
	}}
}

// A v3 body cannot say IPv6 rules: the body is written without them and
// the error lists them.
func ExampleWriteNutanixV3() {
	err := export.WriteNutanixV3(io.Discard, exampleRules(), export.VendorOptions{SecuredCategory: "AppType:App-X"})
	var le *export.LossError
	if errors.As(err, &le) {
		for _, l := range le.Losses {
			fmt.Printf("%s dropped=%t: %s\n", l.RuleID, l.Dropped, l.Reason)
		}
	}
	fmt.Println(errors.Is(err, export.ErrNotExportable))
	// Output:
	// in-443-v6 dropped=true: IPv6 peers left out (v3 rules match IPv4 only): 2001:db8:1::/64
	// true
}

// A v4 body names categories by extId: the admin replaces the placeholders.
func ExampleWriteNutanixV4() {
	var body bytes.Buffer
	ph, err := export.WriteNutanixV4(&body, exampleRules(), export.VendorOptions{SecuredCategory: "AppType:App-X"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range ph {
		fmt.Printf("%s %s: replace %q\n", p.Kind, p.Name, p.Placeholder)
	}
	// Output:
	// category AppType:App-X: replace "<extId of category AppType:App-X>"
}

// An NSX body is one hierarchical PATCH: enabled allow rules, each applied
// to the group of its monitored side, then the application's boundary,
// disabled until the admin enables it (or written enabled with Apply).
func ExampleWriteNSXPolicy() {
	var body bytes.Buffer
	if err := export.WriteNSXPolicy(&body, exampleRules(), export.VendorOptions{SecuredCategory: "AppType:App-X"}); err != nil {
		fmt.Println(err)
		return
	}
	var infra struct {
		Children []struct {
			ResourceType string `json:"resource_type"`
			Children     []struct {
				SecurityPolicy struct {
					SequenceNumber int `json:"sequence_number"`
					Children       []struct{ Rule map[string]any }
				}
			}
		}
	}
	if err := json.Unmarshal(body.Bytes(), &infra); err != nil {
		fmt.Println(err)
		return
	}
	domain := infra.Children[len(infra.Children)-1]
	pol := domain.Children[len(domain.Children)-1].SecurityPolicy
	fmt.Println(domain.ResourceType, pol.SequenceNumber)
	for _, c := range pol.Children {
		fmt.Println(c.Rule["id"], c.Rule["action"], c.Rule["direction"], c.Rule["scope"], "disabled:", c.Rule["disabled"])
	}
	// Output:
	// ChildResourceReference 100
	// fs-in-443 ALLOW IN [/infra/domains/default/groups/fs-AppType-App-X-1c8433f5] disabled: false
	// fs-in-443-v6 ALLOW IN [/infra/domains/default/groups/fs-AppType-App-X-1c8433f5] disabled: false
	// fs-boundary DROP IN_OUT [/infra/domains/default/groups/fs-AppType-App-X-1c8433f5] disabled: true
}
