package workspace

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"sync"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// A commit stores an import's conversation states and its open connections
// in two stages that run at once, on a 2-core machine one on each core: a
// goroutine of its own (the encoder) walks the model (and the drain file),
// encodes every state and every open connection into pieces, and hands them
// over a bounded channel to the transaction's goroutine (the writer), which
// merges and inserts the pieces it was handed before. SQLite's work is
// serial; the encoding, sorting and sample reading that preceded each of
// its statements no longer add to it. The stored rows are those of one
// goroutine doing both in turn.

// pieceRows is how many conversations a piece holds.
const pieceRows = 4 * batchRows

// piecesAhead is how many pieces the encoder may have ready ahead of the
// writer: their memory is bounded by it (chunkSize for open connections).
const piecesAhead = 3

// piece is what the encoder hands the writer: conversations (rows, their
// states one after the other in states) or a chunk of open connections.
type piece struct {
	rows   []newRow
	states []byte
	chunk  []byte
}

// errWriterStopped stops the encoder when the writer has failed.
var errWriterStopped = errors.New("the writer stopped")

// encoder encodes a model's states and open connections into pieces.
type encoder struct {
	out       chan *piece   // to the writer, closed when done
	free      chan *piece   // back from the writer
	stop      chan struct{} // closed by the writer when it fails
	cur       *piece
	endpoints map[netip.Addr]struct{}
	w         chunkWriter
	header    trackingHeader
}

func newEncoder() *encoder {
	e := &encoder{out: make(chan *piece, piecesAhead), free: make(chan *piece, piecesAhead+2),
		stop: make(chan struct{}), endpoints: make(map[netip.Addr]struct{})}
	for range piecesAhead + 1 {
		e.free <- &piece{}
	}
	e.cur = &piece{}
	return e
}

// run encodes the states of d (nil: none) and of m, then m's open
// connections, and closes e.out.
func (e *encoder) run(m *analysis.Model, d *drainFile) error {
	defer close(e.out)
	if d != nil {
		if err := d.each(e.state); err != nil {
			return err
		}
	}
	if err := m.EachState(e.state); err != nil {
		return err
	}
	if len(e.cur.rows) > 0 {
		if err := e.send(); err != nil {
			return err
		}
	}
	e.header.recordSeq = m.RecordSeq()
	e.w.e.b = e.cur.chunk
	clocks, err := m.EachSession(func(st *analysis.SessionState) error {
		e.w.add(st)
		e.header.sessions++
		if len(e.w.e.b) >= chunkSize {
			return e.sendChunk()
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.header.clocks, e.header.names = clocks, e.w.names.Values()
	if len(e.w.e.b) > 0 {
		return e.sendChunk()
	}
	return nil
}

// state adds st to the current piece.
func (e *encoder) state(st *analysis.ConvState) error {
	if st.Empty() {
		return nil
	}
	analysis.LearnEndpoints(st, func(a netip.Addr) { e.endpoints[a] = struct{}{} })
	p := e.cur
	r := newRow{k: st.Key(), from: len(p.states), first: st.First, last: st.Last}
	r.sessions, r.bytes = sortKeys(st)
	var split int
	p.states, split = encodeSplit(p.states, st)
	r.to = len(p.states)
	r.lines = r.to - split
	p.rows = append(p.rows, r)
	if len(p.rows) == pieceRows {
		return e.send()
	}
	return nil
}

// sendChunk hands the chunk being written over.
func (e *encoder) sendChunk() error {
	e.cur.chunk = e.w.e.b
	if err := e.send(); err != nil {
		return err
	}
	e.w.e.b, e.w.prevSeen = e.cur.chunk, 0
	return nil
}

// send hands the current piece over and takes an empty one.
func (e *encoder) send() error {
	select {
	case e.out <- e.cur:
	case <-e.stop:
		return errWriterStopped
	}
	select {
	case e.cur = <-e.free:
	case <-e.stop:
		return errWriterStopped
	}
	e.cur.rows, e.cur.states, e.cur.chunk = e.cur.rows[:0], e.cur.states[:0], e.cur.chunk[:0]
	return nil
}

// storeModel adds an import's conversation states to the stored ones, those
// it drained first (d, nil when none), then the model's; records the
// endpoints they show behind an enforcement point; and replaces the stored
// open connections with the model's. The model gives its states in key
// order, so index inserts append to the B-tree instead of touching a random
// page each. In a new workspace (fresh), many conversations' index by
// bytes is built after them (deferIndex). It returns the conversations it
// stored and the sessions it added to theirs (Counts, without sources).
func storeModel(ctx context.Context, tx *sql.Tx, m *analysis.Model, d *drainFile, fresh bool) (Counts, error) {
	delta := m.Stats().Conversations
	if d != nil {
		delta += d.records
	}
	var reindex string
	if fresh && delta >= deferIndexRows {
		var err error
		if reindex, err = deferIndex(ctx, tx); err != nil {
			return Counts{}, err
		}
	}
	mg, err := newMerger(ctx, tx, delta)
	if err != nil {
		return Counts{}, err
	}
	defer closeAll(mg.stmts)
	e := newEncoder()
	var wg sync.WaitGroup
	var encErr error
	wg.Go(func() { encErr = e.run(m, d) })
	cs := chunkStore{ctx: ctx, tx: tx}
	defer cs.close()
	err = storePieces(e, mg, &cs)
	if err != nil {
		close(e.stop)
	}
	wg.Wait()
	if err == nil {
		err = encErr
	}
	if err == nil {
		err = mg.flush() // no chunk came: no open connection
	}
	if err == nil && reindex != "" {
		_, err = tx.ExecContext(ctx, reindex)
	}
	if err == nil {
		err = saveEndpoints(ctx, tx, e.endpoints)
	}
	if err == nil {
		err = cs.finish(&e.header)
	}
	return mg.added, err
}

// storePieces stores the pieces e hands over until it closes its channel
// or a statement fails.
func storePieces(e *encoder, mg *merger, cs *chunkStore) error {
	for p := range e.out {
		if len(p.chunk) > 0 {
			if cs.ins == nil {
				// The conversations are all handed over: store the last batch.
				if err := mg.flush(); err != nil {
					return err
				}
			}
			if err := cs.add(p.chunk); err != nil {
				return err
			}
		}
		for i := range p.rows {
			if err := mg.addRow(&p.rows[i], p.states); err != nil {
				return err
			}
		}
		e.free <- p
	}
	return nil
}
