package workspace

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// The open connections an import leaves are kept for the next one. A busy
// application leaves a million (connections that are never logged closed,
// such as periodic hit logs'), so they are written and read as a stream:
// the tracking row holds a header (trackingChunked: host clocks, the record
// sequence, the host and policy names the sessions refer to, their count),
// and tracking_chunks holds the sessions, in rows of about chunkSize bytes,
// about 30 bytes each. Neither side holds them all at once in any form but
// the model's own table.

// trackingChunked is the version of the header chunkStore writes.
// Versions 1 and 2 (codec.go: everything in the tracking row) are still read.
const trackingChunked = 3

// chunkSize is about how many bytes of sessions a tracking_chunks row holds.
const chunkSize = 1 << 20

// Session flags in a chunk.
const (
	tfUnanswered = 1 << iota
	tfMatched
	tfCounted
	tfRecord
	tfIPv6
)

// trackingHeader is what the tracking row says.
type trackingHeader struct {
	clocks    map[string]int64
	recordSeq uint64
	names     []string // hosts and policy UUIDs, by the index sessions use
	sessions  int      // open sessions
}

// chunkStore replaces the stored open connections in tx: the chunks it is
// given, in order, then the header.
type chunkStore struct {
	ctx context.Context
	tx  *sql.Tx
	ins *sql.Stmt
	seq int64
}

// add stores chunk b after those before, the first time removing the
// stored ones.
func (cs *chunkStore) add(b []byte) error {
	if cs.ins == nil {
		if _, err := cs.tx.ExecContext(cs.ctx, `DELETE FROM tracking_chunks`); err != nil {
			return err
		}
		var err error
		if cs.ins, err = cs.tx.PrepareContext(cs.ctx, `INSERT INTO tracking_chunks (seq, state) VALUES (?, ?)`); err != nil {
			return err
		}
	}
	cs.seq++
	_, err := cs.ins.ExecContext(cs.ctx, cs.seq, b)
	return err
}

// finish stores header h of the chunks added (none: the stored ones are
// removed).
func (cs *chunkStore) finish(h *trackingHeader) error {
	if cs.ins == nil {
		if _, err := cs.tx.ExecContext(cs.ctx, `DELETE FROM tracking_chunks`); err != nil {
			return err
		}
	}
	_, err := cs.tx.ExecContext(cs.ctx, `INSERT INTO tracking (id, state) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state`, encodeHeader(h))
	return err
}

func (cs *chunkStore) close() {
	if cs.ins != nil {
		cs.ins.Close()
	}
}

// chunkWriter encodes sessions into chunks.
type chunkWriter struct {
	e        enc
	names    analysis.Interner[string] // hosts and policy UUIDs
	hosts    [8]nameMemo               // hosts looked up last, by nameSlot
	groups   [8]nameMemo               // policy UUIDs looked up last
	prevSeen int64
}

// nameMemo is a name and its number plus one (0: empty).
type nameMemo struct {
	s  string
	id uint64
}

// name returns the number of host or policy UUID s, looked up in memo
// first. The sessions of a commit name a few hosts and policies, each a
// million times: a memo of the last ones spares the map its hashing (the
// model hands over its interned copies, which mostly compare by pointer).
func (w *chunkWriter) name(s string, memo *[8]nameMemo) uint64 {
	m := &memo[nameSlot(s)]
	if m.id != 0 && m.s == s {
		return m.id - 1
	}
	id := uint64(w.names.ID(s))
	*m = nameMemo{s, id + 1}
	return id
}

// nameSlot places s in a chunkWriter's memo (hosts or groups): by its
// length and last byte, where hosts' numbers and UUIDs differ.
func nameSlot(s string) int {
	n := len(s)
	if n > 0 {
		n += int(s[n-1])
	}
	return n & 7
}

// add encodes st after the sessions before it. The bytes are appended to
// a local slice, grown once: e.u's appends through the pointer stored and
// loaded the slice at every field.
func (w *chunkWriter) add(st *analysis.SessionState) {
	flags := flagIf(st.Unanswered, tfUnanswered) | flagIf(st.Matched, tfMatched) | flagIf(st.HasCounters, tfCounted) |
		flagIf(st.Record != nil, tfRecord) | flagIf(!st.Src.Is4(), tfIPv6)
	b := slices.Grow(w.e.b, maxSessionBytes)
	b = append(b, flags)
	if flags&tfIPv6 != 0 {
		s, d := st.Src.As16(), st.Dst.As16()
		b = append(append(b, s[:]...), d[:]...)
	} else {
		s, d := st.Src.As4(), st.Dst.As4()
		b = append(append(b, s[:]...), d[:]...)
	}
	b = binary.AppendUvarint(b, w.name(st.Host, &w.hosts))
	b = binary.AppendUvarint(b, w.name(st.Group, &w.groups))
	b = binary.AppendUvarint(b, uint64(st.SPort))
	b = binary.AppendUvarint(b, uint64(st.DPort))
	b = append(b, st.Proto, byte(st.Side))
	b = binary.AppendUvarint(b, uint64(st.ConvDPort))
	if flags&tfCounted != 0 {
		for _, n := range st.Last {
			b = binary.AppendUvarint(b, n)
		}
	}
	w.e.b = binary.AppendVarint(b, st.Seen-w.prevSeen)
	w.prevSeen = st.Seen
	if st.Record != nil {
		w.e.record(st.Record)
	}
}

// maxSessionBytes bounds what add writes of a session without its record.
const maxSessionBytes = 1 + 2*16 + 9*binary.MaxVarintLen64 + 2

// flagIf returns flag when set holds, else 0.
func flagIf(set bool, flag byte) byte {
	if set {
		return flag
	}
	return 0
}

func encodeHeader(h *trackingHeader) []byte {
	e := enc{}
	e.byte(trackingChunked)
	hosts := make([]string, 0, len(h.clocks))
	for host := range h.clocks {
		hosts = append(hosts, host)
	}
	sort.Strings(hosts)
	e.u(uint64(len(hosts)))
	for _, host := range hosts {
		e.s(host)
		e.i(h.clocks[host])
	}
	e.u(h.recordSeq)
	e.u(uint64(len(h.names)))
	for _, n := range h.names {
		e.s(n)
	}
	e.u(uint64(h.sessions))
	return e.b
}

func decodeHeader(b []byte) (trackingHeader, error) {
	d := dec{b: b}
	h := trackingHeader{clocks: make(map[string]int64)}
	if d.byte() != trackingChunked {
		return h, errBadRecord
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		host := d.s()
		h.clocks[host] = d.i()
	}
	h.recordSeq = d.u()
	for n := d.count(); n > 0 && d.err == nil; n-- {
		h.names = append(h.names, d.s())
	}
	h.sessions = int(d.u())
	if d.err != nil || len(d.b) != 0 {
		return h, errBadRecord
	}
	return h, nil
}

// decodeChunk calls fn with each session of a chunk, in one SessionState
// that fn must not keep: handed to fn, a state of each session's own went
// to the heap (a next day's import restores 900,000).
func decodeChunk(b []byte, names []string, fn func(*analysis.SessionState)) error {
	d := dec{b: b}
	name := func() string {
		i := d.u()
		if i >= uint64(len(names)) {
			d.fail()
			return ""
		}
		return names[i]
	}
	var seen int64
	var st analysis.SessionState
	for len(d.b) > 0 && d.err == nil {
		flags := d.byte()
		st = analysis.SessionState{}
		st.Src, st.Dst = d.addrOf(flags&tfIPv6 != 0), d.addrOf(flags&tfIPv6 != 0)
		st.Host, st.Group = name(), name()
		st.SPort, st.DPort = uint16(d.u()), uint16(d.u())
		st.Proto, st.Side = d.byte(), ingest.Direction(d.byte())
		st.ConvDPort = uint16(d.u())
		if flags&tfCounted != 0 {
			for i := range st.Last {
				st.Last[i] = d.u()
			}
		}
		seen += d.i()
		st.Seen = seen
		st.Unanswered, st.Matched, st.HasCounters = flags&tfUnanswered != 0, flags&tfMatched != 0, flags&tfCounted != 0
		if flags&tfRecord != 0 {
			r := d.record()
			st.Record = &r
		}
		if d.err == nil {
			fn(&st)
		}
	}
	return d.err
}

// sessionSink takes the open connections openTracking reads: how many
// (sized, when not nil), then the sessions, in batches of at most
// sinkBatch (batch must not keep them).
type sessionSink struct {
	sized func(n int)
	batch func([]analysis.SessionState)
}

// sinkBatch is how many sessions a sessionSink is given at once.
const sinkBatch = 1024

// openTracking reads the stored open connections: each host's clock, the
// record sequence and how many sessions, then the sessions, which it gives
// to sink (nil: it reads the header only). It reads in one transaction, so
// that it sees one import's connections.
func (ws *Workspace) openTracking(ctx context.Context, sink *sessionSink) (trackingHeader, error) {
	tx, err := ws.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return trackingHeader{}, classify(err)
	}
	defer tx.Rollback()
	var b []byte
	err = tx.QueryRowContext(ctx, `SELECT state FROM tracking WHERE id = 1`).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return trackingHeader{clocks: map[string]int64{}}, nil
	}
	if err != nil {
		return trackingHeader{}, classify(err)
	}
	if len(b) > 0 && b[0] != trackingChunked { // versions 1 and 2: all in one row
		tr, err := decodeTracking(b)
		if err != nil {
			return trackingHeader{}, trackingCorrupt(err)
		}
		if sink != nil {
			sink.size(len(tr.sessions))
			for lo := 0; lo < len(tr.sessions); lo += sinkBatch {
				sink.batch(tr.sessions[lo:min(lo+sinkBatch, len(tr.sessions))])
			}
		}
		return trackingHeader{clocks: tr.clocks, recordSeq: tr.recordSeq, sessions: len(tr.sessions)}, nil
	}
	h, err := decodeHeader(b)
	if err != nil || sink == nil {
		if err != nil {
			err = trackingCorrupt(err)
		}
		return h, err
	}
	sink.size(h.sessions)
	return h, readChunks(ctx, tx, h, sink.batch)
}

func (s *sessionSink) size(n int) {
	if s.sized != nil {
		s.sized(n)
	}
}

// readChunks gives fn every session of the stored chunks of open
// connections, and checks that they are as many as header h says. The
// chunks are read and decoded on a goroutine of their own while fn takes
// the batches before: restoring a million sessions into a model took as
// long as decoding them.
func readChunks(ctx context.Context, tx *sql.Tx, h trackingHeader, fn func([]analysis.SessionState)) error {
	full := make(chan []analysis.SessionState, 1)
	free := make(chan []analysis.SessionState, chunkBatches)
	for range chunkBatches {
		free <- make([]analysis.SessionState, 0, sinkBatch)
	}
	var err error
	go func() {
		defer close(full)
		err = decodeChunks(ctx, tx, h, full, free)
	}()
	for b := range full {
		fn(b)
		free <- b[:0]
	}
	return err // set before full was closed
}

// chunkBatches is how many batches of sinkBatch sessions readChunks has:
// one being decoded, one waiting and one being restored.
const chunkBatches = 3

// decodeChunks decodes the stored chunks into batches taken from free and
// sends them, full, to full (the last one when done).
func decodeChunks(ctx context.Context, tx *sql.Tx, h trackingHeader, full, free chan []analysis.SessionState) error {
	rows, err := tx.QueryContext(ctx, `SELECT state FROM tracking_chunks ORDER BY seq`)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	n := 0
	var b []byte
	batch := <-free
	for rows.Next() {
		if err := rows.Scan(&b); err != nil {
			return classify(err)
		}
		err := decodeChunk(b, h.names, func(st *analysis.SessionState) {
			n++
			if batch = append(batch, *st); len(batch) == sinkBatch {
				full <- batch
				batch = <-free
			}
		})
		if err != nil {
			return trackingCorrupt(err)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	if len(batch) > 0 {
		full <- batch
	}
	if n != h.sessions {
		return trackingCorrupt(fmt.Errorf("%d sessions, the header says %d", n, h.sessions))
	}
	return nil
}

// trackingCorrupt is the error of stored open connections that cannot be read.
func trackingCorrupt(err error) error { return fmt.Errorf("%w: open connections: %v", ErrCorrupt, err) }

// addrOf reads an IPv4 or an IPv6 address written without its length.
func (d *dec) addrOf(v6 bool) (a netip.Addr) {
	n := 4
	if v6 {
		n = 16
	}
	if len(d.b) < n {
		d.fail()
		return a
	}
	if v6 {
		a = netip.AddrFrom16([16]byte(d.b[:16]))
	} else {
		a = netip.AddrFrom4([4]byte(d.b[:4]))
	}
	d.b = d.b[n:]
	return a
}

// Tracking returns the connections left open by the last import or live
// commit, and each host's clock: what a model continuing from the
// workspace's state is restored from (see Continue).
func (ws *Workspace) Tracking(ctx context.Context) ([]analysis.SessionState, map[string]int64, error) {
	var sessions []analysis.SessionState
	h, err := ws.openTracking(ctx, &sessionSink{batch: func(sts []analysis.SessionState) {
		sessions = append(sessions, sts...) // each decoded Record is its own
	}})
	return sessions, h.clocks, err
}

// Continue returns a model with options o continuing the workspace's open
// connections, as the next live commit needs: it keeps session records when
// the workspace is attached to a store, continuing their IDs.
func (ws *Workspace) Continue(ctx context.Context, o analysis.Options) (*analysis.Model, error) {
	return ws.continueSized(ctx, o, nil)
}

// continueSized is Continue, whose model's open-connection tables are
// sized for the stored connections and, with reserve (nil: not), for an
// import's input too, before the connections are restored into them: a
// table grown a quarter at a time moves each connection it holds five
// times on average, and the million a busy application leaves open took a
// second to restore that way.
func (ws *Workspace) continueSized(ctx context.Context, o analysis.Options, reserve func(*analysis.Model)) (*analysis.Model, error) {
	journaled, err := ws.Journaled(ctx)
	if err != nil {
		return nil, err
	}
	o.Records = o.Records || journaled
	m := analysis.NewModel(o)
	if reserve != nil {
		reserve(m)
	}
	h, err := ws.openTracking(ctx, &sessionSink{sized: m.ReserveOpen, batch: m.RestoreSessions})
	if err != nil {
		return nil, err
	}
	m.RestoreClocks(h.clocks)
	m.SetRecordSeq(h.recordSeq)
	return m, nil
}
