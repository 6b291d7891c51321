package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest"
)

func TestWriteFlowsCSVQuoting(t *testing.T) {
	c := analysistest.Conversation{
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("fe80::1"), Proto: ingest.ProtoUDP, DPort: 53,
		Direction: ingest.DirOutbound,
		Tags:      []analysis.Tag{{Name: `App, "Tier" 1`}, {Name: "Web"}},
		Actions:   []ingest.Action{ingest.ActionMonitor, ingest.ActionAllow},
		Sessions:  2, OrigPkts: 3, ReplyPkts: 4, OrigBytes: 100, ReplyBytes: 200,
		First: time.Date(2025, 4, 10, 10, 0, 0, 999e6, time.UTC), Last: time.Date(2025, 4, 10, 11, 0, 0, 0, time.UTC),
		Hosts: []string{"ahv-1", "ahv-2"},
	}
	var b bytes.Buffer
	if err := flowsOf(WriteFlowsCSV, &b, []analysistest.Conversation{c, {Src: c.Src, Dst: c.Dst, Direction: c.Direction}}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("not valid CSV: %v\n%s", err, b.String())
	}
	want := []string{"OUTBOUND", `App, "Tier" 1;Web`, "10.0.0.1", "fe80::1", "UDP", "53", "2", "7", "300",
		"2025-04-10T10:00:00Z", "2025-04-10T11:00:00Z", "ALLOW;MONITOR", "ahv-1;ahv-2"}
	if len(recs) != 3 || len(recs[0]) != len(FlowColumns) {
		t.Fatalf("got %d records: %q", len(recs), recs)
	}
	for i := range want {
		if recs[1][i] != want[i] {
			t.Errorf("column %s: got %q, want %q", FlowColumns[i], recs[1][i], want[i])
		}
	}
	if recs[2][9] != "" || recs[2][10] != "" {
		t.Errorf("unknown times must be empty, got %q %q", recs[2][9], recs[2][10])
	}
}

func TestWriteFlowsJSONValid(t *testing.T) {
	var b bytes.Buffer
	if err := flowsOf(WriteFlowsJSON, &b, []analysistest.Conversation{{Src: netip.MustParseAddr("10.0.0.1"),
		Dst: netip.MustParseAddr("10.0.0.2"), Sessions: 1, Unanswered: 1}}); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[0]["suspect"] != true || got[0]["hosts"] == nil || got[0]["tags"] == nil {
		t.Errorf("got %v", got[0])
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 1 << 60: "1.0 EiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestWriteFlowsCSVDefusesFormulas: policy names and host names come from
// untrusted logs; one shaped like a formula must reach a spreadsheet as text.
func TestWriteFlowsCSVDefusesFormulas(t *testing.T) {
	c := analysistest.Conversation{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		Proto: ingest.ProtoTCP, DPort: 443, Tags: []analysis.Tag{{Name: `=HYPERLINK("http://x","y")`}},
		Hosts: []string{"+host"}}
	var b bytes.Buffer
	if err := flowsOf(WriteFlowsCSV, &b, []analysistest.Conversation{c}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "\r\n") || strings.Count(b.String(), "\r\n") != 2 {
		t.Errorf("lines must end with CRLF: %q", b.String())
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[1][1]; got != `'=HYPERLINK("http://x","y")` {
		t.Errorf("tags: %q", got)
	}
	if got := recs[1][12]; got != "'+host" {
		t.Errorf("hosts: %q", got)
	}
	if got := recs[1][2]; got != "10.0.0.1" {
		t.Errorf("addresses must be untouched: %q", got)
	}
}

// flowsOf writes conversations with a flows writer, as a table of them.
func flowsOf(write func(io.Writer, *analysis.Table, []int32) error, w io.Writer, convs []analysistest.Conversation) error {
	t := analysistest.Table(convs)
	return write(w, t, t.All())
}

// csvWriterField is what NewCSVWriter writes of Defuse's f as a record's
// only field, without the line end.
func csvWriterField(f string) string {
	var b bytes.Buffer
	cw := NewCSVWriter(&b)
	cw.Write(Defuse([]string{f}))
	cw.Flush()
	return strings.TrimSuffix(b.String(), "\r\n")
}

var csvFields = []string{"", "web", "=cmd", "+1", "-1", "@x", "\tt", "\rr", `a "b", c`, "x\ny", "x\r\ny", " lead",
	"\u00a0nbsp", "\u2003em", `\.`, `\.x`, "a,b", `"`, "é", "\xff", "fe80::1%eth0", "2025-04-10T10:00:00Z", "'quoted"}

// TestAppendCSVField: a field is appended as NewCSVWriter writes it once
// defused.
func TestAppendCSVField(t *testing.T) {
	for _, f := range csvFields {
		if got, want := string(appendCSVField(nil, f)), csvWriterField(f); got != want {
			t.Errorf("%q: got %q, want %q", f, got, want)
		}
		if got, want := string(appendCSVField([]byte("x,"), []byte(f))), "x,"+csvWriterField(f); got != want {
			t.Errorf("%q as bytes: got %q, want %q", f, got, want)
		}
	}
}

func FuzzAppendCSVField(f *testing.F) {
	for _, s := range csvFields {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendCSVField(nil, s)), csvWriterField(s); got != want {
			t.Errorf("%q: got %q, want %q", s, got, want)
		}
	})
}

// TestWriteFlowsCSVAsCSVWriter: WriteFlowsCSV writes the bytes of a
// csv.Writer given Defuse(flowRecord) of each row, in the order asked, and a
// failing writer's error comes back.
func TestWriteFlowsCSVAsCSVWriter(t *testing.T) {
	convs := make([]analysistest.Conversation, 3000)
	for i := range convs {
		f := csvFields[i%len(csvFields)]
		convs[i] = analysistest.Conversation{
			Src:   netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
			Dst:   netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 14: byte(i >> 8), 15: byte(i)}),
			Proto: uint8(i % 60), DPort: uint16(i), Direction: ingest.Direction(i % 4), Sessions: uint64(i), OrigPkts: 3,
			ReplyBytes: uint64(i) << 40, Tags: []analysis.Tag{{Name: f}, {Name: "web"}}[:i%3],
			Actions: []ingest.Action{ingest.ActionMonitor, ingest.ActionAllow, ingest.ActionDrop}[:i%4],
			Hosts:   []string{f, "ahv-1"}[:i%3],
		}
		if i%5 != 0 {
			convs[i].First = time.Date(2025, 4, 10, 10, 0, i%60, 999e6, time.UTC)
			convs[i].Last = time.Date(2025, 4, 10, 11, 0, 0, 0, time.FixedZone("x", 3600))
		}
	}
	tab := analysistest.Table(convs)
	rows := tab.All()
	slices.Reverse(rows[100:]) // not the table's order
	var want bytes.Buffer
	cw := NewCSVWriter(&want)
	cw.Write(FlowColumns)
	for _, i := range rows {
		cw.Write(Defuse(flowRecord(tab, int(i))))
	}
	cw.Flush()
	var got bytes.Buffer
	if err := WriteFlowsCSV(&got, tab, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		g, w := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("line %d: got %q, want %q", i+1, g[i], w[i])
			}
		}
		t.Fatalf("%d bytes, want %d", got.Len(), want.Len())
	}
	if err := WriteFlowsCSV(&failingWriter{left: want.Len() / 2}, tab, rows); err == nil {
		t.Error("a failing writer's error was lost")
	}
}

type failingWriter struct{ left int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if len(b) > w.left {
		return 0, io.ErrShortWrite
	}
	w.left -= len(b)
	return len(b), nil
}
