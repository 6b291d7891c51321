package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// streamConvs are conversations whose JSON has what an encoder treats
// specially: HTML characters, control characters, non-ASCII text, empty
// and missing lists, unknown times.
func streamConvs(n int) []analysistest.Conversation {
	t0 := time.Date(2025, 4, 10, 9, 0, 0, 0, time.UTC)
	out := make([]analysistest.Conversation, n)
	for i := range out {
		c := analysistest.Conversation{
			Src: netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(i % 250)}), Dst: netip.MustParseAddr("10.1.0.1"),
			Proto: ingest.ProtoTCP, DPort: uint16(1 + i%3), Direction: ingest.Direction(i % 4),
			Sessions: uint64(i), Unanswered: uint64(i % 2), OrigPkts: 3, ReplyBytes: uint64(i * 1000),
			Tags:    []analysis.Tag{{Name: fmt.Sprintf("<b>web & \"app\" %d</b>", i%3), Direction: ingest.DirOutbound}},
			Actions: []ingest.Action{ingest.ActionAllow}, Vendors: []ingest.Vendor{ingest.NSXT},
			Hosts: []string{"esx-é"}, SrcVM: "web-01", SrcGroups: []string{"AppTier:Web"},
			Samples: []string{"<134>x SRC=10.0.0.1 \u2028 & \x01", "second"},
		}
		if i%5 != 0 {
			c.First, c.Last = t0.Add(time.Duration(i)*time.Minute), t0.Add(time.Duration(i)*time.Hour)
			c.Hourly = []analysis.Hour{{Start: t0, Sessions: 2}, {Start: t0.Add(time.Hour), Sessions: uint64(i)}}
		}
		if i%7 == 0 {
			c.Tags, c.Hosts, c.Samples, c.Actions = nil, nil, nil, nil
		}
		if c.Direction == ingest.DirOutbound || c.Direction == ingest.DirUnknown {
			c.Dst = netip.MustParseAddr("10.1.0.2") // 10.1.0.1 is monitored
		}
		out[i] = c
	}
	return out
}

// TestFlowsJSONStreamed: the flows JSON, written in pieces, is byte for
// byte what one json.Encoder writes of the whole array, over more than one
// chunk of sample lines, and for none.
func TestFlowsJSONStreamed(t *testing.T) {
	for _, n := range []int{0, 1, 9000} {
		tb := analysistest.Table(streamConvs(n))
		out := make([]jsonFlow, n)
		for i := range out {
			out[i] = toJSONFlow(tb, i, tb.Samples(i))
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteFlowsJSON(&got, tb, tb.All()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%d conversations: the streamed JSON differs:\n%.2000s\nwant\n%.2000s", n, got.String(), want.String())
		}
	}
}

// TestRulesJSONStreamed: the rules JSON, written in pieces, is byte for
// byte what one json.Encoder (HTML left as it is) writes of the document.
func TestRulesJSONStreamed(t *testing.T) {
	for _, n := range []int{0, 50, 6000} {
		rs := rules.Synthesize(analysistest.Table(streamConvs(n)), rules.Knobs{})
		if n > 0 && (len(rs.Rules) == 0 || len(rs.Review) == 0 || len(rs.Outside) == 0) {
			t.Fatalf("%d conversations: %d rules, %d review, %d outside: not every list", n, len(rs.Rules), len(rs.Review), len(rs.Outside))
		}
		var want bytes.Buffer
		if err := oldRulesJSON(&want, rs); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteRulesJSON(&got, rs); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%d conversations: the streamed JSON differs:\n%.3000s\nwant\n%.3000s", n, got.String(), want.String())
		}
	}
}

// oldRulesJSON is WriteRulesJSON as it was, the whole document encoded at
// once: the oracle of the streamed one.
func oldRulesJSON(w *bytes.Buffer, rs rules.Set) error {
	doc := struct {
		Rules          []jsonRule  `json:"rules"`
		Review         []jsonItem  `json:"review"`
		Outside        []jsonItem  `json:"outside_scope"`
		Knobs          rules.Knobs `json:"knobs"`
		Scope          rules.Scope `json:"scope"`
		Observed       uint64      `json:"observed_combinations"`
		Permissiveness uint64      `json:"unseen_combinations_admitted"`
	}{Rules: []jsonRule{}, Review: []jsonItem{}, Outside: []jsonItem{}, Knobs: rs.Knobs, Scope: rs.Scope,
		Observed: rs.Observed, Permissiveness: rs.Permissiveness}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		e := &r.Evidence
		doc.Rules = append(doc.Rules, jsonRule{ID: r.ID, Name: r.Name, Direction: r.Direction.String(),
			Src: endpointJSON(r.Src), Dst: endpointJSON(r.Dst), Protocol: ingest.ProtoName(r.Service.Proto),
			Ports: r.Service.PortList(), Service: r.Service.Name, Action: r.Action.String(), Description: r.Description,
			Sessions: e.Sessions, Bytes: e.Bytes, Flows: e.Conversations, FirstSeen: formatTime(e.First),
			LastSeen: formatTime(e.Last), Hosts: nonNil(e.Hosts), Samples: nonNil(rs.Samples(r))})
	}
	for _, it := range rs.Review {
		row := int(it.Row)
		doc.Review = append(doc.Review, jsonItem{toJSONFlow(rs.Table, row, rs.Table.Samples(row)), it.Reason})
	}
	for _, it := range rs.Outside {
		row := int(it.Row)
		doc.Outside = append(doc.Outside, jsonItem{toJSONFlow(rs.Table, row, rs.Table.Samples(row)), it.Reason})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
