package analysis

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// benchEvents makes n Nutanix [Update] events over 100,000 open connections
// and 500 conversations, the shape of a busy monitor-mode policy.
func benchEvents(n int) []ingest.Event {
	evs := make([]ingest.Event, n)
	t0 := time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)
	for i := range evs {
		c := i % 100_000
		evs[i] = ingest.Event{Vendor: ingest.Nutanix, Kind: ingest.KindUpdate, Proto: ingest.ProtoTCP,
			Src: netip.AddrFrom4([4]byte{10, 0, byte(c % 50), 1}), Dst: netip.AddrFrom4([4]byte{10, 1, byte(c % 10), 1}),
			SPort: uint16(32768 + c%28000), DPort: 443, Direction: ingest.DirOutbound, Action: ingest.ActionMonitor,
			HasCounters: true, OrigPkts: uint64(i / 100_000), OrigBytes: uint64(i / 1000), ReplyPkts: 1, ReplyBytes: 100,
			Time: t0.Add(time.Duration(i) * time.Millisecond), Host: "ahv-1", Policy: "Discover", PolicyID: "uuid"}
	}
	return evs
}

// BenchmarkModelAdd measures aggregation per event (parsing excluded).
func BenchmarkModelAdd(b *testing.B) {
	evs := benchEvents(1 << 20)
	m := NewModel(Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Add(&evs[i&(len(evs)-1)])
		i++
	}
}
