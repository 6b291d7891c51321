package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The conversations of the verbatim vendor samples (ingest/testdata/samples,
// copied from ../shared/reference/samples), worked out by hand from
// log-formats.md and the README's definitions, not by FlowSleuth: its
// goldens record what the code says; this table says what the logs mean.
// Columns: direction, tags, src, dst, proto, dport, sessions, packets, bytes.
//
// The rules applied by hand: a session is a connection, so an NSX match
// line and its TERM line are one, as are the OUT and IN lines of one
// connection logged at both vNICs, and Nutanix [Update]/[Destroy] lines of
// one 5-tuple (log-formats.md §2.2: counters cumulative). A DROP creates no
// connection state: each dropped packet's line is an attempt of its own.
// Packets and bytes are both directions: TERM's in/out pairs, Nutanix
// ORIG+REPLY; match lines carry none. Direction is learned from the lines
// of the same run: the source of an OUT/OUTBOUND line and the destination of
// an IN/INBOUND line are monitored.
var sampleOracle = map[string][]string{
	"nsx4-dfw.log": {
		// RFC 5424 TERM only: 9/8 packets, 1461/4677 bytes. 10.10.10.11 is behind OUT.
		"OUTBOUND DR-Allow 10.10.10.11 10.10.10.10 TCP 443 1 17 6138",
		// The same echo at both vNICs (OUT at .10, IN at .17): one session, both monitored.
		"INTRA rule_25577 192.168.72.10 192.168.72.17 ICMP 0 1 0 0",
	},
	"nsxt-dfw.log": {
		// PROTO 2 (IGMP), IN: the destination is monitored; no port.
		"INBOUND rule_mainrs/1027 0.0.0.0 224.0.0.1 2 0 1 0 0",
		// VMC JSON, TERM without action: 1/1 packets, 72/103 bytes.
		"INBOUND rule_24642815 10.23.150.100 10.123.70.101 UDP 53 1 2 175",
		"OUTBOUND SZ-TRF_CATCH_ALL1111_TFRC6-6_Server_B 10.10.10.10 20.20.20.20 UDP 53 1 0 0",
		// INET6 written without ::, the port after the last slash.
		"OUTBOUND rule_mainrs/1027 fe80::68c2:8472:2364:9be ff02::1:2 UDP 547 1 0 0",
		// OUT and IN of one echo.
		"INTRA rule_2 1.1.1.10 1.1.3.10 ICMP 0 1 0 0",
		// 192.168.4.3 sends OUT (port 135), 192.168.4.4 receives IN (49153): both monitored.
		"INTRA rule_mainrs/1024 192.168.4.3 192.168.4.4 TCP 135 1 0 0",
		"INTRA rule_mainrs/1024 192.168.4.3 192.168.4.4 TCP 49153 1 0 0",
	},
	// Gateway (Edge) firewall lines are recognised and not modelled.
	"nsxt-gateway-fw.log": {},
	"nsxv-dfw.log": {
		// TERM only: 22/14 packets, 7684/1070 bytes.
		"INBOUND rule_domain-c1/1001 10.1.2.3 10.4.5.6 TCP 10001 1 36 8754",
		// Two dropped NetBIOS broadcasts, two minutes apart.
		"INBOUND rule_domain-c7/1002 192.168.110.10 192.168.110.255 UDP 138 2 0 0",
		// 22 dropped broadcasts (12 without a filter hash, 10 with one).
		"OUTBOUND rule_domain-c46/1005 10.2.5.10 10.2.5.255 UDP 137 22 0 0",
		// Match lines with the 6.4 rule tag; S on the TCP one is its flags, not the tag.
		"OUTBOUND RULE_TAG 172.18.8.121 172.18.8.119 ICMP 0 1 0 0",
		"OUTBOUND RULE_TAG 172.18.8.121 172.18.8.119 TCP 22 1 0 0",
	},
	"nutanix-flow-screenshots.log": {
		// ORIG 1381/105704 + REPLY 923/126754.
		"OUTBOUND Discover-Traffic 10.48.52.240 20.10.31.115 TCP 443 1 2304 232458",
		// 6+4 packets, 480+1148 bytes.
		"OUTBOUND 3-Tier 10.48.53.216 10.48.53.215 TCP 3306 1 10 1628",
		"OUTBOUND 3-Tier 10.48.53.217 45.83.234.123 UDP 123 1 1 76",
	},
	"nutanix-flow.log": {
		// ORIG 995/85031 + REPLY 585/101450, behind a relay's header.
		"OUTBOUND Discover-Traffic 10.48.52.240 20.10.31.115 TCP 443 1 1580 186481",
		"OUTBOUND Default_Global_Policy 100.64.128.20 34.243.160.129 TCP 443 1 20 5743",
		// 2020 form: no DIRECTION, so no direction; the [Destroy] that ends after DPORT.
		"UNKNOWN test 10.55.7.26 10.55.7.140 UDP 10514 1 0 0",
		"UNKNOWN dt_isolation 192.0.2.10 192.0.2.20 TCP 40726 1 9 468",
		"UNKNOWN isolation-policy 192.0.2.30 192.0.2.40 TCP 40726 1 9 468",
	},
}

// TestSamplesOracle checks each sample file's conversations against the
// hand-computed table.
func TestSamplesOracle(t *testing.T) {
	files := samples(t)
	if len(files) != len(sampleOracle) {
		t.Fatalf("%d sample files, the oracle covers %d: work the new one out by hand", len(files), len(sampleOracle))
	}
	for _, f := range files {
		want, ok := sampleOracle[filepath.Base(f)]
		if !ok {
			t.Errorf("%s: not in the oracle", f)
			continue
		}
		if got := oracleRows(t, f); !slices.Equal(got, sorted(want)) {
			t.Errorf("%s:\n got %q\nwant %q", filepath.Base(f), got, sorted(want))
		}
	}
}

// TestSamplesOracleCumulative: the Discover-Traffic connection (source
// port 49873) is logged [Update] on 2025-04-10 in one file and on
// 2025-04-11 in the other, with cumulative counters: read together, it is
// one session with the later counters, not the sum (log-formats.md §2.2).
func TestSamplesOracleCumulative(t *testing.T) {
	got := oracleRows(t, "ingest/testdata/samples/nutanix-flow.log", "ingest/testdata/samples/nutanix-flow-screenshots.log")
	want := "OUTBOUND Discover-Traffic 10.48.52.240 20.10.31.115 TCP 443 1 2304 232458"
	if !slices.Contains(got, want) {
		t.Errorf("got %q\nwant among them %q", got, want)
	}
}

// oracleRows runs flows --format csv on files and returns its rows in the
// oracle's form (spaces in tags as _), sorted.
func oracleRows(t *testing.T, files ...string) []string {
	t.Helper()
	out := flowsleuthOK(t, append([]string{"flows", "-q", "--format", "csv"}, files...)...)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("flows output: %v\n%s", err, out)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	rows := []string{}
	for _, r := range recs[1:] {
		var f []string
		for _, name := range []string{"direction", "tags", "src", "dst", "proto", "dport", "sessions", "packets", "bytes"} {
			i, ok := col[name]
			if !ok {
				t.Fatalf("no column %s in %q", name, recs[0])
			}
			f = append(f, strings.ReplaceAll(r[i], " ", "_"))
		}
		rows = append(rows, strings.Join(f, " "))
	}
	return sorted(rows)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	if s == nil {
		s = []string{}
	}
	slices.Sort(s)
	return s
}

// TestFlowsMetamorphic: reading the samples in the opposite order, or each
// split into two files at every tenth of its lines, gives the same
// conversation table, every column included (times, hosts, actions).
func TestFlowsMetamorphic(t *testing.T) {
	files := samples(t)
	want := flowsCSV(t, files)
	backward := slices.Clone(files)
	slices.Reverse(backward)
	if got := flowsCSV(t, backward); got != want {
		t.Errorf("read in the opposite order:\n%s\nwant\n%s", lineDiff(got, want), want)
	}
	dir := t.TempDir()
	for _, cut := range []int{1, 3, 5, 9} {
		var halves []string
		for _, f := range files {
			a, b := splitFile(t, f, dir, cut)
			halves = append(halves, b, a) // the later half first
		}
		if got := flowsCSV(t, halves); got != want {
			t.Errorf("each file split at %d/10 of its lines:\n%s", cut, lineDiff(got, want))
		}
	}
}

// flowsCSV runs flows --format csv on files.
func flowsCSV(t *testing.T, files []string) string {
	t.Helper()
	code, out, errs := flowsleuth(t, "", append([]string{"flows", "-q", "--format", "csv"}, files...)...)
	if code != exitOK {
		t.Fatalf("flows: exit %d: %s", code, errs)
	}
	return out
}

// splitFile writes f's lines before cut tenths of them to one file of dir
// and the rest to another, and returns both paths.
func splitFile(t *testing.T, f, dir string, cut int) (string, string) {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	n := len(lines) * cut / 10
	base := filepath.Join(dir, filepath.Base(f))
	a, c := base+".a", base+".b"
	if err := os.WriteFile(a, []byte(strings.Join(lines[:n], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c, []byte(strings.Join(lines[n:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	return a, c
}
