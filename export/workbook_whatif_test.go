package export_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// whatIfPolicy is a Nutanix v3 policy securing web-01 (AppType:Books):
// HTTPS in, DNS out to 10.10.0.10.
const whatIfPolicy = `{"metadata":{"kind":"network_security_rule"},"spec":{"name":"Books","resources":{"app_rule":{
  "action":"APPLY","target_group":{"filter":{"type":"CATEGORIES_MATCH_ALL","params":{"AppType":["Books"]}},"default_internal_policy":"DENY_ALL"},
  "inbound_allow_list":[{"peer_specification_type":"ALL","protocol":"TCP","tcp_port_range_list":[{"start_port":443,"end_port":443}],"description":"HTTPS in"}],
  "outbound_allow_list":[{"peer_specification_type":"IP_SUBNET","ip_subnet":{"ip":"10.10.0.10","prefix_length":32},"protocol":"UDP","udp_port_range_list":[{"start_port":53,"end_port":53}],"description":"DNS out"},
    {"peer_specification_type":"IP_SUBNET","ip_subnet":{"ip":"10.10.0.99","prefix_length":32},"description":"never used"}]}}}}`

// whatIfCheck runs a check of whatIfPolicy on three conversations: HTTPS in
// (allowed), NTP out (would break), a scan (blocked, under review).
func whatIfCheck(t *testing.T) *export.WhatIf {
	t.Helper()
	path := filepath.Join(t.TempDir(), "books.json")
	if err := os.WriteFile(path, []byte(whatIfPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	web := netip.MustParseAddr("10.0.0.11")
	c := func(src, dst netip.Addr, proto uint8, port uint16, unanswered uint64) analysistest.Conversation {
		return analysistest.Conversation{Src: src, Dst: dst, Proto: proto, DPort: port, Sessions: 3, Unanswered: unanswered}
	}
	convs := []analysistest.Conversation{
		c(netip.MustParseAddr("198.51.100.7"), web, ingest.ProtoTCP, 443, 0),
		c(web, netip.MustParseAddr("10.10.0.20"), ingest.ProtoUDP, 123, 0),
		c(netip.MustParseAddr("203.0.113.66"), web, ingest.ProtoTCP, 23, 3),
	}
	x, err := export.RunCheck(export.CheckRequest{Policies: []string{path}, Convs: analysistest.Table(convs), Sources: policy.Sources{
		VMs: []inventory.VM{{Name: "web-01", IPs: []netip.Addr{web}, Groups: []string{"AppType:Books"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestWorkbookWhatIf(t *testing.T) {
	x := whatIfCheck(t)
	var b bytes.Buffer
	if err := export.WriteWorkbook(&b, rules.Set{}, x.Convs, nil, export.WorkbookOptions{Title: "t", WhatIf: x}); err != nil {
		t.Fatal(err)
	}
	f := wbOpen(t, b.Bytes())
	if got := f.GetSheetList(); !slices.Equal(got, append(slices.Clone(wbSheets), "What-if", "What-if rules")) {
		t.Fatalf("sheets %v", got)
	}
	rows, err := f.GetRows("What-if")
	if err != nil || len(rows) != 4 {
		t.Fatalf("What-if: %d rows, %v", len(rows), err)
	}
	// What would break comes first, then the other blocked, then the allowed.
	want := [][]string{{"blocked", "yes", "10.10.0.20"}, {"blocked", "no", "10.0.0.11"}, {"allowed", "no", "10.0.0.11"}}
	for i, w := range want {
		if r := rows[i+1]; r[0] != w[0] || r[1] != w[1] || r[10] != w[2] {
			t.Errorf("row %d: %v, want %v", i+1, r[:11], w)
		}
	}
	ruleRows, _ := f.GetRows("What-if rules")
	status := map[string]string{}
	for _, r := range ruleRows[1:] {
		if len(r) > 8 {
			status[r[0]] = r[8]
		} else {
			status[r[0]] = ""
		}
	}
	if status["never used"] != "unused" || status["HTTPS in"] != "" {
		t.Errorf("rule status %v", status)
	}
	// Without a check, no What-if sheet.
	b.Reset()
	if err := export.WriteWorkbook(&b, rules.Set{}, nil, nil, export.WorkbookOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := wbOpen(t, b.Bytes()).GetSheetList(); !slices.Equal(got, wbSheets) {
		t.Errorf("sheets without a check: %v", got)
	}
}
