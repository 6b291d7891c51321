package policy_test

import (
	"fmt"
	"net/netip"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// A Nutanix v3 application policy securing the VMs of category
// AppType:Books, applied: HTTPS in from anywhere, nothing else.
const booksV3 = `{
  "metadata": {"kind": "network_security_rule"},
  "spec": {"name": "Books", "resources": {"app_rule": {
    "action": "APPLY",
    "target_group": {"filter": {"type": "CATEGORIES_MATCH_ALL", "kind_list": ["vm"], "params": {"AppType": ["Books"]}},
                     "default_internal_policy": "DENY_ALL"},
    "inbound_allow_list": [{"peer_specification_type": "ALL", "protocol": "TCP",
                            "tcp_port_range_list": [{"start_port": 443, "end_port": 443}], "description": "HTTPS"}],
    "outbound_allow_list": [{"peer_specification_type": "ALL"}]}}}}`

func ExampleSet_Evaluate() {
	set, err := policy.Load("books.json", []byte(booksV3))
	if err != nil {
		fmt.Println(err)
		return
	}
	env := policy.Env{VMs: []inventory.VM{{Name: "web-01", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.11")},
		Groups: []string{"AppType:Books"}}}}
	convs := []analysistest.Conversation{
		{Src: netip.MustParseAddr("198.51.100.7"), Dst: netip.MustParseAddr("10.0.0.11"), Proto: ingest.ProtoTCP, DPort: 443},
		{Src: netip.MustParseAddr("198.51.100.7"), Dst: netip.MustParseAddr("10.0.0.11"), Proto: ingest.ProtoTCP, DPort: 22},
	}
	for i, v := range set.Evaluate(analysistest.Table(convs), env) {
		fmt.Printf("%d: %s at %s by %q\n", convs[i].DPort, v.Outcome, v.Point, v.Rule.Name)
	}
	// Output:
	// 443: allowed at IN at 10.0.0.11 (web-01) by "HTTPS"
	// 22: blocked at IN at 10.0.0.11 (web-01) by "not in the allow lists of AppType:Books (implicit deny)"
}
