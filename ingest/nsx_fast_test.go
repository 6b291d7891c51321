package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fastNSXCases are payloads from the address family word on, with whether
// the fast path reads them; the general reader must agree with it on every
// one it reads.
var fastNSXCases = []struct {
	payload string
	fast    bool
}{
	{"INET match PASS 4100 IN 60 TCP 100.64.0.1/1024->10.60.10.1/443 S SG-WEB-FRONTEND", true},
	{"INET match PASS 4100 OUT 94 UDP 10.60.10.73/1024->10.1.0.10/53 SG-WEB-FRONTEND", true},
	{"INET TERM PASS 4100 IN TCP FIN 100.64.18.123/1024->10.60.10.76/443 9/3 8156/1762 SG-WEB-FRONTEND", true},
	{"INET match PASS 4100 IN 84 ICMP 10.1.0.13->10.60.10.3 SG-WEB-FRONTEND", true},
	{"INET match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17", true},
	{"INET TERM PASS 5096 OUT TCP RST 10.10.10.11/60517->10.10.10.10/443 9/8 1461/4677 DR-Allow", true},
	{"INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW", true},
	{"INET match DROP domain-c7/1002 IN 242 UDP 192.168.110.10/138->192.168.110.255/138", true},
	{"INET TERM PASS domain-c1/1001 IN TCP TIMEOUT 10.1.2.3/33491->10.4.5.6/10001 22/14 7684/1070", true},
	{"INET match REJECT 8225 OUT 73 UDP 10.10.10.10/42017->20.20.20.20/53 SZ-TRF_CATCH_ALL1111_TFRC6-6_Server_B", true},
	{"INET match PASS 1005 OUT 60 TCP 1.1.1.10/45120->91.189.92.38/443 S", true},
	{"INET TERM PASS 1005 OUT TCP 1.1.1.10/45120->91.189.92.38/443", true},
	{"INET match PASS /7 IN TCP 1.1.1.10/0045120->91.189.92.38/443 SA  two  words  ", true},
	{"INET match PASS 7 IN TCP 1.1.1.10->91.189.92.38/443 12/3 4/5", true},
	{"INET match PASS 7 IN 1048576 ICMP 1.1.1.10/1->91.189.92.38/2", true},
	{"INET match DROP 7 IN UDP 0.0.0.0/65535->255.255.255.255/0 1/2 3/x", false},
	{"INET TERM PASS 7 IN TCP FIN 1.1.1.10/1->2.2.2.2/2 9/3", false},
	// Left to the general reader: IPv6, no action, PROTO n, an ICMP type
	// and code, odd spacing, bad or missing values.
	{"INET6 match DROP mainrs/1027 OUT 143 UDP fe80:0:0:0:68c2:8472:2364:9be/546->ff02:0:0:0:0:0:1:2/547", false},
	{"INET match DROP mainrs/1027 IN 36 PROTO 2 0.0.0.0->224.0.0.1", false},
	{"INET TERM 24642815 IN UDP 10.23.150.100/53408->10.123.70.101/53 1/1 72/103", false},
	{"INET match PASS 7 IN 84 ICMP 8 0 1.1.1.10->2.2.2.2", false},
	{"INET match PASS 7 IN 84 ICMP FE80::1->FE80::2", false},
	{"INET match PASS 7 IN 60 TCP 1.1.1.10/1->2.2.2.2", false},
	{"INET match PASS 7 IN 60 TCP 1.1.1.10/1->2.2.2.2/70000", false},
	{"INET match PASS 7 IN 60 TCP 1.1.1.010/1->2.2.2.2/7", false},
	{"INET match PASS 7 IN 60 TCP 1.1.1.1/1->2.2.2.2/7\tTAG", false},
	{"INET match PASS 7 IN 60 TCP 1.1.1.1/1/2->2.2.2.2/7", false},
	{"INET match PASS 7 IN 60 TCP 1.1.1.1/1->2.2.2.2/7->3.3.3.3/8", false},
	{"INET match PASS 7 IN 60x TCP 1.1.1.1/1->2.2.2.2/7", false},
	{"INET match PASS 7 IN 1048577 TCP 1.1.1.1/1->2.2.2.2/7", false},
	{"INET match PASS 7 IN 60 tcp 1.1.1.1/1->2.2.2.2/7", false},
	{"INET match PASS 7 IN 60 TCP SYN 1.1.1.1/1->2.2.2.2/7", false},
	{"INET match PASS 7x IN 60 TCP 1.1.1.1/1->2.2.2.2/7", false},
	{"INET match PASS 7 SIDEWAYS 60 TCP 1.1.1.1/1->2.2.2.2/7", false},
	{"INET match SHRUG 7 IN 60 TCP 1.1.1.1/1->2.2.2.2/7", false},
	{"INET match  PASS 7 IN 60 TCP 1.1.1.1/1->2.2.2.2/7", false},
	{"INET reason-match PASS 1005 OUT 60 TCP 1.1.1.10/45120->91.189.92.38/443 S", false},
	{"INET match PASS 7 IN", false},
	{"INET match PASS 7 IN 60 TCP 1.1.1.1/00000000000000000001->2.2.2.2/7", false},
}

// TestNSXFastPath checks which shapes the fast path reads, and that it
// reads them as the general reader does.
func TestNSXFastPath(t *testing.T) {
	for _, c := range fastNSXCases {
		p := NewParser()
		var ev Event
		if got := p.fastNSX([]byte(c.payload), &ev); got != c.fast {
			t.Errorf("%q: fast path %v, want %v", c.payload, got, c.fast)
		}
		if !c.fast && !reflect.DeepEqual(ev, Event{}) {
			t.Errorf("%q: the fast path gave up but wrote %+v", c.payload, ev)
		}
		if c.fast {
			sameAsNSXWords(t, p, c.payload, &ev)
		}
	}
}

// TestNSXFastPathReadsTheSamples checks that the fast path reads most of
// the IPv4 lines of the reference samples (they are what ESXi writes), so
// that it cannot quietly stop being the path lines take.
func TestNSXFastPathReadsTheSamples(t *testing.T) {
	var fast, inet int
	for _, payload := range samplePayloads(t) {
		if !strings.HasPrefix(payload, "INET ") {
			continue
		}
		inet++
		p := NewParser()
		var ev Event
		if p.fastNSX([]byte(payload), &ev) {
			fast++
			sameAsNSXWords(t, p, payload, &ev)
		}
	}
	if inet == 0 || fast*10 < inet*8 {
		t.Fatalf("the fast path read %d of the samples' %d IPv4 payloads, want at least 80%%", fast, inet)
	}
}

// samplePayloads returns the NSX payloads (from the INET word on) of the
// lines in testdata/samples.
func samplePayloads(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/samples/nsx*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no NSX samples: %v", err)
	}
	var out []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Bytes()
			if _, inet := findNSX(line); inet >= 0 {
				out = append(out, string(line[inet:]))
			}
		}
		f.Close()
	}
	return out
}

// sameAsNSXWords checks that the general reader reads payload without
// error into the event fast read.
func sameAsNSXWords(t *testing.T, p *Parser, payload string, fast *Event) {
	t.Helper()
	var ev Event
	if b, err := p.nsxWords([]byte(payload), 0, &ev); b != Parsed || err != nil {
		t.Fatalf("%q: the fast path read it, the general reader says %v %v", payload, b, err)
	}
	if !reflect.DeepEqual(*fast, ev) {
		t.Fatalf("%q:\nfast    %+v\ngeneral %+v", payload, *fast, ev)
	}
}

// FuzzNSXFast checks that wherever the fast path reads a payload, the
// general reader reads the same event from it, and that where it gives up
// it leaves the event alone.
func FuzzNSXFast(f *testing.F) {
	for _, c := range fastNSXCases {
		f.Add([]byte(c.payload))
	}
	for _, s := range samplePayloads(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 || strings.ContainsAny(string(b), "\n\r") {
			return
		}
		p := NewParser()
		var ev Event
		if p.fastNSX(b, &ev) {
			sameAsNSXWords(t, p, string(b), &ev)
		} else if !reflect.DeepEqual(ev, Event{}) {
			t.Fatalf("%q: the fast path gave up but wrote %+v", b, ev)
		}
	})
}

// FuzzNSXFirst checks that a line reads the same after an NSX line, when
// the parser looks for an NSX payload first (nsxFirst), as after any other
// line: the same bucket, error and event. Seeded with every sample line,
// and with each also holding the Nutanix anchor in its tag or its header.
func FuzzNSXFirst(f *testing.F) {
	files, err := filepath.Glob("testdata/samples/*.log")
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for line := range strings.Lines(string(data)) {
			line = strings.TrimRight(line, "\r\n")
			f.Add([]byte(line))
			f.Add([]byte(line + " x] SRC=10.0.0.1"))
			f.Add([]byte(line + " INFO:2025/04/10 10:11:55 [a] SRC=10.0.0.1 DST=10.0.0.2"))
			if i := strings.Index(line, "INET"); i > 0 {
				f.Add([]byte(line[:i] + "INFO:2025/04/10 10:11:55 [a] SRC=1 " + line[i:]))
			}
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > 4096 || strings.ContainsAny(string(line), "\n\r") {
			return
		}
		var want, got Event
		wb, werr := NewParser().payload(line, &want)
		p := NewParser()
		p.nsxLast = true
		gb, gerr := p.payload(line, &got)
		if wb != gb || !errors.Is(gerr, werr) && fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q after an NSX line: %v %v %+v; after another: %v %v %+v", line, gb, gerr, got, wb, werr, want)
		}
	})
}

// FuzzNSXFlow checks that a line read straight into a Flow after an NSX
// line (nsxFlow) gives the Flow, names and counts that the Event's way
// gives (parse, then SetFlow). Seeded with consecutive sample lines and
// lines of the bench corpus's shape.
func FuzzNSXFlow(f *testing.F) {
	corpus := []string{
		"<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: 5a05ebbf INET match PASS 4100 IN 60 TCP 100.64.0.1/1024->10.60.10.1/443 S SG-WEB-FRONTEND",
		"<14>2025-06-02T06:00:00.107Z esxi-prod-01 FIREWALL_PKTLOG: 5a06299d INET match PASS 4100 OUT 94 UDP 10.60.10.73/1024->10.1.0.10/53 SG-WEB-FRONTEND",
		"<14>2025-06-02T17:26:22.179Z esxi-prod-10 FIREWALL_PKTLOG: 5a06866a INET TERM PASS 4101 OUT UDP 10.60.11.166/1328->10.1.0.10/53 3/3 186/861 SG-APP-SERVICES",
		"<14>2025-06-02T21:11:38.352Z esxi-prod-01 FIREWALL_PKTLOG: 5a06488c INET TERM PASS 4102 IN TCP FIN 10.60.11.155/1053->10.60.12.224/5432 27/49 1745/70973 SG-DATABASE\r",
		"<14>2025-06-02T21:11:38Z esxi-prod-01 dfwpktlogs: INET match DROP domain-c7/1002 IN 242 UDP 192.168.110.10/138->192.168.110.255/138",
		"<14>1999-06-02T21:11:38.352Z esxi-prod-01 FIREWALL_PKTLOG: INET match PASS 4100 IN 60 ICMP 10.0.0.1->10.0.0.2",
	}
	for i := range corpus {
		f.Add([]byte(corpus[0]), []byte(corpus[i]))
	}
	addSamplePairs(f, "nsx")
	f.Fuzz(sameFlowEitherWay)
}

// sameFlowEitherWay is sameFlowsWith for two lines and no options, for
// the fuzzers.
func sameFlowEitherWay(t *testing.T, first, second []byte) { sameFlowsWith(t, nil, first, second) }

// sameFlowsWith checks that a chunk of lines, parsed as Read parses it
// (straightFlow), gives the counts and Flows that parsing each into an
// Event does (eventWay), with parsers made with opts (and WithFlows).
func sameFlowsWith(t *testing.T, opts []Option, lines ...[]byte) {
	n := 0
	for _, l := range lines {
		if n += len(l); n > 4096 || bytes.ContainsAny(l, "\n\x00") {
			return
		}
	}
	opts = append([]Option{WithFlows()}, opts...)
	want, wantFlows, wantNames := eventWay(lines, opts)
	pd := NewParser(opts...)
	c := &chunk{data: append(bytes.Join(lines, []byte("\n")), '\n')}
	pd.parseChunk(c, "x")
	got := c.batch
	if got.Stats.Events != want.Events || got.Stats.Vendors != want.Vendors || got.Stats.Malformed != want.Malformed {
		t.Fatalf("%q: counts %+v, want %+v", lines, got.Stats.Counts, want.Counts)
	}
	if len(got.Flows) != len(wantFlows) {
		t.Fatalf("%q: %d Flows, want %d", lines, len(got.Flows), len(wantFlows))
	}
	for i := range wantFlows {
		g, gn := namedFlow(got.Flows[i], got.Names)
		w, wn := namedFlow(wantFlows[i], wantNames)
		if g != w || gn != wn {
			t.Fatalf("%q, Flow %d:\n got %+v %q\nwant %+v %q", lines, i, g, gn, w, wn)
		}
	}
}

// eventWay reads lines into Events, one after the other with one parser
// made with opts, and each Parsed one's into a Flow (SetFlow): their
// counts, and the Flows and their names.
func eventWay(lines [][]byte, opts []Option) (Stats, []Flow, []string) {
	p := NewParser(opts...)
	var ev Event
	var st Stats
	var flows []Flow
	var names []string
	off := 0
	for _, l := range lines {
		b, err := p.parse(l, &ev, false)
		st.count(b, ev.Vendor, err)
		var f Flow
		if b == Parsed && ev.SetFlow(&f, uint32(off), &names) {
			flows = append(flows, f)
		}
		off += len(l) + 1
	}
	return st, flows, names
}

// addSamplePairs adds each pair of consecutive lines of the samples of a
// vendor (the start of their file names).
func addSamplePairs(f *testing.F, vendor string) {
	files, _ := filepath.Glob("testdata/samples/" + vendor + "*.log")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		for i := 1; i < len(lines); i++ {
			f.Add([]byte(lines[i-1]), []byte(lines[i]))
		}
	}
}

// namedFlow returns f without its Names, and their strings in names.
func namedFlow(f Flow, names []string) (Flow, [4]string) {
	var out [4]string
	for i, n := range []Name{f.Host, f.Set, f.Rule, f.Tag} {
		if n != 0 {
			out[i] = names[n]
		}
	}
	f.Host, f.Set, f.Rule, f.Tag = 0, 0, 0, 0
	return f, out
}
