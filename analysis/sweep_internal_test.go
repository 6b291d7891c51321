package analysis

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestSweepAmortized holds a shard's sweeps, each a read of its whole
// table, to one per eighth of the cap the table takes in: connections
// that stay open (answered TCP, idle for 5 days before they time out) fill
// the tables to the cap, while every other one is unanswered UDP that
// times out after 330 s, so that each sweep forgets those that timed out
// since the one before: about half as many as the sweep before. Evicting
// only a full table, the shards swept 2,387 times. It also holds the cap,
// and the sessions counted.
func TestSweepAmortized(t *testing.T) {
	const maxOpen = numShards * 256
	m := NewModel(Options{MaxOpen: maxOpen})
	ev := ingest.Event{Vendor: ingest.Nutanix, Kind: ingest.KindNew, DPort: 443, Direction: ingest.DirOutbound,
		Dst: netip.MustParseAddr("10.9.0.2"), Time: time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC),
		Policy: "P", PolicyID: "u", Host: "h"}
	const n = 60_000
	for i := range n {
		ev.Src = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		ev.SPort = uint16(40000 + i%1000)
		ev.Proto, ev.HasCounters, ev.OrigPkts, ev.ReplyPkts = ingest.ProtoTCP, true, 3, 2
		if i%2 == 0 {
			ev.Proto, ev.HasCounters, ev.OrigPkts, ev.ReplyPkts = ingest.ProtoUDP, false, 0, 0
		}
		ev.Time = ev.Time.Add(time.Second)
		m.Add(&ev)
		if open := m.Stats().Open; open > maxOpen {
			t.Fatalf("after %d connections %d are open, the cap is %d", i+1, open, maxOpen)
		}
	}
	sweeps := 0
	for i := range m.shards {
		sweeps += m.shards[i].sweeps
	}
	// Once full, a shard sweeps once per 32 of its connections at most;
	// before, once per doubling.
	if most := n/(maxOpen/numShards/8) + numShards*8; sweeps > most {
		t.Errorf("%d sweeps for %d connections, want at most %d", sweeps, n, most)
	}
	if st := m.Stats(); st.Sessions != n || st.Open < maxOpen/2 {
		t.Errorf("%d sessions, %d open; want %d sessions and at least %d open", st.Sessions, st.Open, n, maxOpen/2)
	}
}
