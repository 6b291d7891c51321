package workspace

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// A blockBuilder merges a commit's states, which come in key order, into
// the stored conversation blocks (convblocks.go), on the encoder's
// goroutine: it reads the block a state falls in, merges the state into
// its stored one or adds it with a new id, and hands the blocks it wrote
// to the writer, which only stores them. It reads the blocks as they were
// before the import, on a connection of its own (storedBlocks): the
// writer's transaction is not committed while it reads, and the
// workspace's writer lock keeps other writers out.
type blockBuilder struct {
	ctx    context.Context // never cancelled: the driver watches a cancellable one in every call
	stored *storedBlocks   // nil: none stored
	lastID int64           // the largest conversation id given
	added  Counts          // conversations stored, sessions added

	// The stored block the states fall in (loaded; row 0: none, the
	// states go to new blocks): its entries, views of blob, the next one
	// to pass (at), and the first key of the block after it (hasUpper).
	loaded   bool
	row      int64
	blob     []byte
	entries  []convEntry
	at       int
	upper    analysis.Key
	hasUpper bool

	// The entries of the blocks being written, in key order: their
	// encodings one after the other in out, each ending at its end.
	out  []byte
	outs []outEntry

	prev    analysis.Key // the last state's key
	started bool
	buf     []byte // a state's record and lines, encoded or merged
	old     analysis.ConvState
	strs    strCache
}

// outEntry is an entry of blockBuilder.out, its encoding ending at end.
type outEntry struct {
	convEntry
	end int
}

// newBlockBuilder returns the builder of a commit in tx into db, which
// holds stored conversations.
func newBlockBuilder(ctx context.Context, tx *sql.Tx, db *sql.DB, stored int) (*blockBuilder, error) {
	b := &blockBuilder{ctx: context.WithoutCancel(ctx), strs: strCache{}}
	var err error
	if b.lastID, err = lastConversationID(ctx, tx); err != nil || stored == 0 {
		return b, err
	}
	// A reader of the blocks needs WAL mode: in a rollback journal's, it
	// would keep the writer from spilling pages. Only a new workspace's
	// first commit is not in WAL mode, and it has nothing stored.
	var mode string
	if err := tx.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return nil, err
	}
	if mode != "wal" || db == nil {
		return nil, fmt.Errorf("a commit into %d stored conversations in journal mode %q", stored, mode)
	}
	b.stored, err = openStoredBlocks(ctx, db)
	return b, err
}

// close lets go of the builder's reader.
func (b *blockBuilder) close() {
	if b.stored != nil {
		b.stored.close()
	}
}

// add merges st into its stored conversation, or adds it, in p.
func (b *blockBuilder) add(p *piece, st *analysis.ConvState) error {
	k := st.Key()
	if b.started && indexOrder(&k, &b.prev) <= 0 {
		return fmt.Errorf("conversation %v handed after %v: states out of key order", k, b.prev)
	}
	b.prev, b.started = k, true
	if !b.loaded || (b.hasUpper && indexOrder(&k, &b.upper) >= 0) {
		b.finish(p)
		if err := b.seek(k); err != nil {
			return err
		}
	}
	for b.at < len(b.entries) && indexOrder(&b.entries[b.at].k, &k) < 0 {
		b.put(&b.entries[b.at])
		b.at++
	}
	if b.at < len(b.entries) && b.entries[b.at].k == k {
		if err := b.merge(p, &b.entries[b.at], st); err != nil {
			return err
		}
		b.at++
	} else {
		b.addNew(p, st)
	}
	for n := b.cut(convBlockMax - 1); n > 0; n = b.cut(convBlockMax - 1) {
		b.emit(p, n)
	}
	return nil
}

// cut returns how many of the entries being written go into a block
// before the rest, 0 when they are few enough to stay together: up to
// most of them, and no more than convBlockBytes of their encodings.
func (b *blockBuilder) cut(most int) int {
	switch {
	case len(b.outs) > most:
		return convBlockTarget
	case len(b.out) > convBlockBytes && len(b.outs) > 1:
		// The entries up to half their bytes.
		half := len(b.out) / 2
		n := 1
		for n < len(b.outs)-1 && b.outs[n-1].end < half {
			n++
		}
		return n
	}
	return 0
}

// put appends e to the blocks being written.
func (b *blockBuilder) put(e *convEntry) {
	b.out = appendEntry(b.out, e)
	b.outs = append(b.outs, outEntry{convEntry: *e, end: len(b.out)})
	b.outs[len(b.outs)-1].rec = nil
}

// addNew adds st, a conversation not stored, with a new id; its sample
// lines go to p, for a sample block.
func (b *blockBuilder) addNew(p *piece, st *analysis.ConvState) {
	var split int
	b.buf, split = encodeSplit(b.buf[:0], st)
	b.lastID++
	e := convEntry{k: st.Key(), id: b.lastID, first: st.First, last: st.Last, rec: b.buf[:split],
		sated: len(st.Samples) >= analysis.DefaultSamples}
	e.sessions, e.bytes = sortKeys(st)
	switch lines := b.buf[split:]; {
	case len(lines) > blockEntryMax: // too long for a sample block
		e.apart = true
		p.addLines(e.id, linesReplaced, lines)
	case len(lines) > 0:
		p.addLines(e.id, linesNew, lines)
	}
	b.put(&e)
	b.added.Conversations++
	b.added.Sessions += e.sessions
}

// merge merges st into e, its stored conversation; what becomes of e's
// sample lines goes to p. st is the model's, merged as it is (not encoded
// and decoded again first: a tenth of a next day's commit's CPU on the NSX
// corpus, BenchmarkCommitNextDay).
func (b *blockBuilder) merge(p *piece, e *convEntry, st *analysis.ConvState) error {
	old, err := b.stored.state(e, &b.old, b.strs)
	if err != nil {
		return err
	}
	before, _ := sortKeys(&old.ConvState)
	var split int
	var op uint8
	b.buf, split, op = mergeRecord(b.buf[:0], &old, st)
	b.old = old.ConvState // the lists as the merge grew them, for the next one
	m := convEntry{k: e.k, id: e.id, first: old.First, last: old.Last, apart: e.apart, rec: b.buf[:split],
		sated: old.held > 0 || len(old.Samples) >= analysis.DefaultSamples}
	m.sessions, m.bytes = sortKeys(&old.ConvState)
	if op != linesKept {
		m.apart = op == linesReplaced
		p.addLines(e.id, op, b.buf[split:])
	}
	b.put(&m)
	b.added.Sessions += m.sessions - before
	return nil
}

// seek loads the stored block k falls in: the last whose first key is not
// after k, else the first (k becomes its first key). With none stored, the
// states go to new blocks.
func (b *blockBuilder) seek(k analysis.Key) error {
	b.loaded, b.row, b.entries, b.at, b.hasUpper = true, 0, b.entries[:0], 0, false
	if b.stored == nil {
		return nil
	}
	var err error
	b.row, b.blob, b.upper, b.hasUpper, err = b.stored.block(k, b.blob)
	if err != nil || b.row == 0 {
		return err
	}
	if b.entries, err = decodeEntries(b.entries, b.blob); err != nil {
		return fmt.Errorf("%w: block %d: %v", ErrCorrupt, b.row, err)
	}
	if len(b.entries) == 0 {
		return fmt.Errorf("%w: block %d is empty", ErrCorrupt, b.row)
	}
	return nil
}

// finish ends the block loaded: its entries not passed yet are kept, and
// every entry being written goes into blocks.
func (b *blockBuilder) finish(p *piece) {
	if !b.loaded {
		return
	}
	for ; b.at < len(b.entries); b.at++ {
		b.put(&b.entries[b.at])
	}
	for n := b.cut(convBlockMax); n > 0; n = b.cut(convBlockMax) {
		b.emit(p, n)
	}
	if len(b.outs) > 0 {
		b.emit(p, len(b.outs))
	}
	b.loaded = false
}

// emit hands the first n entries being written to p as a block: the loaded
// stored block rewritten, the first time, else a new one.
func (b *blockBuilder) emit(p *piece, n int) {
	var s blockSums
	for i := range b.outs[:n] {
		s.add(&b.outs[i].convEntry)
	}
	end := b.outs[n-1].end
	from := len(p.blobs)
	p.blobs = appendBlockHead(p.blobs, n)
	p.blobs = append(p.blobs, b.out[:end]...)
	p.writes = append(p.writes, blockWrite{row: b.row, k: b.outs[0].k, sums: s, from: from, to: len(p.blobs)})
	b.row = 0
	rest := copy(b.out, b.out[end:])
	b.out = b.out[:rest]
	m := copy(b.outs, b.outs[n:])
	b.outs = b.outs[:m]
	for i := range b.outs {
		b.outs[i].end -= end
	}
}

// indexOrder compares keys as the key index orders them.
func indexOrder(a, b *analysis.Key) int {
	return cmp.Or(bytes.Compare(a.Src[:], b.Src[:]), bytes.Compare(a.Dst[:], b.Dst[:]),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.DPort, b.DPort))
}

// storedBlocks reads the stored blocks and the sample lines of their
// conversations, in one read transaction on a connection of its own.
type storedBlocks struct {
	ctx  context.Context
	conn *sql.Conn
	tx   *sql.Tx // one read transaction: each statement a transaction of its own locked and unlocked the file
	// restoreCache gives conn every connection's page cache back (smallCache).
	restoreCache func() error
	// The block a key falls in, the first block, the blocks after a key
	// (the cursor's).
	stmts []*sql.Stmt
	lr    *linesReader
	// A cursor over the blocks in key order after the last one sought
	// (nil: none yet), and the next block it holds (peek). A commit of the
	// next day falls in most blocks: stepping from one to the next read
	// each with one call where a query for each took two (the block's and
	// the next one's key).
	rows *sql.Rows
	peek storedBlock
}

// storedBlock is a stored block read: its row, first key and blob (ok:
// there is one).
type storedBlock struct {
	ok   bool
	row  int64
	k    analysis.Key
	blob []byte
}

// maxSteps is how many blocks storedBlocks.block steps over with its
// cursor, to the one a key falls in, before it seeks that one instead.
const maxSteps = 4

// storedCacheKiB is the page cache, in KiB, of a commit's reader of stored
// blocks: it reads each page once, in order.
const storedCacheKiB = 1 << 10

func openStoredBlocks(ctx context.Context, db *sql.DB) (*storedBlocks, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	restore, err := smallCache(ctx, conn, storedCacheKiB)
	if err != nil {
		conn.Close()
		return nil, err
	}
	r := &storedBlocks{ctx: context.WithoutCancel(ctx), conn: conn, restoreCache: restore}
	if r.tx, err = conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
		restore()
		conn.Close()
		return nil, err
	}
	const cols = `SELECT id, src, dst, proto, dport, states FROM conversation_blocks `
	r.stmts, err = prepare(ctx, r.tx,
		cols+`WHERE (src, dst, proto, dport) <= (?, ?, ?, ?) ORDER BY src DESC, dst DESC, proto DESC, dport DESC LIMIT 1`,
		cols+`ORDER BY src, dst, proto, dport LIMIT 1`,
		cols+`WHERE (src, dst, proto, dport) > (?, ?, ?, ?) ORDER BY src, dst, proto, dport`)
	if err == nil {
		r.lr, err = openLinesReader(ctx, r.tx)
	}
	if err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// block returns the block k falls in (row 0: none is stored): the last
// whose first key is not after k, else the first. Its blob is in blob's
// memory or in a buffer the reader had, which then takes blob's: the
// caller keeps no view of blob. It also returns the first key of the
// block after it, if there is one. Keys must ascend from one call to the
// next.
func (r *storedBlocks) block(k analysis.Key, blob []byte) (row int64, _ []byte, upper analysis.Key, hasUpper bool, err error) {
	if r.rows != nil && r.peek.ok && indexOrder(&k, &r.peek.k) >= 0 {
		for range maxSteps {
			// The cursor's block is handed over, and the cursor reads the
			// next into the caller's old buffer.
			row, blob, r.peek.blob = r.peek.row, r.peek.blob, blob
			if err := r.step(); err != nil {
				return 0, blob, upper, false, err
			}
			if !r.peek.ok || indexOrder(&k, &r.peek.k) < 0 {
				return row, blob, r.peek.k, r.peek.ok, nil
			}
		}
	}
	var found storedBlock
	found.blob = blob
	err = r.scanBlock(r.stmts[0].QueryRowContext(r.ctx, k.Src[:], k.Dst[:], int64(k.Proto), int64(k.DPort)), &found)
	if err == sql.ErrNoRows {
		err = r.scanBlock(r.stmts[1].QueryRowContext(r.ctx), &found)
	}
	if err == sql.ErrNoRows {
		return 0, blob, upper, false, nil
	}
	if err != nil {
		return 0, blob, upper, false, err
	}
	if r.rows != nil {
		r.rows.Close()
	}
	f := found.k
	if r.rows, err = r.stmts[2].QueryContext(r.ctx, f.Src[:], f.Dst[:], int64(f.Proto), int64(f.DPort)); err == nil {
		err = r.step()
	}
	return found.row, found.blob, r.peek.k, r.peek.ok, err
}

// step reads the cursor's next block into peek.
func (r *storedBlocks) step() error {
	if r.peek.ok = r.rows.Next(); !r.peek.ok {
		return r.rows.Err()
	}
	return r.scanBlock(r.rows, &r.peek)
}

// scanBlock reads a block's row from s into b (ok), its blob into b.blob's
// memory.
func (r *storedBlocks) scanBlock(s interface{ Scan(...any) error }, b *storedBlock) error {
	var src, dst []byte
	var raw sql.RawBytes
	var dest []any
	if _, ok := s.(*sql.Rows); ok {
		dest = []any{&b.row, (*sql.RawBytes)(&src), (*sql.RawBytes)(&dst), &b.k.Proto, &b.k.DPort, &raw}
	} else { // a Row's Scan takes no RawBytes
		dest = []any{&b.row, &src, &dst, &b.k.Proto, &b.k.DPort, (*[]byte)(&raw)}
	}
	if err := s.Scan(dest...); err != nil {
		return err
	}
	if len(src) != 16 || len(dst) != 16 {
		return fmt.Errorf("%w: block %d's key has a bad address", ErrCorrupt, b.row)
	}
	b.k.Src, b.k.Dst = [16]byte(src), [16]byte(dst)
	b.blob, b.ok = append(b.blob[:0], raw...), true
	return nil
}

// state decodes e's stored state into c, whose lists it reuses, with its
// sample lines when a merge needs them (readStoredInto).
func (r *storedBlocks) state(e *convEntry, c *analysis.ConvState, cache strCache) (storedState, error) {
	return readStoredInto(e.id, e.rec, c, cache, func() ([]byte, error) {
		// Kept in the state: the reader reuses its block.
		b, err := r.lr.lines(r.ctx, e)
		return bytes.Clone(b), err
	})
}

func (r *storedBlocks) close() {
	if r.rows != nil {
		r.rows.Close()
	}
	closeAll(r.stmts)
	if r.lr != nil {
		r.lr.close()
	}
	r.tx.Rollback()
	r.restoreCache()
	r.conn.Close()
}
