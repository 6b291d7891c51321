package workspace

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// bulkThreshold is the import size above which merging reads every stored
// key at once instead of looking each conversation up.
const bulkThreshold = 20_000

// merger adds states to the stored conversations in one transaction. Its
// statements run without ctx's cancellation (the driver starts a goroutine
// to watch a cancellable context in each call: a tenth of the CPU of an
// insert); addRow checks ctx every cancelEvery states instead.
type merger struct {
	ctx   context.Context        // for the statements: never cancelled
	done  context.Context        // the caller's
	n     int                    // states added
	own   int                    // states it merged into stored ones itself (update)
	added Counts                 // conversations stored, sessions added to the stored ones
	ids   map[analysis.Key]int64 // bulk mode: the keys stored before
	stmts []*sql.Stmt            // by key, by id, insert, update, insert batchRows, store lines, drop lines, insert a block
	buf   []byte
	blw   blockWriter  // the sample block of a batch
	rd    storedReader // stored conversations (stmts[0] and [1]) and their sample blocks
	raw   *rawStmt     // full batches inserted on the connection directly (nil: none)
	upd   *rawStmt     // stored states rewritten on it directly (nil: none)

	// A premerger merges the states of stored conversations (newMerger):
	// ids is empty, and every state it hands on is new.
	premerge bool

	// Bulk mode stores new conversations batchRows at a time: their
	// rows, their states one after the other in states, their keys, and
	// the largest id before them (see flush).
	tx      *sql.Tx
	rows    []newRow
	states  []byte
	args    []any
	pending map[analysis.Key]struct{}
	lastID  int64
	// The block the encoder made of the rows of the batch (newRow.group),
	// while the batch holds those rows and only them, in order.
	group     int64
	groupRows int
	grouped   bool
	block     []byte
}

// newRow is a conversation waiting in a batch, its state in
// merger.states[from:to], of which the last lines bytes are its sample
// lines (encodeSplit): stored in the batch's sample block (blocks.go), the
// rest in the conversation's row.
type newRow struct {
	k                            analysis.Key
	from, to, lines              int
	sessions, bytes, first, last int64
	// The encoder makes the sample block of each batchRows rows it hands
	// over (a group, numbered from 1), off the writer's goroutine: the
	// group's first row holds its blob (nil: no lines), ingroup numbers
	// the rows of the group.
	group, ingroup int64
	groupRows      int
	block          []byte
	// A state a premerger merged into the stored conversation id (0:
	// none) is the merged one; before is the stored sessions' sort key
	// (sortKeys), and linesOp says what becomes of its stored lines.
	id, before int64
	linesOp    uint8
}

// What becomes of the stored sample lines of a conversation a state is
// merged into (newRow.linesOp).
const (
	linesKept     = iota // the merged state has the same
	linesDropped         // it has none
	linesReplaced        // it has others: its own, stored in conversation_samples
)

// parts returns the record of row in states, to store, and its sample lines.
func (row *newRow) parts(states []byte) (state, lines []byte) {
	split := row.to - row.lines
	return states[row.from:split], states[split:row.to]
}

// rowsBlock returns the blob of the sample block of rows, whose states are
// in states (nil: none of them has lines a block holds), valid until w's
// next use.
func rowsBlock(w *blockWriter, rows []newRow, states []byte) ([]byte, error) {
	w.reset()
	for i := range rows {
		if _, l := rows[i].parts(states); len(l) > 0 && len(l) <= blockEntryMax {
			w.add(int64(i), l)
		}
	}
	if w.entries == 0 {
		return nil, nil
	}
	return w.blob()
}

// A batch is a block's rows: no more than a block holds.
const _ = uint(blockMaxEntries - batchRows)

// batchRows is how many new conversations one INSERT stores in bulk mode.
// A statement each cost a third more than the rows' own B-tree work (the
// statement's setup and end, the driver's arguments); longer ones gain
// little.
const batchRows = 64

// insertRows is the INSERT of n conversations. A row whose key is stored
// already is left out (OR IGNORE: the key's UNIQUE constraint is the only
// one a row of ours can break). Not ON CONFLICT DO NOTHING: that leaves the
// NOT NULL constraints able to abort a statement of many rows, so SQLite
// saved every page each statement changed to a statement journal first, in
// case it had to undo the rows before; on the long-line corpus 30,000 pages,
// 64,000 of the commit's 147,000 pwrite calls.
func insertRows(n int) string {
	return `INSERT OR IGNORE INTO conversations (src, dst, proto, dport, state, sessions, bytes, first_ns, last_ns) VALUES ` +
		strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", n-1) + `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
}

// insertColumns is how many values insertRows takes a row.
const insertColumns = 9

// updateState rewrites a stored conversation's state and sort keys; it
// takes updateColumns values.
const (
	updateState   = `UPDATE conversations SET state = ?, sessions = ?, bytes = ?, first_ns = ?, last_ns = ? WHERE id = ?`
	updateColumns = 6
)

// insertValues returns row's values in insertRows' column order; its state
// is in states.
func insertValues(row *newRow, states []byte) [insertColumns]any {
	state, _ := row.parts(states)
	return [insertColumns]any{row.k.Src[:], row.k.Dst[:], int64(row.k.Proto), int64(row.k.DPort), state,
		row.sessions, row.bytes, row.first, row.last}
}

// newMerger prepares a merger of delta states. With conn, the connection
// tx runs on (see transactConn), full batches are inserted on it directly
// (rawStmt). When premerge allows, a premerger may merge the stored
// conversations (merger.premerge, see premergerFor). stored is how many
// conversations tx holds (storedConversations).
func newMerger(ctx context.Context, tx *sql.Tx, conn *sql.Conn, delta, stored int, premerge bool) (*merger, error) {
	mg := &merger{ctx: context.WithoutCancel(ctx), done: ctx, tx: tx}
	if conn != nil {
		mg.raw = newRawStmt(conn, insertRows(batchRows), insertColumns*batchRows)
		mg.upd = newRawStmt(conn, updateState, updateColumns)
	}
	var err error
	if premerge = premerge && stored > 0 && stored < 4*delta; premerge {
		// A premerger's reader needs WAL mode (newPremerger).
		var mode string
		if err := tx.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			return nil, err
		}
		premerge = mode == "wal"
	}
	switch {
	case premerge:
		// A premerger reads the stored conversations and merges those of
		// the import: the others are new. (One it passed by is found
		// stored when its insert is ignored: see flush.) The stored keys'
		// map took 60 ms for 42,000 and would be 80 MB for a million.
		mg.ids, mg.premerge = map[analysis.Key]int64{}, true
	case delta > bulkThreshold || stored < 4*delta:
		// Look keys up one by one only when the import is small next to
		// the store; else (a first import, a large one) read every key once.
		if mg.ids, err = allKeys(ctx, tx); err != nil {
			return nil, err
		}
	}
	mg.stmts, err = prepare(ctx, tx, stmtByKey, stmtByID, insertRows(1),
		updateState,
		insertRows(batchRows),
		`INSERT OR REPLACE INTO conversation_samples (id, lines) VALUES (?, ?)`,
		`DELETE FROM conversation_samples WHERE id = ?`,
		`INSERT INTO sample_blocks (first, last, lines) VALUES (?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	mg.rd = storedReader{ctx: mg.ctx, byKey: mg.stmts[0], byID: mg.stmts[1], blr: blockReader{q: tx}}
	if mg.ids != nil {
		mg.rows = make([]newRow, 0, batchRows)
		mg.pending = make(map[analysis.Key]struct{}, batchRows)
		err = tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM conversations`).Scan(&mg.lastID)
	}
	return mg, err
}

// cancelEvery is how often merger.addRow checks its caller's context.
const cancelEvery = 1024

// addRow merges the conversation of row, its state in states[row.from:row.to],
// into its stored conversation, or stores it.
func (mg *merger) addRow(row *newRow, states []byte) error {
	if mg.n++; mg.n%cancelEvery == 0 {
		if err := mg.done.Err(); err != nil {
			return err
		}
	}
	if row.id != 0 {
		return mg.storeMerged(row, states)
	}
	if mg.ids != nil && mg.ids[row.k] == 0 {
		// Not stored before the import, the commonest case: batched
		// without lookup's variables, which the other cases make escape
		// (four allocations a conversation).
		return mg.batch(row, states[row.from:row.to])
	}
	ctx, ins := mg.ctx, mg.stmts[2]
	k, b := row.k, states[row.from:row.to]
	id, old, err := mg.rd.lookup(mg.ids, k)
	if err != nil {
		return err
	}
	if id == 0 {
		_, lines := row.parts(states)
		v := insertValues(row, states)
		r, err := ins.ExecContext(ctx, v[:]...)
		if err != nil {
			return err
		}
		// Not inserted: a state this import drained earlier was (bulk
		// mode's keys are those stored before the import).
		if n, err := r.RowsAffected(); err != nil || n == 1 {
			if err == nil {
				err = mg.storeLines(r, lines)
			}
			mg.added.Conversations += n
			mg.added.Sessions += row.sessions
			return err
		}
		if id, old, err = mg.rd.lookup(nil, k); err != nil {
			return err
		}
	}
	st, err := decodeToMerge(b, &old)
	if err != nil {
		return err
	}
	return mg.update(id, &old, &st)
}

// storeLines stores the sample lines of the conversation r inserted.
func (mg *merger) storeLines(r sql.Result, lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	id, err := r.LastInsertId()
	if err != nil {
		return err
	}
	_, err = mg.stmts[5].ExecContext(mg.ctx, id, lines)
	return err
}

// update merges st into old, the stored conversation id, and stores its
// sample lines if they changed.
func (mg *merger) update(id int64, old *storedState, st *analysis.ConvState) error {
	mg.own++
	before, _ := sortKeys(&old.ConvState)
	var split int
	var op uint8
	mg.buf, split, op = mergeRecord(mg.buf[:0], old, st)
	sessions, bytes := sortKeys(&old.ConvState)
	if err := mg.rewrite(mg.buf[:split], sessions, bytes, old.First, old.Last, id); err != nil {
		return err
	}
	mg.added.Sessions += sessions - before
	return mg.applyLines(id, op, mg.buf[split:])
}

// mergeRecord merges st into old and appends the merged record to b. It
// returns b, where the record's sample lines start in it, and what becomes
// of the stored lines.
func mergeRecord(b []byte, old *storedState, st *analysis.ConvState) ([]byte, int, uint8) {
	if old.held > 0 {
		// Its stored lines are as many as a merge keeps: they stay.
		old.Merge(st, 0)
		b, split := encodeHeld(b, &old.ConvState, old.held)
		return b, split, linesKept
	}
	old.Merge(st, analysis.DefaultSamples)
	b, split := encodeSplit(b, &old.ConvState)
	switch lines := b[split:]; {
	case string(lines) == string(old.lines):
		return b, split, linesKept
	case len(lines) == 0:
		return b, split, linesDropped
	default:
		return b, split, linesReplaced
	}
}

// decodeToMerge decodes b, a new state to merge into old (mergeRecord),
// without its sample lines when old's stored ones are as many as a merge
// keeps: those stay, and the new ones, decoded into strings only to be
// dropped, were a fifth of a next day's commit's garbage (short lines).
func decodeToMerge(b []byte, old *storedState) (analysis.ConvState, error) {
	return decodeStateLines(b, old.held == 0)
}

// applyLines does to the stored sample lines of conversation id what op
// says: lines are its new ones.
func (mg *merger) applyLines(id int64, op uint8, lines []byte) error {
	var err error
	switch op {
	case linesDropped:
		_, err = mg.stmts[6].ExecContext(mg.ctx, id)
	case linesReplaced:
		_, err = mg.stmts[5].ExecContext(mg.ctx, id, lines)
	}
	return err
}

// storeMerged stores the state of row, in states, that a premerger merged
// into its stored conversation.
func (mg *merger) storeMerged(row *newRow, states []byte) error {
	state, lines := row.parts(states)
	if err := mg.rewrite(state, row.sessions, row.bytes, row.first, row.last, row.id); err != nil {
		return err
	}
	mg.added.Sessions += row.sessions - row.before
	return mg.applyLines(row.id, row.linesOp, lines)
}

// rewrite stores state and its sort keys as stored conversation id's
// (updateState): on the connection directly when it can (upd), as the
// inserts are, else through database/sql. Through database/sql, the 41,000
// rewrites of the NSX corpus's next day spent 14 ms of the writer's CPU
// converting and checking their arguments, and made 8 MB of garbage: the
// commit took 218 ms and 410 ms of CPU, 201 and 376 directly
// (BenchmarkCommitNextDay, test binaries in turn, medians of 6 pairs).
func (mg *merger) rewrite(state []byte, sessions, bytes, first, last, id int64) error {
	if mg.upd != nil {
		r, err := mg.upd.exec(func(args []driver.NamedValue) {
			args[0].Value, args[1].Value, args[2].Value = state, sessions, bytes
			args[3].Value, args[4].Value, args[5].Value = first, last, id
		})
		if r != nil || err != nil {
			return err
		}
	}
	_, err := mg.stmts[3].ExecContext(mg.ctx, state, sessions, bytes, first, last, id)
	return err
}

// closeRaw closes the statements mg runs on the connection directly.
func (mg *merger) closeRaw() error {
	var err error
	for _, r := range []*rawStmt{mg.raw, mg.upd} {
		if r != nil {
			err = errors.Join(err, r.close())
		}
	}
	return err
}

// storedState is a stored conversation's state, sample lines included, and
// its lines as stored (nil: none); or, when held is not 0, its state
// without the held lines it has stored, as many as a merge keeps (not
// read: a merge leaves them as they are).
type storedState struct {
	analysis.ConvState
	lines []byte
	held  int
}

// batch adds the conversation of row, its state b, whose key was not
// stored before the import, to the batch of new conversations. A state of
// the same key may wait in the batch already (one this import drained): the
// batch is stored first.
func (mg *merger) batch(row *newRow, b []byte) error {
	// A row of the same key waits, or a group starts after a batch that
	// is not a group (a flush for a key broke a group): the batch is
	// stored first, so that the next ones are groups again.
	_, dup := mg.pending[row.k]
	if dup || (row.group != 0 && row.ingroup == 0 && len(mg.rows) > 0) {
		if err := mg.flush(); err != nil {
			return err
		}
	}
	mg.pending[row.k] = struct{}{}
	switch {
	case len(mg.rows) == 0 && row.ingroup == 0 && row.group != 0:
		mg.group, mg.groupRows, mg.grouped = row.group, row.groupRows, true
		mg.block = append(mg.block[:0], row.block...) // the piece goes back to the encoder
	case row.group != mg.group || row.ingroup != int64(len(mg.rows)):
		mg.grouped = false
	}
	r := *row
	r.block = nil
	r.from = len(mg.states)
	mg.states = append(mg.states, b...)
	r.to = len(mg.states)
	mg.rows = append(mg.rows, r)
	if len(mg.rows) == batchRows || (mg.grouped && len(mg.rows) == row.groupRows) {
		return mg.flush()
	}
	return nil
}

// flush stores the batch. A conversation of the batch may be stored
// already, by a state this import drained earlier: its row is then not
// inserted (the batch's keys are distinct), and the state is merged into
// it. New rows get ids above every id before them (SQLite's rowids grow by
// one), as they did inserted one at a time; the stored one has a lower id.
func (mg *merger) flush() error {
	n := len(mg.rows)
	if n == 0 {
		return nil
	}
	r, err := mg.insertBatch()
	if err != nil {
		return err
	}
	inserted, err := r.RowsAffected()
	if err != nil {
		return err
	}
	before := mg.lastID
	if inserted > 0 {
		if mg.lastID, err = r.LastInsertId(); err != nil {
			return err
		}
	}
	if inserted == int64(n) {
		if err := mg.insertBlock(); err != nil {
			return err
		}
	}
	for i := range mg.rows {
		row := &mg.rows[i]
		if inserted == int64(n) {
			mg.added.Conversations++
			mg.added.Sessions += row.sessions
			continue
		}
		if err := mg.stored(row, before); err != nil {
			return err
		}
	}
	clear(mg.pending)
	mg.rows, mg.states = mg.rows[:0], mg.states[:0] // the driver has copied the states
	mg.grouped = false
	return nil
}

// storedConversations returns how many conversations q holds.
func storedConversations(ctx context.Context, q rowQuerier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM conversations`).Scan(&n)
	return n, err
}

// insertBatch inserts the rows of the batch (INSERT OR IGNORE).
func (mg *merger) insertBatch() (sql.Result, error) {
	n := len(mg.rows)
	if n == batchRows && mg.raw != nil {
		r, err := mg.raw.exec(func(args []driver.NamedValue) {
			for i := range mg.rows {
				for j, v := range insertValues(&mg.rows[i], mg.states) {
					args[insertColumns*i+j].Value = v
				}
			}
		})
		if r != nil || err != nil {
			return r, err
		}
	}
	ins := mg.stmts[4]
	if n < batchRows {
		var err error
		if ins, err = mg.tx.PrepareContext(mg.ctx, insertRows(n)); err != nil {
			return nil, err
		}
		defer ins.Close()
	}
	mg.args = mg.args[:0]
	for i := range mg.rows {
		v := insertValues(&mg.rows[i], mg.states)
		mg.args = append(mg.args, v[:]...)
	}
	return ins.ExecContext(mg.ctx, mg.args...)
}

// insertBlock stores the sample lines of the batch, every row of which
// was inserted, with ids up to mg.lastID in order: in one sample block,
// the encoder's when the batch is its group, but for lines too long for
// one (blockEntryMax).
func (mg *merger) insertBlock() error {
	first := mg.lastID - int64(len(mg.rows)) + 1
	for i := range mg.rows {
		if _, l := mg.rows[i].parts(mg.states); len(l) > blockEntryMax {
			if _, err := mg.stmts[5].ExecContext(mg.ctx, first+int64(i), l); err != nil {
				return err
			}
		}
	}
	blob := mg.block
	if !mg.grouped || len(mg.rows) != mg.groupRows {
		var err error
		if blob, err = rowsBlock(&mg.blw, mg.rows, mg.states); err != nil {
			return err
		}
	}
	if len(blob) == 0 {
		return nil
	}
	mg.rd.blr.added()
	_, err := mg.stmts[7].ExecContext(mg.ctx, first, mg.lastID, blob)
	return err
}

// stored counts row if the batch inserted it (an id above before), and
// stores its sample lines, else merges it into the stored conversation of
// its key.
func (mg *merger) stored(row *newRow, before int64) error {
	id, old, err := mg.rd.lookup(nil, row.k)
	if err != nil {
		return err
	}
	if id == 0 {
		return fmt.Errorf("%w: conversation %v neither stored nor inserted", ErrCorrupt, row.k)
	}
	if id > before {
		mg.added.Conversations++
		mg.added.Sessions += row.sessions
		if _, lines := row.parts(mg.states); len(lines) > 0 {
			_, err = mg.stmts[5].ExecContext(mg.ctx, id, lines)
		}
		return err
	}
	st, err := decodeToMerge(mg.states[row.from:row.to], &old)
	if err != nil {
		return err
	}
	return mg.update(id, &old, &st)
}

// endpointRows is how many endpoints one INSERT stores: one each took a
// sixth of a first import's commit of 300,000 conversations.
const endpointRows = 256

// saveEndpoints records addresses seen behind an enforcement point, sorted
// and distinct (endpointSet.sorted).
func saveEndpoints(ctx context.Context, tx *sql.Tx, sorted []addr16) error {
	var ep *sql.Stmt
	args := make([]any, 0, endpointRows)
	buf := make([]byte, 16*endpointRows)
	for len(sorted) > 0 {
		n := min(len(sorted), endpointRows)
		if ep == nil || n < endpointRows {
			var err error
			if ep, err = tx.PrepareContext(ctx, `INSERT OR IGNORE INTO endpoints (addr) VALUES (?)`+
				strings.Repeat(", (?)", n-1)); err != nil {
				return err
			}
			defer ep.Close()
		}
		args = args[:0]
		for i, a := range sorted[:n] {
			b := buf[16*i : 16*i+16 : 16*i+16]
			a.put(b)
			args = append(args, b)
		}
		if _, err := ep.ExecContext(ctx, args...); err != nil {
			return err
		}
		sorted = sorted[n:]
	}
	return nil
}

// The queries of a stored conversation's state and lines (none: in a
// block, or none), by key and by id.
const (
	stmtByKey = `SELECT c.id, c.state, s.lines FROM conversations c LEFT JOIN conversation_samples s ON s.id = c.id
			WHERE c.src = ? AND c.dst = ? AND c.proto = ? AND c.dport = ?`
	stmtByID = `SELECT c.state, s.lines FROM conversations c LEFT JOIN conversation_samples s ON s.id = c.id WHERE c.id = ?`
)

// storedReader reads stored conversations: byKey and byID are stmtByKey
// and stmtByID (byKey may be nil when lookup is always given ids), blr
// their sample blocks.
type storedReader struct {
	ctx         context.Context
	byKey, byID *sql.Stmt
	blr         blockReader
}

// lookup finds a stored conversation by key: in ids when given (bulk mode),
// else with a query. It returns id 0 when there is none.
func (r *storedReader) lookup(ids map[analysis.Key]int64, k analysis.Key) (int64, storedState, error) {
	ctx, byKey, byID := r.ctx, r.byKey, r.byID
	var id int64
	var b, lines []byte
	var err error
	if ids != nil {
		if id = ids[k]; id == 0 {
			return 0, storedState{}, nil
		}
		err = byID.QueryRowContext(ctx, id).Scan(&b, &lines)
	} else {
		err = byKey.QueryRowContext(ctx, k.Src[:], k.Dst[:], k.Proto, k.DPort).Scan(&id, &b, &lines)
		if err == sql.ErrNoRows {
			return 0, storedState{}, nil
		}
	}
	if err != nil {
		return 0, storedState{}, err
	}
	old, err := readStored(ctx, &r.blr, id, b, lines)
	return id, old, err
}

// readStored decodes the stored conversation id: its state b and its lines
// (nil: none, or in a block of blr's).
func readStored(ctx context.Context, blr *blockReader, id int64, b, lines []byte) (storedState, error) {
	return readStoredInto(ctx, blr, id, b, lines, &analysis.ConvState{}, nil)
}

// readStoredInto is readStored decoding into c, whose lists it reuses, with
// the strings of labels and hosts from cache (nil: new ones): the state it
// returns shares c's lists.
func readStoredInto(ctx context.Context, blr *blockReader, id int64, b, lines []byte, c *analysis.ConvState,
	cache strCache) (storedState, error) {
	if len(b) > 0 && b[0] == codecSplit { // its lines are stored apart
		if n, err := decodeStateInto(b, c, cache, false); err == nil && n >= analysis.DefaultSamples {
			return storedState{ConvState: *c, held: n}, nil
		}
	}
	if lines == nil { // none, or in a block
		var err error
		if lines, err = blr.lines(ctx, id); err != nil {
			return storedState{}, err
		}
		lines = bytes.Clone(lines) // kept in the state: the reader reuses its block
	}
	// b may be the driver's (premerger): the lines go after a copy.
	if _, err := decodeStateInto(append(b[:len(b):len(b)], lines...), c, cache, true); err != nil {
		return storedState{}, fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, id, err)
	}
	return storedState{ConvState: *c, lines: lines}, nil
}

// allKeys reads the key of every stored conversation.
func allKeys(ctx context.Context, tx *sql.Tx) (map[analysis.Key]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, src, dst, proto, dport FROM conversations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make(map[analysis.Key]int64)
	for rows.Next() {
		var id int64
		var src, dst []byte
		var k analysis.Key
		if err := rows.Scan(&id, &src, &dst, &k.Proto, &k.DPort); err != nil {
			return nil, err
		}
		if len(src) != 16 || len(dst) != 16 {
			return nil, fmt.Errorf("%w: conversation %d has a bad address", ErrCorrupt, id)
		}
		k.Src, k.Dst = [16]byte(src), [16]byte(dst)
		ids[k] = id
	}
	return ids, rows.Err()
}

// sortKeys are the stored columns lists are sorted by: the combined session
// count and bytes of the conversation (its largest side's).
func sortKeys(st *analysis.ConvState) (sessions, bytes int64) {
	var ob, rb uint64
	for i := range st.Sides {
		s := &st.Sides[i]
		sessions = max(sessions, int64(s.Sessions))
		ob, rb = max(ob, s.Counts[1]), max(rb, s.Counts[3])
	}
	return sessions, int64(ob + rb)
}

func prepare(ctx context.Context, tx *sql.Tx, queries ...string) ([]*sql.Stmt, error) {
	var out []*sql.Stmt
	for _, q := range queries {
		s, err := tx.PrepareContext(ctx, q)
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func closeAll(stmts []*sql.Stmt) {
	for _, s := range stmts {
		s.Close()
	}
}
