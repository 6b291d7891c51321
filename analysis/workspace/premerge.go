package workspace

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// A premerger merges the states of conversations stored before an import
// into their stored states off the writer's goroutine: the next day's file
// into a workspace holds mostly conversations of the day before, and the
// writer looked each up, decoded it and the new state, merged and encoded
// them before its UPDATE (the commit took as long as the reading). It reads
// the stored conversations in key order, the order the states come in, in
// one statement on a connection of its own (a query each re-read the
// table's upper pages from the file). The writer's transaction is not
// committed while it reads, and the workspace's writer lock keeps other
// writers out, so it reads the conversations as they were before the
// import, as the writer would have for every key the import stores once. A
// key the import drained first is stored twice in the commit: an import
// that drained has no premerger. A state it does not merge goes to the
// writer as a new conversation; were it stored (a key out of order), its
// ignored insert would have the writer merge it (merger.flush).
type premerger struct {
	ctx  context.Context // never cancelled: the driver watches a cancellable one in every call
	conn *sql.Conn
	tx   *sql.Tx // one read transaction: each statement a transaction of its own locked and unlocked the file
	// restoreCache gives conn every connection's page cache back (smallCache).
	restoreCache func() error
	rows         *sql.Rows
	blr          blockReader
	// The stored conversation rows is at (ok: there is one): its id, key,
	// state and lines (nil: none, or in a block). The bytes are the
	// driver's, valid until the next row (sql.RawBytes): merge is done with
	// them before it moves on, and their copies, one a column, were a sixth
	// of a next day's commit's garbage.
	ok           bool
	id           int64
	k            analysis.Key
	state, lines sql.RawBytes
	merged       int
	// The stored state merge decodes, reused from row to row with its
	// lists, and the strings of its labels and hosts: decoded anew, with
	// the import's (decoded then too), they were a third of the 87 MB of
	// garbage of a next day's commit of the NSX corpus
	// (BenchmarkCommitNextDay).
	old  analysis.ConvState
	strs strCache
}

// premergeOn lets commits have a premerger; premergeDone, when not nil, is
// told after each commit that had one how many states it merged and how
// many the writer merged itself. Both are for tests.
var (
	premergeOn   = true
	premergeDone func(merged, byWriter int)
)

// premerges reports whether a commit into db may have a premerger: not
// in a new workspace (not in WAL mode) nor when its import drained states
// (drained). newMerger then decides (merger.premerge): not when nothing is
// stored, nor when four times more is stored than the commit brings (the
// premerger reads every stored conversation; the writer looks up only the
// import's).
func premerges(db *sql.DB, fresh, drained bool) bool {
	return premergeOn && db != nil && !fresh && !drained
}

// premergerFor returns the premerger of mg's commit into db, or nil.
func premergerFor(ctx context.Context, db *sql.DB, mg *merger) (*premerger, error) {
	if !mg.premerge {
		return nil, nil
	}
	return newPremerger(ctx, db)
}

// report tells premergeDone (when set) what pm (nil: none) and mg merged.
func (pm *premerger) report(mg *merger) {
	if pm != nil && premergeDone != nil {
		premergeDone(pm.merged, mg.own)
	}
}

// newPremerger returns a premerger reading db's stored conversations; db
// is in WAL mode (newMerger checked): in a rollback journal's, a reader
// would keep the writer from spilling pages.
func newPremerger(ctx context.Context, db *sql.DB) (*premerger, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// It reads each page once, in order: a small cache will do (close
	// gives the pooled connection its cache back).
	restore, err := smallCache(ctx, conn, premergeCacheKiB)
	if err != nil {
		conn.Close()
		return nil, err
	}
	pm := &premerger{ctx: context.WithoutCancel(ctx), conn: conn, restoreCache: restore, strs: strCache{}}
	if pm.tx, err = conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
		conn.Close()
		return nil, err
	}
	pm.blr = blockReader{q: pm.tx}
	// The key is read from the state (recordKey), which starts with it:
	// with the key's four columns read too, through the driver's calls for
	// each, the commit of the NSX corpus's next day took 189 ms and 353 ms
	// of CPU, against 171 and 311 (BenchmarkCommitNextDay, 6 pairs).
	pm.rows, err = pm.tx.QueryContext(pm.ctx, `SELECT c.id, c.state, s.lines
		FROM conversations c LEFT JOIN conversation_samples s ON s.id = c.id ORDER BY c.src, c.dst, c.proto, c.dport`)
	if err == nil {
		err = pm.next()
	}
	if err != nil {
		pm.close()
		return nil, err
	}
	return pm, nil
}

// next moves to the next stored conversation.
func (pm *premerger) next() error {
	if pm.ok = pm.rows.Next(); !pm.ok {
		return pm.rows.Err()
	}
	if err := pm.rows.Scan(&pm.id, &pm.state, &pm.lines); err != nil {
		return err
	}
	var err error
	if pm.k, err = recordKey(pm.state); err != nil {
		return fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, pm.id, err)
	}
	return nil
}

// indexOrder compares keys as the key index orders them.
func indexOrder(a, b *analysis.Key) int {
	return cmp.Or(bytes.Compare(a.Src[:], b.Src[:]), bytes.Compare(a.Dst[:], b.Dst[:]),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.DPort, b.DPort))
}

// merge merges st, the state of row, into its stored conversation if it
// has one: it appends the merged state to states, points row at it
// (newRow.id, before, linesOp, its sort keys and times), and reports that
// it did. st is the model's, as the encoder hands it: merged into the
// stored one as it is, not encoded and decoded again first (a tenth of a
// next day's commit's CPU on the NSX corpus, BenchmarkCommitNextDay).
func (pm *premerger) merge(row *newRow, st *analysis.ConvState, states []byte) ([]byte, bool, error) {
	for pm.ok && indexOrder(&pm.k, &row.k) < 0 {
		if err := pm.next(); err != nil {
			return states, false, err
		}
	}
	if !pm.ok || pm.k != row.k {
		return states, false, nil
	}
	old, err := readStoredInto(pm.ctx, &pm.blr, pm.id, pm.state, pm.lines, &pm.old, pm.strs)
	if err != nil {
		return states, false, err
	}
	before, _ := sortKeys(&old.ConvState)
	from := len(states)
	states, split, op := mergeRecord(states, &old, st)
	pm.old = old.ConvState // the lists as the merge grew them, for the next row
	row.id, row.before, row.linesOp = pm.id, before, op
	row.from, row.to, row.lines = from, len(states), len(states)-split
	row.sessions, row.bytes = sortKeys(&old.ConvState)
	row.first, row.last = old.First, old.Last
	pm.merged++
	return states, true, pm.next()
}

func (pm *premerger) close() {
	if pm.rows != nil {
		pm.rows.Close()
	}
	pm.tx.Rollback()
	pm.restoreCache()
	pm.conn.Close()
}

// premergeCacheKiB is the premerger's page cache, in KiB.
const premergeCacheKiB = 1 << 10
