package analysis

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// nx writes a Nutanix hit-log line (forward form) for tests.
func nx(host, at, policy, kind, src, dst string, sport, dport int, action, dir string, counters ...int) string {
	t, _ := time.Parse(time.RFC3339, at)
	line := fmt.Sprintf("<134>%s %s Genesis_1: INFO:%s  [%s] %s [%s] SRC=%s DST=%s PROTO=TCP SPORT=%d DPORT=%d",
		t.Format("2006-01-02T15:04:05.000000+00:00"), host, t.Format("2006/01/02 15:04:05"),
		"ff16a6fb-ff89-4c2d-a9c8-f67030f93d79", policy, kind, src, dst, sport, dport)
	if action != "" {
		line += " ACTION=" + action
	}
	if dir != "" {
		line += " DIRECTION=" + dir
	}
	if len(counters) == 4 {
		line += fmt.Sprintf(" ORIG: PKTS=%d BYTES=%d REPLY: PKTS=%d BYTES=%d", counters[0], counters[1], counters[2], counters[3])
	}
	return line
}

// feed parses lines and adds them to m, failing on any line that does not parse.
func feed(t testing.TB, m *Model, lines ...string) {
	t.Helper()
	p := ingest.NewParser()
	for _, l := range lines {
		var ev ingest.Event
		if b, err := p.Parse([]byte(l), &ev); b != ingest.Parsed {
			t.Fatalf("line did not parse (%v, %v): %s", b, err, l)
		}
		m.Add(&ev)
	}
}

// row is the part of a conversation the table tests compare.
type row struct {
	Dir                       string
	Tags                      string
	Flow                      string // "src>dst/proto/dport"
	Sessions, Packets, Bytes  uint64
	Unanswered                uint64
	Actions, Hosts, FirstLast string
}

func rows(cs []conversation) []row {
	out := make([]row, len(cs))
	for i, c := range cs {
		var acts []string
		for _, a := range c.Actions {
			acts = append(acts, a.String())
		}
		fl := ""
		if !c.First.IsZero() {
			fl = c.First.Format("15:04:05") + "-" + c.Last.Format("15:04:05")
		}
		out[i] = row{
			Dir: c.Direction.String(), Tags: strings.Join(c.TagNames(), ";"),
			Flow:     fmt.Sprintf("%s>%s/%s/%d", c.Src, c.Dst, ingest.ProtoName(c.Proto), c.DPort),
			Sessions: c.Sessions, Packets: c.Packets(), Bytes: c.Bytes(), Unanswered: c.Unanswered,
			Actions: strings.Join(acts, ";"), Hosts: strings.Join(c.Hosts, ";"), FirstLast: fl,
		}
	}
	return out
}

func TestModel(t *testing.T) {
	const (
		web, app, inet = "10.0.1.10", "10.0.2.20", "203.0.113.5"
		t0, t1, t2, t3 = "2025-04-10T10:00:00Z", "2025-04-10T10:05:00Z", "2025-04-10T10:10:00Z", "2025-04-11T10:00:00Z"
	)
	tests := []struct {
		Name      string
		Monitored []netip.Prefix
		In        []string
		Want      []row
	}{{
		Name: "nutanix session life: counters are cumulative, never added",
		In: []string{
			nx("ahv1", t0, "Discover", "New", web, inet, 40000, 443, "MONITOR", "OUTBOUND"),
			nx("ahv1", t1, "Discover", "Update", web, inet, 40000, 443, "MONITOR", "OUTBOUND", 10, 1000, 8, 5000),
			nx("ahv1", t1, "Discover", "Update", web, inet, 40000, 443, "MONITOR", "OUTBOUND", 10, 1000, 8, 5000),
			nx("ahv1", t2, "Discover", "Destroy", web, inet, 40000, 443, "MONITOR", "OUTBOUND", 20, 2000, 15, 9000),
		},
		Want: []row{{Dir: "OUTBOUND", Tags: "Discover", Flow: web + ">" + inet + "/TCP/443", Sessions: 1,
			Packets: 35, Bytes: 11000, Actions: "MONITOR", Hosts: "ahv1", FirstLast: "10:00:00-10:10:00"}},
	}, {
		Name: "nutanix counters that go down start a new session; an older report does not",
		In: []string{
			nx("ahv1", t0, "Discover", "Update", web, inet, 40000, 443, "ALLOW", "OUTBOUND", 10, 1000, 8, 5000),
			nx("ahv1", t2, "Discover", "Update", web, inet, 40000, 443, "ALLOW", "OUTBOUND", 2, 100, 1, 50),
			nx("ahv1", t1, "Discover", "Update", web, inet, 40000, 443, "ALLOW", "OUTBOUND", 1, 50, 1, 20),
		},
		Want: []row{{Dir: "OUTBOUND", Tags: "Discover", Flow: web + ">" + inet + "/TCP/443", Sessions: 2,
			Packets: 21, Bytes: 6150, Actions: "ALLOW", Hosts: "ahv1", FirstLast: "10:00:00-10:10:00"}},
	}, {
		Name: "nutanix connection logged by both secured VMs is one session, intra",
		In: []string{
			nx("ahv1", t0, "3-Tier", "Destroy", web, app, 41000, 8080, "ALLOW", "OUTBOUND", 6, 480, 4, 1148),
			nx("ahv2", t0, "3-Tier", "Destroy", web, app, 41000, 8080, "ALLOW", "INBOUND", 6, 480, 4, 1148),
		},
		Want: []row{{Dir: "INTRA", Tags: "3-Tier", Flow: web + ">" + app + "/TCP/8080", Sessions: 1,
			Packets: 10, Bytes: 1628, Actions: "ALLOW", Hosts: "ahv1;ahv2", FirstLast: "10:00:00-10:00:00"}},
	}, {
		Name: "unanswered and dropped sessions are counted",
		In: []string{
			nx("ahv1", t0, "Discover", "Destroy", inet, web, 50000, 22, "DROP", "INBOUND", 1, 60, 0, 0),
			nx("ahv1", t0, "Discover", "Destroy", inet, web, 50001, 22, "DROP", "INBOUND", 1, 60, 0, 0),
		},
		Want: []row{{Dir: "INBOUND", Tags: "Discover", Flow: inet + ">" + web + "/TCP/22", Sessions: 2,
			Packets: 2, Bytes: 120, Unanswered: 2, Actions: "DROP", Hosts: "ahv1", FirstLast: "10:00:00-10:00:00"}},
	}, {
		Name: "nsx session at two filters counts once; untagged TERM joins its rule's tag",
		In: []string{
			"2017-10-19T22:38:08.723Z 58734 INET match PASS domain-c8/1006 OUT 60 TCP 10.0.1.10/36485->10.0.2.20/22 S SGTSWEB",
			"2017-10-19T22:38:08.725Z 58735 INET match PASS domain-c8/1007 IN 60 TCP 10.0.1.10/36485->10.0.2.20/22 S SGTSAPP",
			"2017-10-19T22:39:00.000Z 58734 INET TERM domain-c8/1006 OUT TCP FIN 10.0.1.10/36485->10.0.2.20/22 22/14 7684/1070",
			"2017-10-19T22:39:00.001Z 58735 INET TERM domain-c8/1007 IN TCP FIN 10.0.1.10/36485->10.0.2.20/22 22/14 7684/1070",
		},
		Want: []row{{Dir: "INTRA", Tags: "SGTSAPP;SGTSWEB", Flow: web + ">" + app + "/TCP/22", Sessions: 1,
			Packets: 36, Bytes: 8754, Actions: "ALLOW", FirstLast: "22:38:08-22:39:00"}},
	}, {
		// Two pings at once between the same hosts: ICMP lines carry no
		// ports, so both sessions have one key, logged at both vNICs.
		Name: "nsx sessions with one key that overlap: each match opens one, each TERM closes one",
		In: []string{
			"2026-03-03T00:02:11.678Z 8b4a1980 INET match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING",
			"2026-03-03T00:02:11.679Z 14b4051d INET match PASS 25577 IN 84 ICMP 192.168.72.10->192.168.72.17 PING",
			"2026-03-03T00:02:12.100Z 8b4a1980 INET match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING",
			"2026-03-03T00:02:12.101Z 14b4051d INET match PASS 25577 IN 84 ICMP 192.168.72.10->192.168.72.17 PING",
			"2026-03-03T00:02:35.000Z 8b4a1980 INET TERM PASS 25577 OUT ICMP 192.168.72.10->192.168.72.17 4/4 336/336 PING",
			"2026-03-03T00:02:35.001Z 14b4051d INET TERM PASS 25577 IN ICMP 192.168.72.10->192.168.72.17 4/4 336/336 PING",
			"2026-03-03T00:02:40.000Z 8b4a1980 INET TERM PASS 25577 OUT ICMP 192.168.72.10->192.168.72.17 9/9 756/756 PING",
			"2026-03-03T00:02:40.001Z 14b4051d INET TERM PASS 25577 IN ICMP 192.168.72.10->192.168.72.17 9/9 756/756 PING",
		},
		Want: []row{{Dir: "INTRA", Tags: "PING", Flow: "192.168.72.10>192.168.72.17/ICMP/0", Sessions: 2,
			Packets: 26, Bytes: 2184, Actions: "ALLOW", FirstLast: "00:02:11-00:02:40"}},
	}, {
		Name: "nsx overlapping sessions: one TERM lost, a third session later; a dropped match waits for no TERM",
		In: []string{
			"2026-03-03T00:02:11.678Z 8b4a1980 INET match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING",
			"2026-03-03T00:02:12.100Z 8b4a1980 INET match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING",
			"2026-03-03T00:02:13.100Z 8b4a1980 INET match DROP 25578 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING",
			"2026-03-03T00:02:35.000Z 8b4a1980 INET TERM PASS 25577 OUT ICMP 192.168.72.10->192.168.72.17 4/4 336/336 PING",
			"2026-03-03T00:02:50.000Z 8b4a1980 INET match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING",
			"2026-03-03T00:03:10.000Z 8b4a1980 INET TERM PASS 25577 OUT ICMP 192.168.72.10->192.168.72.17 2/2 168/168 PING",
		},
		Want: []row{{Dir: "OUTBOUND", Tags: "PING", Flow: "192.168.72.10>192.168.72.17/ICMP/0", Sessions: 4, Unanswered: 1,
			Packets: 12, Bytes: 1008, Actions: "ALLOW;DROP", FirstLast: "00:02:11-00:03:10"}},
	}, {
		Name: "nsx TERM without match is a session; every dropped packet is one; ICMP has port 0",
		In: []string{
			"f2c65dd5 INET TERM 24642815 IN UDP 10.23.150.100/53408->10.123.70.101/53 1/1 72/103",
			"2016-09-17T09:41:50.979Z INET match DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137",
			"2016-09-17T09:41:50.979Z INET match DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137",
			"2018-07-17T18:41:20.708Z f1007e48 INET match PASS 2 OUT 84 ICMP 1.1.1.10->1.1.3.10",
		},
		Want: []row{
			{Dir: "INBOUND", Tags: "rule 24642815", Flow: "10.23.150.100>10.123.70.101/UDP/53", Sessions: 1, Packets: 2, Bytes: 175},
			{Dir: "OUTBOUND", Tags: "rule 2", Flow: "1.1.1.10>1.1.3.10/ICMP/0", Sessions: 1, Actions: "ALLOW", FirstLast: "18:41:20-18:41:20"},
			{Dir: "OUTBOUND", Tags: "rule domain-c46/1005", Flow: "10.2.5.10>10.2.5.255/UDP/137", Sessions: 2, Unanswered: 2,
				Actions: "DROP", FirstLast: "09:41:50-09:41:50"},
		},
	}, {
		Name:      "a declared monitored set decides the direction",
		Monitored: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")},
		In: []string{
			nx("ahv1", t3, "Old", "Update", inet, web, 40000, 443, "", "", 1, 60, 1, 60),
			nx("ahv1", t3, "Old", "Update", web, app, 40001, 8080, "", "", 1, 60, 1, 60),
			nx("ahv1", t3, "Old", "Update", "192.0.2.1", "192.0.2.2", 40002, 53, "", "", 1, 60, 1, 60),
		},
		Want: []row{
			{Dir: "INBOUND", Tags: "Old", Flow: inet + ">" + web + "/TCP/443", Sessions: 1, Packets: 2, Bytes: 120, Hosts: "ahv1", FirstLast: "10:00:00-10:00:00"},
			{Dir: "INTRA", Tags: "Old", Flow: web + ">" + app + "/TCP/8080", Sessions: 1, Packets: 2, Bytes: 120, Hosts: "ahv1", FirstLast: "10:00:00-10:00:00"},
			{Dir: "UNKNOWN", Tags: "Old", Flow: "192.0.2.1>192.0.2.2/TCP/53", Sessions: 1, Packets: 2, Bytes: 120, Hosts: "ahv1", FirstLast: "10:00:00-10:00:00"},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			m := NewModel(Options{Monitored: tc.Monitored})
			feed(t, m, tc.In...)
			got := rows(rowsOf(m.Table()))
			if len(got) != len(tc.Want) {
				t.Fatalf("got %d conversations, want %d:\n%+v", len(got), len(tc.Want), got)
			}
			for i := range got {
				if got[i] != tc.Want[i] {
					t.Errorf("conversation %d:\n got %+v\nwant %+v", i, got[i], tc.Want[i])
				}
			}
		})
	}
}

func TestModelIdleTimeout(t *testing.T) {
	m := NewModel(Options{IdleTimeout: time.Hour})
	for i := range m.shards {
		m.shards[i].sweepAt = 1 // sweep at the first event
	}
	feed(t, m,
		nx("ahv1", "2025-04-10T10:00:00Z", "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 1, 10, 1, 10),
		nx("ahv1", "2025-04-10T12:00:00Z", "P", "Update", "10.0.0.3", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 1, 10, 1, 10),
		// The first connection's state aged out: seen again, it counts anew.
		nx("ahv1", "2025-04-10T12:00:01Z", "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 2, 20, 2, 20))
	st := m.Stats()
	if st.Expired != 1 || st.Sessions != 3 {
		t.Errorf("expired %d sessions %d, want 1 and 3", st.Expired, st.Sessions)
	}
}

// TestModelVendorTimers: a connection is forgotten after the idle timer
// its vendor applies to its protocol and state (timeouts.go), plus Grace:
// seen again after that, it counts anew; seen before, it continues.
func TestModelVendorTimers(t *testing.T) {
	const t0 = "2025-04-10T10:00:00Z"
	at := func(d time.Duration) string {
		return time.Date(2025, 4, 10, 10, 0, 0, 0, time.UTC).Add(d).Format(time.RFC3339)
	}
	udp := func(when string, pkts, reply int) string {
		return strings.Replace(nx("ahv1", when, "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 53, "ALLOW", "OUTBOUND",
			pkts, pkts*60, reply, reply*60), "PROTO=TCP", "PROTO=UDP", 1)
	}
	nsx := func(d time.Duration, line string) string {
		return time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC).Add(d).Format("2006-01-02T15:04:05.000Z") + " 8b4a1980 INET " + line
	}
	ping := "PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING"
	pingTerm := "PASS 25577 OUT ICMP 192.168.72.10->192.168.72.17 4/4 336/336 PING"
	tcp := "PASS 25577 OUT 60 TCP 192.168.72.10/40000->192.168.72.17/5432 S PG"
	tcpTerm := "PASS 25577 OUT TCP FIN 192.168.72.10/40000->192.168.72.17/5432 40/38 9000/120000 PG"
	grace := Grace
	tests := []struct {
		name     string
		lines    []string
		sessions int64
	}{
		{"ahv TCP established: 5 days", []string{
			nx("ahv1", t0, "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 10, 600, 8, 900),
			nx("ahv1", at(4*24*time.Hour), "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 20, 1200, 9, 1000)}, 1},
		{"ahv TCP established: after 5 days", []string{
			nx("ahv1", t0, "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 10, 600, 8, 900),
			nx("ahv1", at(5*24*time.Hour+grace+time.Second), "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 20, 1200, 9, 1000)}, 2},
		{"ahv TCP unanswered (SYN_SENT): 120 s", []string{
			nx("ahv1", t0, "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 1, 60, 0, 0),
			nx("ahv1", at(120*time.Second+grace+time.Second), "P", "Update", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 2, 120, 0, 0)}, 2},
		{"ahv UDP unanswered: 30 s", []string{udp(t0, 1, 0), udp(at(30*time.Second+grace+time.Second), 2, 0)}, 2},
		{"ahv UDP unanswered, within 30 s", []string{udp(t0, 1, 0), udp(at(30*time.Second+grace), 2, 0)}, 1},
		{"ahv UDP answered: 120 s", []string{udp(t0, 1, 1), udp(at(120*time.Second+grace), 2, 2)}, 1},
		{"ahv UDP answered: after 120 s", []string{udp(t0, 1, 1), udp(at(120*time.Second+grace+time.Second), 2, 2)}, 2},
		{"nsx ICMP: 20 s", []string{nsx(0, "match "+ping), nsx(20*time.Second+grace, "TERM "+pingTerm)}, 1},
		{"nsx ICMP: after 20 s", []string{nsx(0, "match "+ping), nsx(20*time.Second+grace+time.Second, "TERM "+pingTerm)}, 2},
		{"nsx TCP: established, 43200 s", []string{nsx(0, "match "+tcp), nsx(12*time.Hour+grace, "TERM "+tcpTerm)}, 1},
		{"nsx TCP: after 43200 s", []string{nsx(0, "match "+tcp), nsx(12*time.Hour+grace+time.Second, "TERM "+tcpTerm)}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel(Options{})
			feed(t, m, tc.lines...)
			var sessions uint64
			for _, c := range rowsOf(m.Table()) {
				sessions += c.Sessions
			}
			if sessions != uint64(tc.sessions) {
				t.Errorf("%d sessions, want %d", sessions, tc.sessions)
			}
		})
	}
}

// TestModelAgesOut: connections that stop being logged (two in three of a
// periodic hit log's) leave the table once their timers pass, so that the
// open set follows the traffic of the last minutes, not the file's length.
func TestModelAgesOut(t *testing.T) {
	m := NewModel(Options{})
	ev := ingest.Event{Vendor: ingest.Nutanix, Kind: ingest.KindUpdate, Proto: ingest.ProtoUDP, DPort: 53,
		Direction: ingest.DirOutbound, Dst: netip.MustParseAddr("10.0.0.2"), HasCounters: true, OrigPkts: 1, ReplyPkts: 1,
		Policy: "P", PolicyID: "u", Host: "h"}
	t0 := time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)
	const n = 400_000
	for i := 0; i < n; i++ {
		ev.SPort = uint16(i)
		ev.Src = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		ev.Time = t0.Add(time.Duration(i) * 100 * time.Millisecond)
		m.Add(&ev)
	}
	// 40,000 s of DNS queries never closed; each is forgotten 120 s + Grace
	// after its line: about 4,200 are within their timer at the end.
	st := m.Stats()
	if st.Open > numShards*minSweep || st.Expired < n-numShards*minSweep {
		t.Errorf("%d open, %d expired of %d", st.Open, st.Expired, n)
	}
}

// TestModelMemoryBound proves that open connection state is capped: a
// million connections that never end leave at most MaxOpen behind.
func TestModelMemoryBound(t *testing.T) {
	const maxOpen = 1000
	m := NewModel(Options{MaxOpen: maxOpen})
	ev := ingest.Event{Vendor: ingest.Nutanix, Kind: ingest.KindNew, Proto: ingest.ProtoTCP, DPort: 443,
		Direction: ingest.DirOutbound, Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		Time: time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC), Policy: "P", PolicyID: "u", Host: "h"}
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	for i := 0; i < n; i++ {
		ev.SPort = uint16(i)
		ev.Src = netip.AddrFrom4([4]byte{10, 0, byte(i >> 16), byte(i >> 8)})
		ev.Time = ev.Time.Add(time.Second)
		m.Add(&ev)
		if open := m.Stats().Open; open > maxOpen {
			t.Fatalf("after %d connections %d are open, cap is %d", i+1, open, maxOpen)
		}
	}
	if st := m.Stats(); st.Sessions != int64(n) {
		t.Errorf("sessions %d, want %d", st.Sessions, n)
	}
}

// TestModelConcurrent adds from several goroutines while others read; run
// with -race.
func TestModelConcurrent(t *testing.T) {
	m := NewModel(Options{})
	p := ingest.NewParser()
	var evs []ingest.Event
	for i := 0; i < 200; i++ {
		var ev ingest.Event
		line := nx("ahv1", "2025-04-10T10:00:00Z", "P", "Destroy", "10.0.0.1", "10.0.0.2", 40000+i, 443, "ALLOW", "OUTBOUND", 1, 10, 1, 10)
		if b, err := p.Parse([]byte(line), &ev); b != ingest.Parsed {
			t.Fatal(err)
		}
		ev.Raw = nil
		evs = append(evs, ev)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			m.AddBatch(evs)
		}()
		go func() {
			defer wg.Done()
			_ = rowsOf(m.Table())
			_ = m.Stats()
		}()
	}
	wg.Wait()
	cs := rowsOf(m.Table())
	if len(cs) != 1 || cs[0].Sessions != 800 {
		t.Fatalf("got %d conversations with %d sessions, want 1 with 800", len(cs), cs[0].Sessions)
	}
}

// TestModelNoHourly: without the sessions per hour, a conversation's
// figures are the same and its Hourly is empty.
func TestModelNoHourly(t *testing.T) {
	lines := []string{
		nx("ahv1", "2025-04-10T10:00:00Z", "P", "New", "10.0.0.1", "10.0.0.2", 40000, 443, "ALLOW", "OUTBOUND", 1, 10, 1, 10),
		nx("ahv1", "2025-04-10T11:30:00Z", "P", "New", "10.0.0.1", "10.0.0.2", 40001, 443, "ALLOW", "OUTBOUND", 2, 20, 2, 20),
	}
	with, without := NewModel(Options{}), NewModel(Options{NoHourly: true})
	feed(t, with, lines...)
	feed(t, without, lines...)
	a, b := rowsOf(with.Table()), rowsOf(without.Table())
	if !reflect.DeepEqual(rows(a), rows(b)) {
		t.Errorf("NoHourly changed the figures:\n%+v\nwant\n%+v", rows(b), rows(a))
	}
	if len(a) != 1 || len(a[0].Hourly) != 2 || len(b[0].Hourly) != 0 {
		t.Errorf("hourly %+v and %+v, want two hours and none", a, b)
	}
}
