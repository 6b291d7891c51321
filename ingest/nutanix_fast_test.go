package ingest

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
)

// fastFieldCases are field texts (after "] ") with whether the fast path
// reads them; the general reader must agree with it on every one.
var fastFieldCases = []struct {
	fields string
	fast   bool
}{
	{"SRC=10.55.7.26 DST=10.55.7.140 PROTO=UDP SPORT=45214 DPORT=10514 ACTION=ALLOW DIRECTION=OUTBOUND ORIG: PKTS=10 BYTES=1314 REPLY: PKTS=10 BYTES=4429", true},
	{"SRC=10.48.53.216 DST=10.48.53.215 PROTO=TCP SPORT=55626 DPORT=3306 ACTION=ALLOW DIRECTION=OUTBOUND ORIG: PKTS=6 BYTES=480 REPLY: PKTS=4 BYTES=1148 DESCRIPTION=R4 (App to DB)", true},
	{"SRC=10.55.7.26 DST=10.55.7.140 PROTO=UDP SPORT=45214 DPORT=10514", true},
	{"SRC=192.0.2.10 DST=192.0.2.20 PROTO=TCP SPORT=22 DPORT=40726 ACTION=DROP ORIG: PKTS=9 BYTES=468 REPLY: PKTS=0 BYTES=0", true},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=1 SPORT=0 DPORT=0 ACTION=MONITOR DIRECTION=INBOUND DESCRIPTION=  padded  ", true},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 ACTION=ALLOW DIRECTION=INBOUND DESCRIPTION=", true},
	{"SRC=0.0.0.0 DST=255.255.255.255 PROTO=tcp SPORT=0443 DPORT=65535 ORIG: PKTS=9999999999999999999 BYTES=0 REPLY: PKTS=1 BYTES=18446744073709551", true},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=UDPLITE SPORT=1 DPORT=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=17 SPORT=1 DPORT=2", true},
	// Left to the general reader: extras, other orders, IPv6, odd spacing,
	// missing or bad values, counters cut short.
	{"SRC=fd00::1 DST=fd00::2 PROTO=TCP SPORT=1 DPORT=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP DPORT=2 SPORT=1", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=ICMP TYPE=8 CODE=0", false},
	{"SRC=10.0.0.1  DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 ", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 ACTION=SHRUG", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 DIRECTION=SIDEWAYS", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 ORIG: PKTS=1 BYTES=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 ORIG: PKTS=1 BYTES=x REPLY: PKTS=1 BYTES=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 VLAN=12", false},
	{"SRC=10.0.0.01 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=65536", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP\tSPORT=1 DPORT=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 ORIG: PKTS=10000000000000000000 BYTES=0 REPLY: PKTS=1 BYTES=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 ORIG: PKTS=1 BYTES=2 REPLY: PKTS= BYTES=2", false},
	{"SRC=10.0.0.1000 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2", false},
	{"SRC=10.0.0.256 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2", false},
	{"SRC=10.0.0 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2", false},
	{"SRC=10.0.0.1.5 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2", false},
	{"SRC=10.0.0.1x DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1x DPORT=2", false},
	{"SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=-1 DPORT=2", false},
}

// TestNutanixFastPath checks which shapes the fast path reads, and that it
// reads them as the general reader does.
func TestNutanixFastPath(t *testing.T) {
	for _, c := range fastFieldCases {
		p := NewParser()
		var ev Event
		if got := p.fastNutanixFields([]byte(c.fields), &ev); got != c.fast {
			t.Errorf("%q: fast path %v, want %v", c.fields, got, c.fast)
		}
		if c.fast {
			sameAsGeneral(t, p, c.fields, &ev)
		}
	}
}

// sameAsGeneral checks that the general reader reads fields without error
// into the event fast read.
func sameAsGeneral(t *testing.T, p *Parser, fields string, fast *Event) {
	t.Helper()
	var ev Event
	if err := p.parseNutanixFields([]byte(fields), 0, &ev); err != nil {
		t.Fatalf("%q: the fast path read it, the general reader says %v", fields, err)
	}
	if !reflect.DeepEqual(*fast, ev) {
		t.Fatalf("%q:\nfast    %+v\ngeneral %+v", fields, *fast, ev)
	}
}

// FuzzNutanixFast checks that wherever the fast path reads a field text,
// the general reader reads the same event from it.
func FuzzNutanixFast(f *testing.F) {
	for _, c := range fastFieldCases {
		f.Add([]byte(c.fields))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 || strings.ContainsAny(string(b), "\n\r") {
			return
		}
		p := NewParser()
		var ev Event
		if p.fastNutanixFields(b, &ev) {
			sameAsGeneral(t, p, string(b), &ev)
		}
	})
}

// findLevelByColons is findLevel as it was first written, looking at every
// colon: FuzzFindLevel holds findLevel to it.
func findLevelByColons(head []byte) int {
	for off := 0; ; {
		i := bytes.IndexByte(head[off:], ':')
		if i < 0 {
			return -1
		}
		c := off + i
		off = c + 1
		if s := levelAt(head, c); s >= 0 {
			return s
		}
	}
}

// FuzzFindLevel checks that findLevel, which looks for the date's slashes,
// finds the level word that a look at every colon finds.
func FuzzFindLevel(f *testing.F) {
	for _, s := range []string{
		"<134>2025-06-02T06:00:03.153983+00:00 ahv-prod-node-01 Genesis_1: INFO:2025/06/02 06:00:00  [",
		"INFO:2025/04/10 10:11:55  [",
		"2025-04-10T10:11:55Z ahv acropolis: WARN:2025/04/10 10:11:55 ",
		"x/y: a/b:c INFO:2025/04/10 1:11:55 ERROR:2025/04/10 10:11:55 ",
		":2025/04/10 10:11:55 ",
		"/ /2025/04/10 10:11:55 A:2025/04/10 10:11:55x",
		"A00000/00/00 00:00:00", // a slash with no colon five bytes before
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		if got, want := findLevel(head), findLevelByColons(head); got != want {
			t.Fatalf("findLevel(%q) = %d, want %d", head, got, want)
		}
	})
}

// TestParseIPv4: a whole word, four parts of one to three digits, none
// above 255, no leading zero; fastIPv4 also stops at a space.
func TestParseIPv4(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // "": refused
	}{
		{"10.0.0.1", "10.0.0.1"}, {"0.0.0.0", "0.0.0.0"}, {"255.255.255.255", "255.255.255.255"},
		{"10.0.0.01", ""}, {"10.0.0.256", ""}, {"10.0.0.1000", ""}, {"10.0.0", ""}, {"10.0.0.1.5", ""},
		{"10..0.1", ""}, {".10.0.0", ""}, {"10.0.0.", ""}, {"10.0.0.1 ", ""}, {"10.0.0.1x", ""}, {"", ""},
		{"fd00::1", ""}, {"00.0.0.1", ""},
	} {
		a, ok := parseIPv4([]byte(c.in))
		if got := map[bool]string{true: a.String(), false: ""}[ok]; got != c.want {
			t.Errorf("parseIPv4(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	a, rest, ok := fastIPv4([]byte("10.1.2.3 DST=x"))
	if !ok || a.String() != "10.1.2.3" || string(rest) != " DST=x" {
		t.Errorf("fastIPv4 read %v, left %q (%v)", a, rest, ok)
	}
}

// FuzzNutanixFlow holds ntxFlow, which reads a Nutanix line after a Nutanix
// line straight into a Flow, to the Event's way (parse, then SetFlow).
func FuzzNutanixFlow(f *testing.F) {
	corpus := []string{
		"INFO:2025/06/02 06:00:00  [6b9c2f0e-3d41-4c7a-9e85-0a1f2b3c4d5e] Web Tier Monitoring [Update] SRC=100.64.0.1 DST=10.60.10.1 PROTO=TCP SPORT=1024 DPORT=443 ACTION=MONITOR DIRECTION=INBOUND ORIG: PKTS=13 BYTES=13235 REPLY: PKTS=4 BYTES=3528",
		"<134>2025-06-02T06:00:03.840739+00:00 ahv-prod-node-06 Genesis_0: INFO:2025/06/02 06:00:00  [6b9c2f0e-3d41-4c7a-9e85-0a1f2b3c4d5e] Web Tier Monitoring [New] SRC=100.64.11.39 DST=10.60.10.78 PROTO=UDP SPORT=1024 DPORT=53 ACTION=MONITOR DIRECTION=OUTBOUND",
		"INFO:2025/06/02 06:00:00 [6b9c2f0e] a ] SRC=b [Destroy] SRC=10.0.0.1 DST=10.0.0.2 PROTO=ICMP SPORT=0 DPORT=0 ACTION=DROP DESCRIPTION=x ] SRC=",
		"host1 ] SRC=x INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
		"INFO:1999/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
		"INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 EXTRA",
		"INFO:2025/06/02 06:00:00 [u] p [Update] SRC=fe80::1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
		"<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: 5a05ebbf INET match PASS 4100 IN 60 TCP 100.64.0.1/1024->10.60.10.1/443 S SG-WEB-FRONTEND",
		"not a firewall line",
		"<134>2025/06/02 h: INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
		"<134>2025-06-02T06:00:03.840739+00:00 ahv-prod-node-0X Genesis_0: INFO:2025/06/02 06:00:00 [u] SRC=p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
		"<134>2025-06-02T06:00:03.840739+00:00 ahv-prod-node-06 Genesis_0:XINFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
		"<134>2025-06-02T06:00:03.840739+00:00 ahv-prod-node-06 Genesis_0: INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
		"<134>2025-06-02T06:00:03.840739+00:00 ahv-prod-node-0] SRC=Genesis_0: INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
		"INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2 ] SRC=",
		"INFO:2025/06/02 06:00:00 [u] p SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2",
	}
	for i := range corpus {
		f.Add([]byte(corpus[0]), []byte(corpus[i]))
		f.Add([]byte(corpus[1]), []byte(corpus[i]))
	}
	addSamplePairs(f, "nutanix")
	f.Fuzz(sameFlowEitherWay)
}

// TestStraightFlowLineTooLong: a line longer than WithMaxLineLength is
// malformed, also after a line of its vendor (nsxFlow, ntxFlow).
func TestStraightFlowLineTooLong(t *testing.T) {
	for _, first := range []string{
		"<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: 5a05ebbf INET match PASS 4100 IN 60 TCP 100.64.0.1/1024->10.60.10.1/443 S SG-WEB",
		"INFO:2025/06/02 06:00:00  [6b9c2f0e-3d41-4c7a-9e85-0a1f2b3c4d5e] Web [Update] SRC=100.64.0.1 DST=10.60.10.1 PROTO=TCP SPORT=1024 DPORT=443",
	} {
		p := NewParser(WithFlows(), WithMaxLineLength(len(first)))
		c := &chunk{data: []byte(first + "\n" + first + "x\n")}
		p.parseChunk(c, "x")
		if st := c.batch.Stats; st.Events != 1 || st.Malformed != 1 || len(c.batch.Flows) != 1 {
			t.Errorf("%.20q: %d events, %d malformed, %d flows; want 1, 1, 1", first, st.Events, st.Malformed, len(c.batch.Flows))
		}
	}
}

// FuzzLevelFrom holds levelFrom, with the policy's anchor left for
// policyEvent to find, to findNutanix: wherever it finds a level word, the
// line is read (nutanixHead) as findNutanix's offsets read it.
func FuzzLevelFrom(f *testing.F) {
	for _, name := range []string{"testdata/samples/nutanix-flow.log", "testdata/samples/nutanix-flow-screenshots.log"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			s, _ := findNutanix(line)
			f.Add(line, s)
			f.Add(line, 0)
			f.Add(append([]byte("] SRC=/"), line...), s+7)
			f.Add(append([]byte("h] SRC=x "), line...), s+9)
			f.Add(append([]byte("X"), line...), s)
			f.Add(append([]byte("X"), line...), s+1)
		}
		// A level word before the one at, in the header.
		f.Add([]byte("WARN:2025/06/02 06:00:00 INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2"), 25)
		for _, at := range []int{-1, 0, 1, 200} {
			f.Add([]byte("INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1"), at)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte, at int) {
		s := levelFrom(line, at)
		if s < 0 {
			return
		}
		ws, anchor := findNutanix(line)
		if ws < 0 {
			if bytes.Contains(line, nutanixAnchor) {
				t.Fatalf("%q at %d: level %d, findNutanix none", line, at, s)
			}
			return
		}
		if ws != s {
			t.Fatalf("%q at %d: level %d, findNutanix %d", line, at, s, ws)
		}
		var got, want ntxHead
		gotErr := NewParser().nutanixHead(line[s:], s, -1, &got)
		wantErr := NewParser().nutanixHead(line[s:], s, anchor-s, &want)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || (wantErr == nil && got != want) {
			t.Fatalf("%q at %d:\n got %+v %v\nwant %+v %v", line, at, got, gotErr, want, wantErr)
		}
	})
}

// TestNtxFlowTriedAfterFastLines: ntxFlow is tried after a Nutanix line the
// fast path read, and not after one it did not (IPv6): a log of such lines
// is not read twice.
func TestNtxFlowTriedAfterFastLines(t *testing.T) {
	const v4 = "INFO:2025/06/02 06:00:00 [u] p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=1 DPORT=2"
	const v6 = "INFO:2025/06/02 06:00:00 [u] p [Update] SRC=fe80::1 DST=fe80::2 PROTO=TCP SPORT=1 DPORT=2"
	p := NewParser(WithFlows())
	var ev Event
	for _, c := range []struct {
		line string
		want bool
	}{{v4, true}, {v6, false}, {v4, true}, {"not a firewall line", true}, {v6, false}} {
		if b, err := p.Parse([]byte(c.line), &ev); b == Malformed {
			t.Fatalf("%q: %v", c.line, err)
		}
		if p.ntxLast != c.want {
			t.Errorf("after %q: ntxLast %v, want %v", c.line, p.ntxLast, c.want)
		}
	}
}

// ntxHeaders are headers that Nutanix hit logs come with, and others close
// to them.
var ntxHeaders = []string{
	"<134>2025-06-02T06:00:03.153983+00:00 ahv-prod-node-01 Genesis_1: ",
	"<134>2025-06-02T06:00:04.153983+00:00 ahv-prod-node-01 Genesis_1: ",
	"<134>2025-06-02T06:00:04.15398+00:00 ahv-prod-node-01 Genesis_1: ",
	"<134>2025-06-02T06:00:04.153983+00:00 ahv-prod-node-02 Genesis_1: ",
	"<134>2025-06-02T06:00:04.153983+00:00 ahv-prod-node-01 Genesis_0: ",
	"<134>2025-06-02T06:00:04.153983+00:00ahv-prod-node-01 Genesis_1: ",
	"<134>2025-06-02T06:00:04.153983+00:00  ahv-prod-node-01 Genesis_1: ",
	"<134>2025-06-02 06:00:04.153983+00:00 ahv-prod-node-01 Genesis_1: ",
	"<134>2025-02-30T06:00:04.153983+00:00 ahv-prod-node-01 Genesis_1: ",
	"<13>2025-06-02T06:00:04.153983+00:00 ahv-prod-node-01 Genesis_1: ",
	"<134>2025-06-02T06:00:03.153983Zahv-prod-node-01 Genesis_1: ",
	"<134>2025-06-02T06:00:03.153984Zahv-prod-node-01 Genesis_1: ",
	"<134>1 2025-06-02T06:00:03.153983+00:00 ahv-prod-node-01 Genesis_1 - - - ",
	"<134>Jun  2 06:00:03 ahv-prod-node-01 Genesis_1: ",
	"2025-12-11T12:51:08.857757+00:00 ahv-host-1 ahv ",
	"10.48.52.230 Apr 10 11:12:46 local0 info 2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: ",
	"",
}

const (
	ntxPayload = "INFO:2025/06/02 06:00:00  [6b9c2f0e-3d41-4c7a-9e85-0a1f2b3c4d5e] Web Tier Monitoring [Update] SRC=100.64.0.1 DST=10.60.10.1 PROTO=TCP SPORT=1024 DPORT=443 ACTION=MONITOR DIRECTION=INBOUND ORIG: PKTS=13 BYTES=13235 REPLY: PKTS=4 BYTES=3528"
	nsxPay     = "5a05ebbf INET match PASS 4100 IN 60 TCP 100.64.0.1/1024->10.60.10.1/443 S SG-WEB-FRONTEND"
)

// TestNtxFlowHeaders reads three lines, each header with each other, the
// first two Nutanix lines and the third a Nutanix or an NSX one: the Flows
// of ntxFlow (and nsxFlow) are the Event's, hosts included, with and
// without the syslog library and a default host.
func TestNtxFlowHeaders(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithSyslogLibrary(true)}, {WithDefaultHost("10.0.0.9")}} {
		for _, a := range ntxHeaders {
			for _, b := range ntxHeaders {
				for _, last := range []string{ntxPayload, nsxPay} {
					sameFlowsWith(t, opts, []byte(ntxHeaders[0]+ntxPayload), []byte(a+ntxPayload), []byte(b+last))
				}
			}
		}
	}
}

// FuzzNtxFlowHeaders is TestNtxFlowHeaders with any headers.
func FuzzNtxFlowHeaders(f *testing.F) {
	for i, a := range ntxHeaders {
		f.Add([]byte(a), []byte(ntxHeaders[(i+1)%len(ntxHeaders)]), false)
		f.Add([]byte(a), []byte(a), true)
	}
	f.Fuzz(func(t *testing.T, a, b []byte, nsx bool) {
		last := ntxPayload
		if nsx {
			last = nsxPay
		}
		sameFlowsWith(t, nil, []byte(ntxHeaders[0]+ntxPayload), append(a, ntxPayload...), append(b, last...))
	})
}

// ipv4HeadByLoop is ipv4Head as it was first written, a loop over each
// part's digits: FuzzIPv4Head holds the unrolled one to it.
func ipv4HeadByLoop(b []byte) (netip.Addr, int, bool) {
	var ip [4]byte
	i := 0
	for part := range ip {
		if part > 0 {
			if i >= len(b) || b[i] != '.' {
				return netip.Addr{}, 0, false
			}
			i++
		}
		from, v := i, 0
		for ; i < len(b) && i-from < 3; i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			v = v*10 + int(d)
		}
		if i == from || v > 255 || (i-from > 1 && b[from] == '0') {
			return netip.Addr{}, 0, false
		}
		ip[part] = byte(v)
	}
	return netip.AddrFrom4(ip), i, true
}

// FuzzIPv4Head: the unrolled ipv4Head reads what the loop reads, address
// and offset, and refuses what it refuses.
func FuzzIPv4Head(f *testing.F) {
	for _, s := range []string{"100.64.0.1/1024->", "10.60.11.178/8443 S", "10.1.0.10", "0.0.0.0 ", "255.255.255.255",
		"01.2.3.4", "1.02.3.4", "1.2.3.04", "256.2.3.4", "1.2.3.256", "1.2.3", "1.2.3.4444", "1.2.3.4.5", "1..2.3", "999.1.1.1", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, i, ok := ipv4Head(b)
		wa, wi, wok := ipv4HeadByLoop(b)
		if a != wa || i != wi || ok != wok {
			t.Fatalf("ipv4Head(%q) = %v, %d, %v; the loop: %v, %d, %v", b, a, i, ok, wa, wi, wok)
		}
	})
}
