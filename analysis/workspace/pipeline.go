package workspace

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// A commit stores an import's conversation states and its open connections
// in stages that run at once, on a 2-core machine spread over both cores:
// a goroutine of its own (the encoder) walks the model (and the drain
// file) in key order and merges every state into the stored conversation
// blocks (blockBuilder), handing the blocks it writes, in pieces, over a
// bounded channel to the transaction's goroutine (the writer), which
// stores them; a second goroutine, beside the first, encodes the open
// connections into chunks and hands them over a channel of their own,
// which the writer takes from too (the states wait for their sample
// lines; the open connections wait for nothing). Between the encoder and
// the writer, a third goroutine compresses the sample lines of the new
// conversations of each piece into sample blocks (blocks.go). SQLite's
// work is serial; the encoding, merging, sample reading and compression
// that preceded its statements no longer add to it. The stored rows are
// those of one goroutine doing all in turn.

// pieceRows is how many conversations a piece holds.
const pieceRows = 4 * convBlockTarget

// piecesAhead is how many pieces the encoder may have ready ahead of the
// writer: their memory is bounded by it (chunkSize for open connections).
const piecesAhead = 3

// chunksAhead is how many chunks of open connections the encoder may have
// ready ahead of the writer.
const chunksAhead = 2

// appendCacheKiB is SQLite's page cache, in KiB, while a new workspace's
// first commit stores a model's states, merged with those it drained
// (mergeDrained), and its open connections: they come in key order, so
// every insert appends to its B-tree (the index of blocks by top is a few
// pages) and a cache holds only those B-trees' right edges. The commit's
// peak was the import's: 8 MiB of cache pages filled by the 84 MB it
// writes on long Nutanix lines held it at 197-200 MiB.
const appendCacheKiB = 2 << 10

// errWriterStopped stops the encoder when the writer has failed.
var errWriterStopped = errors.New("the writer stopped")

// encoder encodes a model's states and open connections into pieces.
type encoder struct {
	toBlocks  chan *piece   // conversations to makeAllBlocks, closed when done
	out       chan *piece   // … and from it to the writer, closed when done
	free      chan *piece   // back from the writer
	chunks    chan *piece   // open connections to the writer, closed when done
	freeChunk chan *piece   // back from the writer
	stop      chan struct{} // closed by the writer when it fails
	cur       *piece
	endpoints endpointSet
	w         chunkWriter
	header    trackingHeader
	blw       blockWriter // makeAllBlocks's
	blockErr  error
	blocks    *blockBuilder
}

func newEncoder() *encoder {
	e := &encoder{toBlocks: make(chan *piece, 1), out: make(chan *piece, piecesAhead), free: make(chan *piece, piecesAhead+2),
		chunks: make(chan *piece, chunksAhead), freeChunk: make(chan *piece, chunksAhead+2),
		stop: make(chan struct{})}
	for range piecesAhead + 1 {
		e.free <- &piece{}
	}
	for range chunksAhead + 1 {
		e.freeChunk <- &piece{}
	}
	e.cur = &piece{}
	return e
}

// run encodes the states of d (nil: none), then those of m and, at the
// same time, m's open connections, and closes both channels. The sample
// blocks of the states are made on a goroutine of their own
// (makeAllBlocks), between this one and the writer.
func (e *encoder) run(m *analysis.Model, d *drainFile) error {
	var wg sync.WaitGroup
	wg.Go(e.makeAllBlocks)
	err := e.encode(m, d)
	close(e.toBlocks)
	wg.Wait()
	return cmp.Or(err, e.blockErr)
}

// makeAllBlocks makes the sample blocks of the pieces encode hands over
// (makeBlocks) and hands them to the writer, until toBlocks is closed; it
// then closes out. After a failure, of its own or the writer's, it takes
// the pieces back without handing them over.
func (e *encoder) makeAllBlocks() {
	defer close(e.out)
	stopped := false
	for p := range e.toBlocks {
		if e.blockErr == nil && !stopped {
			e.blockErr = e.makeBlocks(p)
		}
		if e.blockErr == nil && !stopped {
			select {
			case e.out <- p:
				continue
			case <-e.stop:
				stopped = true
			}
		}
		e.free <- p // room for every piece: never blocks
	}
}

// encode is run's encoding, on its goroutine.
func (e *encoder) encode(m *analysis.Model, d *drainFile) error {
	defer close(e.chunks)
	e.header.recordSeq = m.RecordSeq()
	var clocks map[string]int64
	err := d.mergeDrained(m, e.state, func(states func(*analysis.ConvState) error) error {
		var err error
		clocks, err = m.EachStateAndSession(states, e.session)
		return err
	})
	if err != nil {
		return err
	}
	e.blocks.finish(e.cur)
	if len(e.cur.writes) > 0 || len(e.cur.lines) > 0 {
		if err := e.send(); err != nil {
			return err
		}
	}
	e.header.clocks, e.header.names = clocks, e.w.names.Values()
	if len(e.w.e.b) > 0 {
		return e.sendChunk()
	}
	return nil
}

// session adds st to the chunk being written (on EachStateAndSession's
// goroutine for sessions).
func (e *encoder) session(st *analysis.SessionState) error {
	e.w.add(st)
	e.header.sessions++
	if len(e.w.e.b) >= chunkSize {
		return e.sendChunk()
	}
	return nil
}

// state adds st to the current piece.
func (e *encoder) state(st *analysis.ConvState) error {
	if st.Empty() {
		return nil
	}
	analysis.LearnEndpointsBySide(st, e.endpoints.addInOrder, e.endpoints.add) // states come in key order
	p := e.cur
	if err := e.blocks.add(p, st); err != nil {
		return err
	}
	if p.states++; p.states >= pieceRows {
		return e.send()
	}
	return nil
}

// sendChunk hands the chunk being written over and starts another.
func (e *encoder) sendChunk() error {
	var p *piece
	select {
	case p = <-e.freeChunk:
	case <-e.stop:
		return errWriterStopped
	}
	if cap(p.chunk) < chunkSize {
		// Many sessions: the next chunk fills too (grown by appends, a
		// chunk's buffers were a tenth of the commit's garbage).
		p.chunk = make([]byte, 0, chunkSize+chunkSize/8)
	}
	p.chunk, e.w.e.b, e.w.prevSeen = e.w.e.b, p.chunk[:0], 0
	select {
	case e.chunks <- p:
		return nil
	case <-e.stop:
		return errWriterStopped
	}
}

// send hands the current piece over, with the endpoints learned in order
// since the piece before, and takes an empty one.
func (e *encoder) send() error {
	e.cur.endpoints = e.endpoints.takeRun()
	select {
	case e.toBlocks <- e.cur:
	case <-e.stop:
		return errWriterStopped
	}
	select {
	case e.cur = <-e.free:
	case <-e.stop:
		return errWriterStopped
	}
	e.cur.reset()
	return nil
}

// makeBlocks makes the sample blocks of the new conversations' lines of
// p, blockMaxEntries ids at most each (their ids are consecutive): the
// writer stores them, and compressing them here takes that work off
// SQLite's goroutine. (Lines too long for a block go to a
// conversation_samples row: blockBuilder.addNew.)
func (e *encoder) makeBlocks(p *piece) error {
	var first, last int64
	open := false
	flush := func() error {
		blob, err := e.blw.blob()
		if err != nil {
			return err
		}
		from := len(p.sampleBlobs)
		p.sampleBlobs = append(p.sampleBlobs, blob...)
		p.samples = append(p.samples, sampleWrite{first: first, last: last, from: from, to: len(p.sampleBlobs)})
		open = false
		return nil
	}
	for i := range p.lines {
		l := &p.lines[i]
		if l.op != linesNew {
			continue
		}
		if open && l.id-first >= blockMaxEntries {
			if err := flush(); err != nil {
				return err
			}
		}
		if !open {
			e.blw.reset()
			first, open = l.id, true
		}
		e.blw.add(l.id-first, p.text[l.from:l.to])
		last = l.id
	}
	if open {
		return flush()
	}
	return nil
}

// storeModel adds an import's conversation states to the stored ones, those
// it drained (d, nil when none) merged with the model's (blockBuilder);
// records the endpoints they show behind an enforcement point; and
// replaces the stored open connections with the model's. The model gives
// its states in key order, the order of the blocks. With db, the blocks
// stored already are read beside the writer (storedBlocks). It returns the
// conversations it stored and the sessions it added to theirs (Counts,
// without sources).
func storeModel(ctx context.Context, tx *sql.Tx, db *sql.DB, m *analysis.Model, d *drainFile, fresh bool) (Counts, error) {
	stored, err := storedConversations(ctx, tx)
	if err != nil {
		return Counts{}, err
	}
	e := newEncoder()
	if e.blocks, err = newBlockBuilder(ctx, tx, db, stored); err != nil {
		return Counts{}, err
	}
	defer e.blocks.close()
	s, err := newBlockStore(ctx, tx)
	if err != nil {
		return Counts{}, err
	}
	defer s.close()
	restoreCache, err := appendCache(ctx, tx, fresh)
	if err != nil {
		return Counts{}, err
	}
	defer restoreCache() // its error matters on success only, checked below
	cs := chunkStore{ctx: ctx, tx: tx}
	defer cs.close()
	ew := endpointWriter{ctx: ctx, tx: tx}
	defer ew.close()
	err = encodeAndStore(e, m, d, s, &cs, &ew)
	if err == nil {
		err = finishStore(e, &cs, &ew, restoreCache)
	}
	return e.blocks.added, err
}

// finishStore ends storeModel once its states and open connections are
// stored: the connection's cache back, the endpoints not stored yet and the
// open connections' header (e's) stored.
func finishStore(e *encoder, cs *chunkStore, ew *endpointWriter, restoreCache func() error) error {
	if err := restoreCache(); err != nil {
		return err
	}
	if err := ew.finish(e.endpoints.sorted()); err != nil {
		return err
	}
	return cs.finish(&e.header)
}

// encodeAndStore runs e over d and m on a goroutine of its own and stores
// what it hands over (storePieces) on this one, the conversations' last
// batch included; it returns the first error of either, the writer's
// first: the encoder then stops.
func encodeAndStore(e *encoder, m *analysis.Model, d *drainFile, s *blockStore, cs *chunkStore, ew *endpointWriter) error {
	var wg sync.WaitGroup
	var encErr error
	wg.Go(func() { encErr = e.run(m, d) })
	err := storePieces(e, s, cs, ew)
	if err != nil {
		close(e.stop)
	}
	wg.Wait()
	return cmp.Or(err, encErr)
}

// appendCache gives tx's connection the small page cache of a commit
// whose states all append (appendCacheKiB) when small holds (smallCache),
// and returns what gives the connection its cache back: a commit that
// fails (a cancelled import) gives it back too.
func appendCache(ctx context.Context, tx *sql.Tx, small bool) (restore func() error, err error) {
	if !small {
		return func() error { return nil }, nil
	}
	return smallCache(ctx, tx, appendCacheKiB)
}

// storePieces stores the pieces e hands over, conversations (and the
// endpoints learned in order with them) and chunks of open connections as
// they come, until it closes both channels or a statement fails.
func storePieces(e *encoder, s *blockStore, cs *chunkStore, ew *endpointWriter) error {
	out, chunks := e.out, e.chunks
	for out != nil || chunks != nil {
		select {
		case p, ok := <-out:
			if !ok {
				out = nil
				continue
			}
			if err := s.store(p); err != nil {
				return err
			}
			if err := ew.add(p.endpoints); err != nil {
				return err
			}
			e.free <- p
		case p, ok := <-chunks:
			if !ok {
				chunks = nil
				continue
			}
			if err := cs.add(p.chunk); err != nil {
				return err
			}
			e.freeChunk <- p
		}
	}
	return nil
}
