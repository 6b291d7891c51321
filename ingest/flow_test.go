package ingest

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestReadFlows checks that Read WithFlows hands, for every event Read
// hands without it that has both addresses, that event's Flow, with its
// line at RawOff in Data, its names in Names and its index in the shard the
// event's is in; and the same counts.
func TestReadFlows(t *testing.T) {
	in := corpus(3, 20_000)
	shardOf := func(f *Flow) int { return int(f.SPort) % 3 }
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			var want []flowLine
			wst, err := Read(context.Background(), bytes.NewReader(in), "c", func(b *Batch) error {
				for _, idx := range b.Shards {
					for _, i := range idx {
						ev := &b.Events[i]
						var f Flow
						var names []string
						if ev.SetFlow(&f, 0, &names) {
							want = append(want, lineOf(f, names, string(ev.Raw), shardOf(&f)))
						}
					}
				}
				return nil
			}, WithWorkers(workers), WithShards(3, shardOf))
			if err != nil {
				t.Fatal(err)
			}
			var got []flowLine
			gst, err := Read(context.Background(), bytes.NewReader(in), "c", func(b *Batch) error {
				got = append(got, flowLines(t, b)...)
				return nil
			}, WithWorkers(workers), WithShards(3, shardOf), WithFlows())
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 10_000 {
				t.Fatalf("only %d flows", len(want))
			}
			if len(got) != len(want) {
				t.Fatalf("got %d flows, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("flow %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
			if !reflect.DeepEqual(gst.Counts, wst.Counts) {
				t.Errorf("stats: got %+v, want %+v", gst.Counts, wst.Counts)
			}
		})
	}
}

// flowLine is a Flow with its names and line, and its shard.
type flowLine struct {
	F     Flow // its Names 0
	Names [4]string
	Raw   string
	Shard int
}

// lineOf returns the flowLine of f, whose names are names.
func lineOf(f Flow, names []string, raw string, shard int) flowLine {
	l := flowLine{Names: [4]string{names[f.Host], names[f.Set], names[f.Rule], names[f.Tag]}, Raw: raw, Shard: shard}
	f.Host, f.Set, f.Rule, f.Tag = 0, 0, 0, 0
	l.F = f
	return l
}

// flowLines returns the lines of b, read WithFlows and WithShards, shard by
// shard (their RawOff 0), checking that b holds no Events and that its
// Names hold "" at 0 and only there.
func flowLines(t *testing.T, b *Batch) []flowLine {
	t.Helper()
	if len(b.Events) != 0 {
		t.Errorf("WithFlows: %d events", len(b.Events))
	}
	if len(b.Names) == 0 || b.Names[0] != "" || slices.Contains(b.Names[1:], "") {
		t.Errorf("names %q: not \"\" at 0 and only there", b.Names)
	}
	var ls []flowLine
	for s, idx := range b.Shards {
		for _, i := range idx {
			f := b.Flows[i]
			raw := string(b.Data[f.RawOff : f.RawOff+f.RawLen])
			f.RawOff = 0
			ls = append(ls, lineOf(f, b.Names, raw, s))
		}
	}
	return ls
}

// TestSetFlow checks what a Flow keeps of an Event, vendor by vendor.
func TestSetFlow(t *testing.T) {
	p := NewParser()
	for _, bl := range []struct{ line, set, rule, tag, label string }{
		{"<134>2020-05-31T12:42:15.058679+00:00 RTP-POC007-1 flow-hitCount4: INFO:2020/05/31 12:42:06 [7847abb0-285b-4ff9-bb40-271df1a0c229] test [Destroy] SRC=10.55.7.26 DST=10.55.7.140 PROTO=UDP SPORT=45214 DPORT=10514 ACTION=ALLOW DIRECTION=OUTBOUND ORIG: PKTS=10 BYTES=1314 REPLY: PKTS=10 BYTES=4429",
			"7847abb0-285b-4ff9-bb40-271df1a0c229", "test", "", "test"},
		{"<13>1 2024-05-15T19:41:25.001Z esx05 FIREWALL-PKTLOG - - - INET TERM PASS 5096 OUT TCP RST 10.10.10.11/60517->10.10.10.10/443 9/8 1461/4677 DR-Allow",
			"", "5096", "DR-Allow", "DR-Allow"},
		{"2018-07-03T19:44:09.749Z b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW",
			"mainrs", "1024", "", "rule mainrs/1024"},
	} {
		var ev Event
		if b, err := p.Parse([]byte(bl.line), &ev); b != Parsed {
			t.Fatalf("%s: %v %v", bl.line, b, err)
		}
		var f Flow
		names := []string{"", "x"} // a table that holds names already
		if !ev.SetFlow(&f, 7, &names) {
			t.Fatalf("%s: no flow", bl.line)
		}
		checkFlow(t, bl.line, &ev, &f, names, bl.set, bl.rule, bl.tag, bl.label)
	}
	var f Flow
	var names []string
	if (&Event{}).SetFlow(&f, 0, &names) || len(names) != 0 {
		t.Errorf("an event without addresses has a flow (names %q)", names)
	}
}

// TestReadNUL checks that Read, which looks for NUL bytes once for its
// counts and the parser, still parses a line without them: as Parse does.
func TestReadNUL(t *testing.T) {
	in := "2018-07-03T19:44:09.749Z b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/491\x0053 SEW\n"
	var ports []uint16
	for _, flows := range []bool{false, true} {
		opts := []Option{}
		if flows {
			opts = append(opts, WithFlows())
		}
		st, err := Read(context.Background(), strings.NewReader(in), "nul", func(b *Batch) error {
			for i := range b.Events {
				ports = append(ports, b.Events[i].DPort)
			}
			for i := range b.Flows {
				ports = append(ports, b.Flows[i].DPort)
			}
			return nil
		}, opts...)
		if err != nil || st.NULLines != 1 || st.Events != 1 {
			t.Errorf("flows %v: %+v, %v", flows, st.Counts, err)
		}
	}
	if !slices.Equal(ports, []uint16{49153, 49153}) {
		t.Errorf("ports %v, want 49153 twice", ports)
	}
}

// checkFlow compares f, made from ev (line) with a RawOff of 7, to ev.
func checkFlow(t *testing.T, line string, ev *Event, f *Flow, names []string, set, rule, tag, label string) {
	t.Helper()
	if names[0] != "" {
		t.Errorf("%s: name 0 is %q", line, names[0])
	}
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"set", names[f.Set] == set}, {"rule", names[f.Rule] == rule}, {"tag", names[f.Tag] == tag},
		{"label", f.Label(names) == label}, {"event's label", f.Label(names) == ev.Label()},
		{"time", f.Time().Equal(ev.Time)}, {"ns", f.UnixNano() == ev.Time.UnixNano()}, {"time flag", f.Bits.Has(FlowTime)},
		{"counts", f.Counts == [4]uint64{ev.OrigPkts, ev.OrigBytes, ev.ReplyPkts, ev.ReplyBytes}},
		{"counters flag", f.Bits.Has(FlowCounters) == ev.HasCounters},
		{"src", f.Src == ev.Src.As16()}, {"dst", f.Dst == ev.Dst.As16()},
		{"sport", f.SPort == ev.SPort}, {"dport", f.DPort == ev.DPort}, {"host", names[f.Host] == ev.Host},
		{"raw offset", f.RawOff == 7}, {"raw length", int(f.RawLen) == len(ev.Raw)},
	} {
		if !c.ok {
			t.Errorf("%s: %s differs: flow %+v", line, c.what, f)
		}
	}
}

// TestFlowNames checks a parser's table of a batch's names through batches
// that repeat some names of the batch before, in another order, and a
// batch with more names than its map is kept for. Most names come in one
// string each, as the parser's interned ones do (found by their place),
// some in a string of their own, and some are the prefix of another at
// its place.
func TestFlowNames(t *testing.T) {
	var tb flowNames
	var list []string
	interned := make([]string, maxBatchNames+10)
	for j := range interned {
		interned[j] = fmt.Sprintf("name%d", j)
	}
	for batch, n := range []int{3, 5, maxBatchNames + 10, 4, 2} {
		tb.reset(&list)
		ids := map[string]Name{}
		for i := range 3 * n {
			j := (i*7 + batch) % n
			s := interned[j]
			switch i % 5 {
			case 0:
				s = ""
			case 1:
				s = fmt.Sprintf("name%d", j)
			case 2:
				s = s[:len(s)-1]
			}
			id := tb.id(s)
			if int(id) >= len(list) || list[id] != s {
				t.Fatalf("batch %d: %q got Name %d of %q", batch, s, id, list)
			}
			if old, ok := ids[s]; ok && old != id {
				t.Fatalf("batch %d: %q got Name %d, then %d", batch, s, old, id)
			}
			ids[s] = id
		}
		if list[0] != "" || len(list) != len(ids) {
			t.Fatalf("batch %d: %d names for %d strings: %q…", batch, len(list), len(ids), list[:min(len(list), 5)])
		}
	}
}
