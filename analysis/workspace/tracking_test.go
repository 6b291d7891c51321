package workspace

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// sessionsOf returns a model's open sessions in a stable order.
func sessionsOf(t *testing.T, m *analysis.Model) ([]analysis.SessionState, map[string]int64) {
	t.Helper()
	sessions, clocks := m.Sessions()
	keys := make(map[*analysis.SessionState]string, len(sessions))
	ptrs := make([]*analysis.SessionState, len(sessions))
	for i := range sessions {
		ptrs[i] = &sessions[i]
		// Sorted by their fields and their record's, not by where the
		// record is: the three NSX pings of one key differ only in their
		// records, and the addresses' order is the allocator's.
		st := sessions[i]
		st.Record = nil
		keys[ptrs[i]] = fmt.Sprintf("%+v %+v", st, sessions[i].Record)
	}
	sort.Slice(ptrs, func(i, j int) bool { return keys[ptrs[i]] < keys[ptrs[j]] })
	out := make([]analysis.SessionState, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out, clocks
}

// trackingModel returns a model holding open sessions of every kind:
// enough Nutanix ones to fill several chunks, IPv6 ones, counters that do
// not fit 32 bits, unanswered ones, NSX pings that overlap (one key, three
// sessions), all with session records.
func trackingModel(t testing.TB, n int) *analysis.Model {
	t.Helper()
	m := analysis.NewModel(analysis.Options{Records: true})
	p := ingest.NewParser()
	add := func(line string) {
		var ev ingest.Event
		if b, err := p.Parse([]byte(line), &ev); b != ingest.Parsed {
			t.Fatalf("%v: %s", err, line)
		}
		m.Add(&ev)
	}
	const nx = "<134>2025-04-10T10:%02d:%02d.000000+00:00 ahv-%d Genesis_1: INFO:2025/04/10 10:%02d:%02d  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d7%d] Web [Update] SRC=%s DST=10.0.0.2 PROTO=%s SPORT=%d DPORT=443 ACTION=ALLOW DIRECTION=OUTBOUND ORIG: PKTS=%d BYTES=%d REPLY: PKTS=%d BYTES=%d"
	for i := 0; i < n; i++ {
		src := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if i%97 == 0 {
			src = fmt.Sprintf("fd00::%x", i)
		}
		proto := []string{"TCP", "UDP"}[i%2]
		reply := i % 5 // some unanswered
		add(fmt.Sprintf(nx, i/60%60, i%60, i%7, i/60%60, i%60, i%3, src, proto, 1024+i%60000, 3+i, (3+i)<<(i%40), reply, reply*1000))
	}
	for i := 0; i < 3; i++ {
		add(fmt.Sprintf("<14>2025-04-10T10:59:5%d.000Z esx-01 FIREWALL_PKTLOG: 8b4a1980 INET match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17 PING", i))
	}
	return m
}

// TestTrackingRoundTrip saves open sessions over several chunks and reads
// them back: a model continuing them holds the same sessions, clocks and
// record sequence, and its next lines close them as the first model's would.
func TestTrackingRoundTrip(t *testing.T) {
	ws := openTemp(t)
	m := trackingModel(t, 40_000)
	if err := ws.write(ctx, func(tx *sql.Tx) error { _, err := storeModel(ctx, tx, nil, m, nil, false); return err }); err != nil {
		t.Fatal(err)
	}
	var chunks int
	ws.db.QueryRow(`SELECT count(*) FROM tracking_chunks`).Scan(&chunks)
	if chunks < 2 {
		t.Fatalf("%d chunks: the test wants several", chunks)
	}
	got, err := ws.Continue(ctx, analysis.Options{Records: true})
	if err != nil {
		t.Fatal(err)
	}
	ws1, wc := sessionsOf(t, m)
	gs, gc := sessionsOf(t, got)
	if !reflect.DeepEqual(gs, ws1) || !reflect.DeepEqual(gc, wc) {
		t.Fatalf("read back %d sessions, %v; want %d, %v", len(gs), gc, len(ws1), wc)
	}
	if got.RecordSeq() != m.RecordSeq() || got.Stats().Open != 40_003 {
		t.Fatalf("record sequence %d, want %d; %d open", got.RecordSeq(), m.RecordSeq(), got.Stats().Open)
	}
	in, err := ws.Info(ctx)
	if err != nil || in.OpenConnections != 40_003 {
		t.Fatalf("info: %d open connections (%v)", in.OpenConnections, err)
	}
}

// TestTrackingVersion2 reads open connections a workspace of an earlier
// version kept in one row.
func TestTrackingVersion2(t *testing.T) {
	ws := openTemp(t)
	m := trackingModel(t, 500)
	sessions, clocks := m.Sessions()
	if _, err := ws.db.Exec(`INSERT INTO tracking (id, state) VALUES (1, ?)`, encodeTracking(sessions, clocks, m.RecordSeq())); err != nil {
		t.Fatal(err)
	}
	got, err := ws.Continue(ctx, analysis.Options{Records: true})
	if err != nil {
		t.Fatal(err)
	}
	ws1, _ := sessionsOf(t, m)
	gs, _ := sessionsOf(t, got)
	if !reflect.DeepEqual(gs, ws1) {
		t.Fatalf("read back %d sessions, want %d", len(gs), len(ws1))
	}
}

// TestTrackingDamaged: a chunk cut short is reported as damage.
func TestTrackingDamaged(t *testing.T) {
	ws := openTemp(t)
	m := trackingModel(t, 100)
	if err := ws.write(ctx, func(tx *sql.Tx) error { _, err := storeModel(ctx, tx, nil, m, nil, false); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.db.Exec(`UPDATE tracking_chunks SET state = substr(state, 1, length(state) - 3)`); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Continue(ctx, analysis.Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want damage", err)
	}
}

// encodeTracking writes the open connections as versions before 3 did, with their session records
// when the model keeps them, the host clocks and the model's record
// sequence (trackingVersion 2; version 1, without records, is still read).
func encodeTracking(sessions []analysis.SessionState, clocks map[string]int64, recordSeq uint64) []byte {
	e := enc{make([]byte, 0, 64*len(sessions)+64)}
	e.byte(trackingVersion)
	hosts := make([]string, 0, len(clocks))
	for h := range clocks {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	e.u(uint64(len(hosts)))
	for _, h := range hosts {
		e.s(h)
		e.i(clocks[h])
	}
	e.u(recordSeq)
	e.u(uint64(len(sessions)))
	for _, s := range sessions {
		e.addr(s.Src)
		e.addr(s.Dst)
		e.s(s.Host)
		e.s(s.Group)
		e.u(uint64(s.SPort))
		e.u(uint64(s.DPort))
		e.byte(s.Proto)
		e.byte(byte(s.Side))
		e.u(uint64(s.ConvDPort))
		for _, n := range s.Last {
			e.u(n)
		}
		e.i(s.Seen)
		var flags byte
		for i, f := range []bool{s.Unanswered, s.Matched, s.HasCounters, s.Record != nil} {
			if f {
				flags |= 1 << i
			}
		}
		e.byte(flags)
		if s.Record != nil {
			e.record(s.Record)
		}
	}
	return e.b
}

// BenchmarkChunkWriter measures the encoding of open connections into
// chunks, apart from the model's walk and SQLite: a commit encodes every
// open connection (900,000 at the end of make bench-ingest's short lines).
func BenchmarkChunkWriter(b *testing.B) {
	sessions := benchSessions(b)
	var w chunkWriter
	for b.Loop() {
		for i := range sessions {
			w.add(&sessions[i])
			if len(w.e.b) >= chunkSize {
				w.e.b, w.prevSeen = w.e.b[:0], 0
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(sessions)), "ns/session")
}

// BenchmarkDecodeChunk measures the decoding of open connections from
// chunks, as the next day's import restores them (900,000 on make
// bench-ingest's short lines), apart from SQLite and the model.
func BenchmarkDecodeChunk(b *testing.B) {
	sessions := benchSessions(b)
	var w chunkWriter
	var chunks [][]byte
	for i := range sessions {
		w.add(&sessions[i])
		if len(w.e.b) >= chunkSize || i == len(sessions)-1 {
			chunks = append(chunks, w.e.b)
			w.e.b, w.prevSeen = nil, 0
		}
	}
	names := w.names.Values()
	n := 0
	for b.Loop() {
		for _, c := range chunks {
			if err := decodeChunk(c, names, func(*analysis.SessionState) { n++ }); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/session")
}

// benchSessions returns the open sessions of trackingModel's 60,000
// connections, without their records, as a model without Options.Records
// hands them over.
func benchSessions(b *testing.B) []analysis.SessionState {
	sessions, _ := trackingModel(b, 60_000).Sessions()
	for i := range sessions {
		sessions[i].Record = nil
	}
	return sessions
}
