package analysis

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// restoreCorpus returns n sessions to restore: IPv4 and IPv6, NSX and
// Nutanix, counters too large for the table, records, and keys that come
// again, at once, a batch later and straddling a batch's end (sessions of
// one key add up).
func restoreCorpus(n int) []SessionState {
	r := rand.New(rand.NewPCG(7, 11))
	out := make([]SessionState, 0, n)
	for i := range n {
		if i > 0 && i%97 == 0 { // again: the session before, or one far back
			prev := out[i-1]
			if i%2 == 0 {
				prev = out[r.IntN(i)]
			}
			prev.Seen += int64(r.IntN(100))
			out = append(out, prev)
			continue
		}
		st := SessionState{
			Src:   netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}),
			Dst:   netip.AddrFrom4([4]byte{10, 60, byte(r.IntN(8)), byte(r.IntN(256))}),
			Host:  fmt.Sprintf("host-%d", r.IntN(5)),
			SPort: uint16(1024 + r.IntN(60000)), DPort: []uint16{443, 53, 22, 8443}[r.IntN(4)],
			Proto: []uint8{ingest.ProtoTCP, ingest.ProtoUDP}[r.IntN(2)],
			Side:  []ingest.Direction{ingest.DirInbound, ingest.DirOutbound}[r.IntN(2)],
			Seen:  1_750_000_000 + int64(r.IntN(86400)),
		}
		st.ConvDPort = st.DPort
		if i%13 == 0 {
			st.Src, st.Dst = netip.MustParseAddr(fmt.Sprintf("fd00::%x", r.IntN(500))), netip.MustParseAddr("fd00::1:1")
		}
		if st.Matched = i%3 == 0; !st.Matched {
			st.Group = "6b9c2f0e-3d41-4c7a-9e85-0a1f2b3c4d5e"
		}
		if st.HasCounters = i%4 != 0; st.HasCounters {
			st.Last = [4]uint64{uint64(r.IntN(100)), uint64(r.IntN(1 << 20)), uint64(r.IntN(100)), uint64(r.IntN(1 << 20))}
			if i%29 == 0 {
				st.Last[1] = math.MaxUint32 + uint64(i)
			}
		}
		st.Unanswered = i%5 == 0
		if i%11 == 0 {
			st.Record = &SessionRecord{ID: uint64(i), Labels: []string{"a"}, Samples: []string{"line"}}
		}
		out = append(out, st)
	}
	// A key twice across the first batch's end.
	out[restoreBatch] = out[restoreBatch-1]
	return out
}

// restored returns the sessions and totals of a model with records that
// restored sts in parts of size each (ReserveOpen first when reserve).
func restored(t *testing.T, sts []SessionState, each int, reserve bool) ([]SessionState, Stats) {
	t.Helper()
	m := NewModel(Options{Records: true})
	if reserve { // as many as make the tables grow at once
		m.ReserveOpen(max(len(sts), numShards*expectFrom))
	}
	for lo := 0; lo < len(sts); lo += each {
		m.RestoreSessions(sts[lo:min(lo+each, len(sts))])
	}
	got, _ := m.Sessions()
	slices.SortFunc(got, func(a, b SessionState) int {
		return cmp.Or(a.Src.Compare(b.Src), a.Dst.Compare(b.Dst), cmp.Compare(a.SPort, b.SPort),
			cmp.Compare(a.DPort, b.DPort), cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Side, b.Side), cmp.Compare(a.Group, b.Group))
	})
	return got, m.Stats()
}

// TestRestoreSessionsBatched: restoring sessions in batches (their slots
// asked for while they are placed, the tables sized beforehand or not)
// gives the model that restoring them one at a time gives. Keys that come
// again add up, in a batch and across batches.
func TestRestoreSessionsBatched(t *testing.T) {
	sts := restoreCorpus(20_000)
	want, wantStats := restored(t, sts, 1, false)
	if wantStats.Open != len(sts) || len(want) != len(sts) {
		t.Fatalf("one at a time: %d open, %d sessions given back; want %d", wantStats.Open, len(want), len(sts))
	}
	// Sessions of one key are one connection: each reports the key's latest
	// time.
	type conn struct {
		src, dst     netip.Addr
		sport, dport uint16
		proto        uint8
		host, group  string
		side         ingest.Direction
	}
	connOf := func(st *SessionState) conn {
		return conn{st.Src, st.Dst, st.SPort, st.DPort, st.Proto, st.Host, st.Group, st.Side}
	}
	latest := map[conn]int64{}
	for i := range sts {
		c := connOf(&sts[i])
		latest[c] = max(latest[c], sts[i].Seen)
	}
	if len(latest) > len(sts)-len(sts)/100 {
		t.Fatalf("%d connections in %d sessions: too few come again", len(latest), len(sts))
	}
	for i := range want {
		if c := connOf(&want[i]); want[i].Seen != latest[c] {
			t.Fatalf("a session of %+v was seen at %d; its connection's latest time is %d", c, want[i].Seen, latest[c])
		}
	}
	for _, each := range []int{7, restoreBatch, sinkSize, len(sts)} {
		for _, reserve := range []bool{false, true} {
			got, stats := restored(t, sts, each, reserve)
			if stats != wantStats {
				t.Errorf("parts of %d, reserve %v: stats %+v, want %+v", each, reserve, stats, wantStats)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parts of %d, reserve %v: the sessions differ from those restored one at a time", each, reserve)
			}
		}
	}
}

// sinkSize is a batch as the workspace hands them.
const sinkSize = 1024
