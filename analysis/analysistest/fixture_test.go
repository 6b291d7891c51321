package analysistest_test

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// fixtures are conversations with every field a table keeps set somewhere,
// every direction, both address families, out of table order.
func fixtures() []analysistest.Conversation {
	a := netip.MustParseAddr
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return []analysistest.Conversation{
		{Src: a("10.0.0.9"), Dst: a("203.0.113.5"), Proto: ingest.ProtoUDP, DPort: 53, Direction: ingest.DirUnknown,
			Sessions: 1, Unanswered: 1, OrigPkts: 1, OrigBytes: 60, Unauthenticated: true,
			Tags: []analysis.Tag{{Name: "ghost", Direction: ingest.DirUnknown}}},
		{Src: a("10.0.0.1"), Dst: a("10.0.0.2"), Proto: ingest.ProtoTCP, DPort: 443, Direction: ingest.DirIntra,
			Tags:    []analysis.Tag{{Name: "app", Direction: ingest.DirIntra}, {Name: "web", Direction: ingest.DirInbound}},
			Actions: []ingest.Action{ingest.ActionAllow}, Vendors: []ingest.Vendor{ingest.Nutanix},
			Sessions: 7, Unanswered: 2, OrigPkts: 70, OrigBytes: 7000, ReplyPkts: 60, ReplyBytes: 90000,
			SrcVM: "app-01", SrcGroups: []string{"app"}, DstVM: "web-01", DstGroups: []string{"dmz", "web"},
			First: t0.Add(5 * time.Minute), Last: t0.Add(2*time.Hour + time.Second),
			Hosts:   []string{"ahv-1", "ahv-2"},
			Hourly:  []analysis.Hour{{Start: t0, Sessions: 4}, {Start: t0.Add(2 * time.Hour), Sessions: 3}},
			Samples: []string{"line one", "line two"}},
		{Src: a("192.0.2.7"), Dst: a("10.0.0.2"), Proto: ingest.ProtoTCP, DPort: 22, Direction: ingest.DirInbound,
			Tags:    []analysis.Tag{{Name: "web", Direction: ingest.DirInbound}},
			Actions: []ingest.Action{ingest.ActionAllow, ingest.ActionDrop}, Vendors: []ingest.Vendor{ingest.Nutanix, ingest.NSXT},
			Sessions: 3, OrigPkts: 9, OrigBytes: 900, DstVM: "web-01", DstGroups: []string{"dmz", "web"},
			First: t0, Last: t0, Hosts: []string{"esx-1"}, Hourly: []analysis.Hour{{Start: t0, Sessions: 3}},
			Samples: []string{"line three"}},
		{Src: a("2001:db8::1"), Dst: a("2001:db8::53"), Proto: ingest.ProtoUDP, DPort: 53, Direction: ingest.DirOutbound,
			Vendors: []ingest.Vendor{ingest.NSXT}, Sessions: 2, OrigPkts: 2, OrigBytes: 150, ReplyPkts: 2, ReplyBytes: 300,
			SrcVM: "dns-client", SrcGroups: []string{}},
		{Src: a("10.0.0.1"), Dst: a("192.0.2.7"), Proto: ingest.ProtoICMP, DPort: 8, Direction: ingest.DirOutbound,
			Sessions: 1, OrigPkts: 1, OrigBytes: 84, ReplyPkts: 1, ReplyBytes: 84, SrcVM: "app-01", SrcGroups: []string{"app"}},
	}
}

// TestTableRoundTrip checks that fixtures come back from the table the
// production builder makes of them as they went in, in their order.
func TestTableRoundTrip(t *testing.T) {
	want := fixtures()
	if slices.IsSortedFunc(want, analysistest.Compare) {
		t.Fatal("the fixtures are in table order: the test could not see them sorted")
	}
	got := analysistest.Rows(analysistest.Table(fixtures()))
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
}

// TestTableRefusesContradictions checks that fixtures no table can hold
// are refused, naming the address.
func TestTableRefusesContradictions(t *testing.T) {
	for name, edit := range map[string]func([]analysistest.Conversation){
		"monitored":    func(fx []analysistest.Conversation) { fx[2].Direction = ingest.DirIntra },
		"label":        func(fx []analysistest.Conversation) { fx[4].SrcVM = "app-02" },
		"two fixtures": func(fx []analysistest.Conversation) { fx[0] = fx[4] },
	} {
		t.Run(name, func(t *testing.T) {
			fx := fixtures()
			edit(fx)
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, name) || !strings.Contains(msg, "192.0.2.7") && !strings.Contains(msg, "10.0.0.1") {
					t.Fatalf("panic %q, want one naming the %s of the address", msg, name)
				}
			}()
			analysistest.Table(fx)
		})
	}
}

// TestBatches checks that conversations no one table holds are split into
// tables that each hold theirs, every conversation once, in as many
// batches as the contradictions need.
func TestBatches(t *testing.T) {
	fx := fixtures()
	inbound := fx[2] // 192.0.2.7 → 10.0.0.2, INBOUND
	inbound.Direction = ingest.DirIntra
	// 10.0.0.1 → 192.0.2.7 (app-01) renamed, on another port: another conversation.
	relabelled := fx[4]
	relabelled.SrcVM, relabelled.DPort = "app-02", 0
	again := fx[0] // the same conversation twice
	fx = append(fx, inbound, relabelled, again)
	batches := analysistest.Batches(fx)
	if len(batches) != 3 { // the two edited rows contradict each other as well as the fixtures
		t.Fatalf("%d batches %v, want 3", len(batches), batches)
	}
	var seen []int
	for _, b := range batches {
		part := make([]analysistest.Conversation, len(b))
		for j, i := range b {
			part[j] = fx[i]
		}
		if got := analysistest.Rows(analysistest.Table(part)); !reflect.DeepEqual(got, part) {
			t.Errorf("batch %v does not come back as it went in", b)
		}
		seen = append(seen, b...)
	}
	if slices.Sort(seen); !slices.Equal(seen, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("conversations %v, want each once", seen)
	}
}
