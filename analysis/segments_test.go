package analysis

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestArchiveSegmentsInArrivalOrder: a listener's archive segments hold
// lines in the order they arrived, and their names say when; the first
// line of a segment may carry an earlier time than the previous segment's
// first line (a host whose clock lags). Read by their first events, a
// connection straddling two segments counted twice (42,005 sessions for
// 42,000); they are read in the order of their names.
func TestArchiveSegmentsInArrivalOrder(t *testing.T) {
	line := func(host, clock, kind string) string {
		dst := map[string]string{"ahv-a": "10.0.0.3", "ahv-b": "10.0.0.2"}[host]
		return "<134>Apr 10 " + clock + " " + host + " flow-hitCount4: INFO:2025/04/10 " + clock +
			"  [181fa82b-64c6-4eb7-844e-3329128cdff7] P [" + kind + "] SRC=10.0.0.1 DST=" + dst + " PROTO=TCP SPORT=40000 DPORT=22" +
			" ACTION=ALLOW DIRECTION=OUTBOUND ORIG: PKTS=9 BYTES=900 REPLY: PKTS=5 BYTES=500\n"
	}
	dir := t.TempDir()
	// Host a's clock runs five minutes ahead of host b's.
	seg1 := filepath.Join(dir, "syslog-20250410T100000.000Z.log")
	seg2 := filepath.Join(dir, "syslog-20250410T100100.000Z.log")
	os.WriteFile(seg1, []byte(line("ahv-a", "10:05:00", "Update")+line("ahv-b", "10:00:05", "New")), 0o644)
	os.WriteFile(seg2, []byte(line("ahv-b", "10:00:10", "Destroy")), 0o644)
	if got := InTimeOrder([]string{seg2, seg1}); !slices.Equal(got, []string{seg1, seg2}) {
		t.Errorf("order %v, want the segments' names' order", got)
	}
	m := NewModel(Options{})
	if _, err := Import(t.Context(), m, []string{seg2, seg1}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var sessions uint64
	for _, c := range rowsOf(m.Table()) {
		if c.Dst.String() == "10.0.0.2" {
			sessions += c.Sessions
		}
	}
	if sessions != 1 {
		t.Errorf("%d sessions, want 1: the connection straddling two segments counted twice", sessions)
	}
}
