package workspace

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// resumeLines writes two halves of a log whose second half continues the
// sessions the first leaves open: n Nutanix connections (TCP and UDP, some
// IPv6, counters beyond 32 bits, some unanswered) and three NSX pings
// between the same two hosts that overlap (one key: ICMP has no ports).
// The second half updates every other connection with grown cumulative
// counters, destroys every third and ends the pings, enough open ones
// between the halves to fill several tracking chunks.
func resumeLines(n int) (first, second []string) {
	base := time.Date(2025, 4, 10, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) (string, string) {
		t := base.Add(d)
		return t.Format("2006-01-02T15:04:05.000000+00:00"), t.Format("2006/01/02 15:04:05")
	}
	nx := func(i int, d time.Duration, event string, scale uint64) string {
		hdr, when := at(d)
		src := fmt.Sprintf("10.%d.%d.%d", 20+i>>16&255, i>>8&255, i&255)
		if i%97 == 0 {
			src = fmt.Sprintf("fd00::%x", i)
		}
		proto := []string{"TCP", "UDP"}[i%2]
		reply := uint64(i % 5) // one in five unanswered
		pk := uint64(3+i) * scale
		return fmt.Sprintf("<134>%s ahv-%d Genesis_1: INFO:%s  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d7%d] Web [%s] "+
			"SRC=%s DST=10.0.0.%d PROTO=%s SPORT=%d DPORT=443 ACTION=ALLOW DIRECTION=OUTBOUND "+
			"ORIG: PKTS=%d BYTES=%d REPLY: PKTS=%d BYTES=%d\n",
			hdr, i%7, when, i%3, event, src, 2+i%5, proto, 1024+i%60000, pk, pk<<(i%40), reply*scale, reply*scale*1000)
	}
	nsx := func(d time.Duration, term bool) string {
		hdr, _ := at(d)
		kind := "match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING"
		if term {
			kind = "TERM PASS 25577 OUT ICMP 192.168.72.10->192.168.72.17 3/3 252/252"
		}
		return fmt.Sprintf("<14>%s esx-01 FIREWALL_PKTLOG: 8b4a1980 INET %s\n", hdr, kind)
	}
	step := 30 * time.Minute / time.Duration(n)
	for i := 0; i < n; i++ {
		first = append(first, nx(i, time.Duration(i)*step, "Update", 1))
	}
	for i := 0; i < 3; i++ {
		first = append(first, nsx(30*time.Minute+time.Duration(i)*time.Second, false))
	}
	for i := 0; i < 2; i++ {
		second = append(second, nsx(30*time.Minute+time.Duration(10+i)*time.Second, true))
	}
	for i := 0; i < n; i++ {
		switch d := 31*time.Minute + time.Duration(i)*step/2; {
		case i%3 == 0:
			second = append(second, nx(i, d, "Destroy", 3))
		case i%2 == 0:
			second = append(second, nx(i, d, "Update", 2))
		}
	}
	return first, second
}

// TestOpenConnectionsResume: the open connections an import leaves, saved at
// its commit, are resumed by the next import and by a listener's commit, so
// that a log read in two parts gives the sessions of one import, in memory
// or into a workspace, and leaves the same connections open.
func TestOpenConnectionsResume(t *testing.T) {
	first, second := resumeLines(40_000)
	dir := t.TempDir()
	write := func(name string, parts ...[]string) string {
		p := filepath.Join(dir, name)
		var text strings.Builder
		for _, part := range parts {
			text.WriteString(strings.Join(part, ""))
		}
		if err := os.WriteFile(p, []byte(text.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := write("a.log", first), write("b.log", second)
	whole := write("whole.log", first, second)
	want := inMemory(t, whole)

	one := openTemp(t)
	if _, err := one.Import(ctx, []string{whole}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	wantOpen, wantClocks, err := one.Tracking(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(wantOpen) < 20_000 {
		t.Fatalf("%d connections left open: the test wants many", len(wantOpen))
	}

	t.Run("import", func(t *testing.T) {
		ws := openTemp(t)
		for _, f := range []string{a, b} { // two imports, as on two days
			if _, err := ws.Import(ctx, []string{f}, ImportOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		sameResumed(t, ws, want, wantOpen, wantClocks)
	})
	t.Run("listener", func(t *testing.T) {
		ws := openTemp(t)
		if _, err := ws.Import(ctx, []string{a}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		seg := write("syslog-1.log", second)
		m, st := liveDelta(t, ws, second)
		fi, _ := os.Stat(seg)
		if err := ws.CommitLive(ctx, m, LiveCommit{Segment: seg, End: fi.Size(), Stats: st}); err != nil {
			t.Fatal(err)
		}
		sameResumed(t, ws, want, wantOpen, wantClocks)
	})
}

// sameResumed checks ws holds want and leaves wantOpen open.
func sameResumed(t *testing.T, ws *Workspace, want []analysistest.Conversation,
	wantOpen []analysis.SessionState, wantClocks map[string]int64) {
	t.Helper()
	got, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	analysistest.SameConversations(t, got, want)
	open, clocks, err := ws.Tracking(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keyed(open), keyed(wantOpen)) || !reflect.DeepEqual(clocks, wantClocks) {
		t.Errorf("%d connections left open, clocks %v; want %d, %v", len(open), clocks, len(wantOpen), wantClocks)
	}
}

// keyed counts sessions by their printed form, whatever their order.
func keyed(sessions []analysis.SessionState) map[string]int {
	out := make(map[string]int, len(sessions))
	for _, s := range sessions {
		out[fmt.Sprintf("%+v %+v", s, s.Record)]++
	}
	return out
}
