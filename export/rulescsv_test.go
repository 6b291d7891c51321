package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
)

var (
	wbFirst = time.Date(2025, 4, 10, 10, 0, 0, 0, time.UTC)
	wbLast  = time.Date(2025, 4, 17, 18, 30, 5, 0, time.UTC)
)

// wbPrefixes parses addresses ("10.0.0.1") and prefixes ("10.9.9.0/24").
func wbPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		if strings.Contains(s, "/") {
			out[i] = netip.MustParsePrefix(s)
		} else {
			a := netip.MustParseAddr(s)
			out[i] = netip.PrefixFrom(a, a.BitLen())
		}
	}
	return out
}

// wbRuleSet is a rule set with the awkward cases: members, Any, ICMP
// without ports, unknown times, and texts with commas, quotes and newlines.
// Its table holds a review item's conversation and the third rule's two.
func wbRuleSet() rules.Set {
	table := analysistest.Table([]analysistest.Conversation{{
		Src: netip.MustParseAddr("192.0.2.66"), Dst: netip.MustParseAddr("10.0.2.7"), Proto: ingest.ProtoTCP,
		DPort: 23, Direction: ingest.DirInbound, Sessions: 40, Unanswered: 40, OrigPkts: 40, OrigBytes: 2400,
		Actions: []ingest.Action{ingest.ActionDrop}, First: wbFirst, Last: wbLast, Hosts: []string{"ahv-2"},
		Samples: []string{"probe line"}}, {DPort: 1}, {DPort: 2, Samples: []string{"  raw, line  \n"}}})
	many := wbPrefixes("10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5",
		"10.1.0.6", "10.1.0.7", "10.1.0.8", "10.1.0.9", "10.1.0.10")
	return rules.Set{
		Table: table,
		Rules: []rules.Rule{{
			ID: "r1", Direction: ingest.DirOutbound, Action: ingest.ActionAllow,
			Src: rules.Endpoint{Name: "AppTier:Web", Kind: rules.KindGroup, Group: "AppTier:Web"},
			Dst: rules.Endpoint{Name: "DNS servers", Kind: rules.KindAddresses,
				Prefixes: wbPrefixes("10.0.0.53", "fd00::53")},
			Service:     rules.Service{Proto: ingest.ProtoUDP, Ports: []rules.PortRange{{From: 53, To: 53}}, Name: "DNS"},
			Description: "Web tier → DNS (53/udp) — 12,431 sessions, 2025-04-10 → 2025-04-17",
			Evidence: rules.Evidence{Conversations: 12, Sessions: 12431, Packets: 24862, Bytes: 3456789,
				First: wbFirst, Last: wbLast, Hosts: []string{"ahv-1", "ahv-2"},
				Samples: []string{`<134>Apr 10 10:00:00 ahv-1 kernel: SRC=10.0.2.7 DST=10.0.0.53 "x"`}},
		}, {
			ID: "r2", Direction: ingest.DirInbound, Action: ingest.ActionAllow,
			Src:         rules.Endpoint{Name: "Any", Kind: rules.KindAny},
			Dst:         rules.Endpoint{Name: "10.9.9.0/24", Kind: rules.KindAddresses, Prefixes: wbPrefixes("10.9.9.0/24")},
			Service:     rules.Service{Proto: ingest.ProtoICMP},
			Description: "Monitoring, \"ping\"\nsecond line",
			Evidence:    rules.Evidence{Conversations: 1, Sessions: 3, Bytes: 252},
		}, {
			ID: "r3", Direction: ingest.DirIntra, Action: ingest.ActionAllow,
			Src: rules.Endpoint{Kind: rules.KindAddresses, Prefixes: many},
			Dst: rules.Endpoint{Name: "SGTSWEB", Kind: rules.KindGroup, Group: "SGTSWEB"},
			Service: rules.Service{Proto: ingest.ProtoTCP,
				Ports: []rules.PortRange{{From: 80, To: 80}, {From: 443, To: 443}, {From: 8000, To: 8080}}},
			Description: "=SUM(A1) stays text",
			Evidence: rules.Evidence{Sessions: 40, Bytes: 1 << 40, First: wbFirst, Last: wbFirst,
				Hosts: []string{"h1", "h2", "h3", "h4", "h5", "h6", "h7"},
				Rows:  []int32{1, 2}},
		}},
		Review:   []rules.ReviewItem{{Reason: "never answered (probable scan)", Row: 0}},
		Observed: 57, Permissiveness: 1200,
	}
}

// wbRuleRecords are the CSV records of wbRuleSet, header excluded.
var wbRuleRecords = [][]string{
	{"AppTier:Web", "DNS servers (10.0.0.53, fd00::53)", "UDP", "53",
		"Web tier → DNS (53/udp) — 12,431 sessions, 2025-04-10 → 2025-04-17",
		"OUTBOUND", "DNS", "ALLOW", "12431", "3456789", "2025-04-10T10:00:00Z", "2025-04-17T18:30:05Z",
		`12 conversations; hosts ahv-1, ahv-2; sample: <134>Apr 10 10:00:00 ahv-1 kernel: SRC=10.0.2.7 DST=10.0.0.53 "x"`, "", "r1"},
	{"Any", "10.9.9.0/24", "ICMP", "", "Monitoring, \"ping\"\nsecond line",
		"INBOUND", "", "ALLOW", "3", "252", "", "", "1 conversation", "", "r2"},
	{"10.1.0.1, 10.1.0.2, 10.1.0.3, 10.1.0.4, 10.1.0.5, 10.1.0.6, 10.1.0.7, 10.1.0.8 and 2 more", "SGTSWEB",
		"TCP", "80, 443, 8000-8080", "=SUM(A1) stays text", "INTRA", "", "ALLOW", "40", "1099511627776",
		"2025-04-10T10:00:00Z", "2025-04-10T10:00:00Z",
		"2 conversations; hosts h1, h2, h3, h4, h5 and 2 more; sample: raw, line", "", "r3"},
}

// wbConvs are conversations with tags in every direction, IPv6, a VM name
// with accents, an unknown time and a control character in a tag.
func wbConvs() []analysistest.Conversation {
	c := func(src, dst string, proto uint8, port uint16, dir ingest.Direction, sessions uint64, tags ...analysis.Tag) analysistest.Conversation {
		return analysistest.Conversation{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: proto,
			DPort: port, Direction: dir, Tags: tags, Sessions: sessions, OrigPkts: sessions, ReplyPkts: sessions,
			OrigBytes: 100 * sessions, ReplyBytes: 200 * sessions, First: wbFirst, Last: wbLast,
			Actions: []ingest.Action{ingest.ActionAllow}, Hosts: []string{"ahv-1", "ahv-2"}}
	}
	web := analysis.Tag{Name: "AppTier:Web", Direction: ingest.DirOutbound}
	out := []analysistest.Conversation{
		c("10.0.2.7", "10.0.0.53", ingest.ProtoUDP, 53, ingest.DirOutbound, 12431, web),
		c("10.0.2.8", "10.0.0.53", ingest.ProtoUDP, 53, ingest.DirOutbound, 9, web),
		c("192.0.2.1", "10.0.2.7", ingest.ProtoTCP, 443, ingest.DirInbound, 700,
			analysis.Tag{Name: "AppTier:Web", Direction: ingest.DirInbound}),
		c("10.0.2.7", "10.0.3.9", ingest.ProtoTCP, 5432, ingest.DirIntra, 300,
			analysis.Tag{Name: "AppTier:DB", Direction: ingest.DirIntra}, analysis.Tag{Name: "bad\x01tag", Direction: ingest.DirUnknown}),
		c("fd00::7", "fd00::1", ingest.ProtoICMPv6, 128, ingest.DirUnknown, 5),
	}
	vms := map[string]string{"10.0.2.7": "web-01 (Zürich)", "10.0.0.53": "dns-01"} // the inventory: one name an address
	for i := range out {
		out[i].SrcVM, out[i].DstVM = vms[out[i].Src.String()], vms[out[i].Dst.String()]
	}
	out[4].First, out[4].Last = time.Time{}, time.Time{}
	return out
}

func wbSources() []export.Source {
	return []export.Source{
		{Path: "/logs/ahv-1/messages", Size: 1 << 30, Lines: 4_000_000, Events: 3_900_000, Skipped: 99_000,
			Unsupported: 900, Malformed: 100, Imported: wbLast,
			MalformedSamples: []string{"messages:17: no payload", "messages:99: bad tuple <x>"}},
		{Path: `C:\logs\nsx, "edge".log`, Size: 42, Lines: 1, Events: 1},
	}
}

// wbManyConvs makes n conversations that share their slices, as a large
// import's would share their hosts and tags.
func wbManyConvs(n int) []analysistest.Conversation {
	tags := [][]analysis.Tag{nil, {{Name: "AppTier:Web", Direction: ingest.DirOutbound}},
		{{Name: "AppTier:DB", Direction: ingest.DirInbound}, {Name: "PCI", Direction: ingest.DirIntra}}}
	hosts, actions := []string{"ahv-1", "ahv-2"}, []ingest.Action{ingest.ActionAllow}
	ports := []uint16{53, 80, 443, 22, 3389, 5432, 8443, 123, 389, 445, 1521, 9092}
	out := make([]analysistest.Conversation, n)
	for i := range out {
		out[i] = analysistest.Conversation{
			Src:   netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}),
			Dst:   netip.AddrFrom4([4]byte{10, 200, byte(i >> 4), byte(i % 7)}),
			Proto: ingest.ProtoTCP, DPort: ports[i%len(ports)], Direction: ingest.Direction(1 + i%3),
			Tags: tags[i%3], Actions: actions, Hosts: hosts, Sessions: uint64(i%97 + 1),
			OrigPkts: 10, ReplyPkts: 9, OrigBytes: 1200, ReplyBytes: 64000,
			First: wbFirst.Add(time.Duration(i) * time.Second), Last: wbLast,
		}
	}
	return out
}

// wbManyRules makes n rules over the rows of t.
func wbManyRules(t *analysis.Table, n int) []rules.Rule {
	out := make([]rules.Rule, n)
	per := t.Len() / n
	all := t.All()
	for i := range out {
		flows := all[i*per : (i+1)*per]
		out[i] = rules.Rule{
			Direction: ingest.DirOutbound, Action: ingest.ActionAllow,
			Src:         rules.Endpoint{Name: fmt.Sprintf("Group %d", i), Kind: rules.KindGroup},
			Dst:         rules.Endpoint{Name: "DNS", Kind: rules.KindAddresses, Prefixes: wbPrefixes("10.0.0.53", "10.0.1.53")},
			Service:     rules.Service{Proto: ingest.ProtoUDP, Ports: []rules.PortRange{{From: 53, To: 53}}, Name: "DNS"},
			Description: fmt.Sprintf("Group %d → DNS (53/udp)", i),
			Evidence: rules.Evidence{Conversations: per, Sessions: 1000, Bytes: 1 << 20, First: wbFirst, Last: wbLast,
				Hosts: []string{"ahv-1"}, Samples: []string{"<134>Apr 10 10:00:00 ahv-1 kernel: a raw line"}, Rows: flows},
		}
	}
	return out
}

func TestWriteRulesCSV(t *testing.T) {
	var b bytes.Buffer
	if err := export.WriteRulesCSV(&b, wbRuleSet()); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.SplitN(b.String(), "\r\n", 2)[0],
		"Source,Destination,Protocol,Destination Port,Description,Direction,Service,Action,Sessions,Bytes,First seen,Last seen,Evidence,Name,Rule ID"; got != want {
		t.Errorf("header line:\ngot  %s\nwant %s", got, want)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("not valid CSV: %v\n%s", err, b.String())
	}
	if !slices.Equal(recs[0], export.RuleSheetColumns) {
		t.Errorf("header: got %q", recs[0])
	}
	if len(recs)-1 != len(wbRuleRecords) {
		t.Fatalf("got %d records, want %d", len(recs)-1, len(wbRuleRecords))
	}
	for i, want := range wbRuleRecords {
		want = export.Defuse(slices.Clone(want)) // the CSV defuses formula-like text
		for j := range want {
			if got := recs[i+1][j]; got != want[j] {
				t.Errorf("rule %d, %s: got %q, want %q", i+1, export.RuleSheetColumns[j], got, want[j])
			}
		}
	}
}

func TestWriteRulesCSVQuoting(t *testing.T) {
	tests := []struct {
		Name, Description, Want string
	}{
		{"plain", "Web to DNS", "Web to DNS"},
		{"comma", "a, b", `"a, b"`},
		{"quote", `say "hi"`, `"say ""hi"""`},
		{"newline", "one\ntwo", "\"one\r\ntwo\""}, // RFC 4180: CRLF, inside quotes too
		{"formula", "=cmd|' /C calc'!A0", `'=cmd|' /C calc'!A0`},
		{"at sign", "@SUM(1)", "'@SUM(1)"},
		{"leading space", " lead", `" lead"`},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			rs := rules.Set{Rules: []rules.Rule{{Description: tc.Description}}}
			var b bytes.Buffer
			if err := export.WriteRulesCSV(&b, rs); err != nil {
				t.Fatal(err)
			}
			line := strings.SplitN(b.String(), "\r\n", 2)[1]
			if !strings.Contains(line, ","+tc.Want+",") {
				t.Errorf("got %q, want the field %s", line, tc.Want)
			}
			recs, err := csv.NewReader(&b).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(recs[1][4], "'"); got != tc.Description {
				t.Errorf("read back %q, want %q", got, tc.Description)
			}
		})
	}
}

// wbFailingWriter fails once it has taken n bytes.
type wbFailingWriter struct{ n int }

var errWBBoom = errors.New("disk full")

func (w *wbFailingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errWBBoom
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteRulesCSVFailingWriter(t *testing.T) {
	err := export.WriteRulesCSV(&wbFailingWriter{n: 10}, wbRuleSet())
	if !errors.Is(err, errWBBoom) {
		t.Errorf("got %v, want %v", err, errWBBoom)
	}
}

func ExampleWriteRulesCSV() {
	rs := rules.Set{Rules: []rules.Rule{{
		Direction: ingest.DirOutbound, Action: ingest.ActionAllow,
		Src:         rules.Endpoint{Name: "AppTier:Web", Kind: rules.KindGroup},
		Dst:         rules.Endpoint{Name: "DNS", Kind: rules.KindAddresses, Prefixes: wbPrefixes("10.0.0.53")},
		Service:     rules.Service{Proto: ingest.ProtoUDP, Ports: []rules.PortRange{{From: 53, To: 53}}, Name: "DNS"},
		Description: "Web tier → DNS, 2 sessions", Name: "Web to DNS", ID: "r-1e6fa5513a",
		Evidence: rules.Evidence{Conversations: 1, Sessions: 2, Bytes: 300, Hosts: []string{"ahv-1"}},
	}}}
	var out strings.Builder
	if err := export.WriteRulesCSV(&out, rs); err != nil {
		panic(err)
	}
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n")) // lines end with CRLF (RFC 4180)
	// Output:
	// Source,Destination,Protocol,Destination Port,Description,Direction,Service,Action,Sessions,Bytes,First seen,Last seen,Evidence,Name,Rule ID
	// AppTier:Web,DNS (10.0.0.53),UDP,53,"Web tier → DNS, 2 sessions",OUTBOUND,DNS,ALLOW,2,300,,,1 conversation; hosts ahv-1,Web to DNS,r-1e6fa5513a
}

// TestRulesCSVMatchesLibreOffice has LibreOffice, an independent reader,
// convert every sheet of the workbook to CSV: the Rules sheet must say what
// WriteRulesCSV says, dates aside (the sheet shows them in its format).
// It is skipped when soffice is not installed.
func TestRulesCSVMatchesLibreOffice(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil || testing.Short() {
		t.Skip("soffice not installed (apt-get install libreoffice-calc-nogui)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wb.xlsx"), wbWrite(t, false), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Token 12 of the filter options, -1, writes every sheet to wb-<sheet>.csv.
	cmd := exec.CommandContext(ctx, soffice, "--headless", "-env:UserInstallation=file://"+filepath.ToSlash(dir)+"/profile",
		"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
		"--outdir", dir, filepath.Join(dir, "wb.xlsx"))
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	read := func(sheet string) [][]string {
		data, err := os.ReadFile(filepath.Join(dir, "wb-"+sheet+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", sheet, err)
		}
		return recs
	}
	for _, sh := range wbSheets {
		if got := read(sh)[0]; !slices.Equal(got[:len(wbHeaders[sh])], wbHeaders[sh]) {
			t.Errorf("%s header: got %q", sh, got)
		}
	}
	var b bytes.Buffer
	if err := export.WriteRulesCSV(&b, wbRuleSet()); err != nil {
		t.Fatal(err)
	}
	want, _ := csv.NewReader(&b).ReadAll()
	got := read("Rules")
	if len(got) != len(want) {
		t.Fatalf("Rules: got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		for j, w := range want[i] {
			if i > 0 && (j == 10 || j == 11) { // First seen, Last seen
				w = strings.ReplaceAll(strings.TrimSuffix(w, "Z"), "T", " ")
			}
			if strings.HasPrefix(w, "'") && got[i][j] == w[1:] {
				continue // defused in the CSV only: the workbook cell is plain text, never a formula
			}
			if got[i][j] != w {
				t.Errorf("Rules row %d %s: got %q, want %q", i+1, want[0][j], got[i][j], w)
			}
		}
	}
	if got := read("Flows")[1][6]; got != "12431" {
		t.Errorf("Flows G2: got %q, want 12431", got)
	}
}

func TestWriteReviewCSV(t *testing.T) {
	convs := wbConvs()
	rs := rules.Set{Table: analysistest.Table(convs), Review: []rules.ReviewItem{{Row: 0, Reason: "never answered"}},
		Outside: []rules.ReviewItem{{Row: int32(len(convs) - 1), Reason: rules.OutsideReason}}}
	var b bytes.Buffer
	if err := export.WriteReviewCSV(&b, rs); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 3 || !slices.Equal(recs[0], export.ReviewColumns) {
		t.Fatalf("%v: %q", err, recs)
	}
	if recs[1][0] != "never answered" || recs[2][0] != rules.OutsideReason || recs[2][2] != convs[len(convs)-1].Src.String() {
		t.Errorf("records %q", recs[1:])
	}
}
