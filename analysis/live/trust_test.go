package live

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

// nutanixLine is a hit-log line of one connection from src to dst, port 22.
func nutanixLine(src, dst string, sport int) string {
	return "<134>Apr 10 10:12:51 ahv-1 flow-hitCount4: INFO:2025/04/10 10:12:51  [181fa82b-64c6-4eb7-844e-3329128cdff7] " +
		"Discover-Traffic [Destroy] SRC=" + src + " DST=" + dst + " PROTO=TCP SPORT=" + strconv.Itoa(sport) +
		" DPORT=22 ACTION=MONITOR DIRECTION=INBOUND ORIG: PKTS=9 BYTES=900 REPLY: PKTS=5 BYTES=500"
}

func sendUDP(t *testing.T, addr net.Addr, lines ...string) {
	t.Helper()
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, l := range lines {
		c.Write([]byte(l))
	}
}

// byPair indexes conversations by source and destination.
func byPair(convs []analysistest.Conversation) map[string]analysistest.Conversation {
	out := make(map[string]analysistest.Conversation)
	for _, c := range convs {
		out[c.Src.String()+">"+c.Dst.String()] = c
	}
	return out
}

// TestUDPEvidenceUnauthenticated: one datagram from a forged allowed source
// made a conversation (6.6.6.6 → 10.20.10.12 TCP/22), then an allow rule.
// A conversation seen only over UDP is now marked as such in the
// workspace and goes to review, not into the rules; one also seen over TCP
// is not marked.
func TestUDPEvidenceUnauthenticated(t *testing.T) {
	dir := t.TempDir()
	ws, err := workspace.Open(filepath.Join(dir, "live.flowsleuth"))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	s, err := Start(ctx, config(dir, ws))
	if err != nil {
		t.Fatal(err)
	}
	a := s.Addrs()
	sendUDP(t, a.UDP, nutanixLine("6.6.6.6", "10.20.10.12", 40000))
	sendUDP(t, a.UDP, nutanixLine("10.1.1.1", "10.20.10.12", 40001))
	send(t, a.TCP, []string{nutanixLine("10.1.1.1", "10.20.10.12", 40002), nutanixLine("10.2.2.2", "10.20.10.12", 40003)}, false)
	waitFor(t, "four messages", func() bool { return s.Stats().Accepted == 4 })
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	convs, err := ws.Table(ctx, workspace.Query{})
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := ws.Synthesize(ctx, convs, rules.Knobs{})
	if err != nil {
		t.Fatal(err)
	}
	got := byPair(analysistest.Rows(rs.Table))
	for pair, want := range map[string]bool{
		"6.6.6.6>10.20.10.12":  true,  // UDP only
		"10.1.1.1>10.20.10.12": false, // UDP and TCP
		"10.2.2.2>10.20.10.12": false, // TCP only
	} {
		if c, ok := got[pair]; !ok || c.Unauthenticated != want {
			t.Errorf("%s: found %v, unauthenticated %v; want %v", pair, ok, c.Unauthenticated, want)
		}
	}
	var review []string
	for _, it := range rs.Review {
		review = append(review, rs.Table.Src(int(it.Row)).String()+": "+it.Reason)
	}
	if len(review) != 1 || !strings.HasPrefix(review[0], "6.6.6.6: received only over UDP") {
		t.Errorf("review %q, want the UDP-only conversation", review)
	}
	for _, r := range rs.Rules {
		for _, p := range r.Src.Prefixes {
			if p.Contains(netip.MustParseAddr("6.6.6.6")) {
				t.Errorf("rule %s admits the forged sender", r.ID)
			}
		}
	}
}

// TestRecoveredUDPLinesUnauthenticated: lines received over UDP that a
// crash left uncommitted are imported on the next start as received over
// UDP (the segment's UDPMarker), not as a trusted file.
func TestRecoveredUDPLinesUnauthenticated(t *testing.T) {
	dir, ws, s := startUncommitted(t)
	sendUDP(t, s.Addrs().UDP, nutanixLine("6.6.6.6", "10.20.10.12", 40000))
	waitFor(t, "the datagram", func() bool { return s.Stats().Accepted == 1 })
	seg := s.Stats().Segment
	if _, err := os.Stat(listen.UDPMarker(seg)); err != nil {
		t.Errorf("no UDP marker beside %s: %v", seg, err)
	}
	s.crash() // nothing committed

	s2, err := Start(ctx, config(dir, ws))
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Stop(); err != nil {
		t.Fatal(err)
	}
	convs, _ := analysistest.RowsOf(ws.Conversations(ctx, workspace.Query{}))
	if len(convs) != 1 || !convs[0].Unauthenticated {
		t.Errorf("recovered: %+v, want one unauthenticated conversation", convs)
	}
	if _, err := os.Stat(listen.UDPMarker(seg)); err == nil {
		t.Error("the marker outlived its compressed segment")
	}
}
