package analysis

import (
	"fmt"
	"net/netip"
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

func rows(cs []Conversation) []row {
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
			got := rows(m.Conversations())
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
	m.sweepAt = 1 // sweep after every event
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
		if open := len(m.open); open > maxOpen {
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
			_ = m.Conversations()
			_ = m.Stats()
		}()
	}
	wg.Wait()
	cs := m.Conversations()
	if len(cs) != 1 || cs[0].Sessions != 800 {
		t.Fatalf("got %d conversations with %d sessions, want 1 with 800", len(cs), cs[0].Sessions)
	}
}
