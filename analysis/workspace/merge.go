package workspace

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// blockStore stores what the encoder hands over in one transaction: the
// conversation blocks it wrote, the sample lines of their conversations
// (sample blocks for new ones, conversation_samples rows for others), on
// prepared statements (insertBlock, updateBlock, and those of lines).
type blockStore struct {
	ctx   context.Context // for the statements: never cancelled
	done  context.Context // the caller's
	stmts []*sql.Stmt
}

func newBlockStore(ctx context.Context, tx *sql.Tx) (*blockStore, error) {
	s := &blockStore{ctx: context.WithoutCancel(ctx), done: ctx}
	var err error
	s.stmts, err = prepare(ctx, tx, insertBlock, updateBlock,
		`INSERT OR REPLACE INTO conversation_samples (id, lines) VALUES (?, ?)`,
		`DELETE FROM conversation_samples WHERE id = ?`,
		`INSERT INTO sample_blocks (first, last, lines) VALUES (?, ?, ?)`)
	return s, err
}

func (s *blockStore) close() { closeAll(s.stmts) }

// store stores p's blocks and lines.
func (s *blockStore) store(p *piece) error {
	if err := s.done.Err(); err != nil {
		return err
	}
	ctx := s.ctx
	for i := range p.writes {
		w := &p.writes[i]
		v := blockValues(&w.k, &w.sums, p.blobs[w.from:w.to])
		var err error
		if w.row == 0 {
			_, err = s.stmts[0].ExecContext(ctx, v...)
		} else {
			_, err = s.stmts[1].ExecContext(ctx, append(v, w.row)...)
		}
		if err != nil {
			return err
		}
	}
	for i := range p.lines {
		l := &p.lines[i]
		var err error
		switch l.op {
		case linesReplaced:
			_, err = s.stmts[2].ExecContext(ctx, l.id, p.text[l.from:l.to])
		case linesDropped:
			_, err = s.stmts[3].ExecContext(ctx, l.id)
		}
		if err != nil {
			return err
		}
	}
	for i := range p.samples {
		b := &p.samples[i]
		if _, err := s.stmts[4].ExecContext(ctx, b.first, b.last, p.sampleBlobs[b.from:b.to]); err != nil {
			return err
		}
	}
	return nil
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

// storedState is a stored conversation's state, sample lines included, and
// its lines as stored (nil: none); or, when held is not 0, its state
// without the held lines it has stored, as many as a merge keeps (not
// read: a merge leaves them as they are).
type storedState struct {
	analysis.ConvState
	lines []byte
	held  int
}

// endpointRows is how many endpoints one INSERT stores: one each took a
// sixth of a first import's commit of 300,000 conversations.
const endpointRows = 256

// endpointWriter records addresses seen behind an enforcement point, in
// INSERTs of endpointRows (a shorter one for the last few).
type endpointWriter struct {
	ctx     context.Context
	tx      *sql.Tx
	full    *sql.Stmt // of endpointRows rows, made at its first use
	args    []any
	buf     []byte
	pending []addr16 // added, not yet stored
}

// add stores as, ascending and distinct, endpointRows at a time; it keeps
// the rest (fewer than endpointRows) for the next call. Full statements
// take their rows from as itself: at a commit's end as is every endpoint
// left, and a copy of them would be the peak's.
func (w *endpointWriter) add(as []addr16) error {
	if len(w.pending) > 0 {
		n := min(len(as), endpointRows-len(w.pending))
		w.pending, as = append(w.pending, as[:n]...), as[n:]
		if len(w.pending) < endpointRows {
			return nil
		}
		if err := w.exec(w.pending); err != nil {
			return err
		}
		w.pending = w.pending[:0]
	}
	for ; len(as) >= endpointRows; as = as[endpointRows:] {
		if err := w.exec(as[:endpointRows]); err != nil {
			return err
		}
	}
	w.pending = append(w.pending, as...)
	return nil
}

// finish stores what add kept, then rest.
func (w *endpointWriter) finish(rest []addr16) error {
	if err := w.add(rest); err != nil || len(w.pending) == 0 {
		return err
	}
	err := w.exec(w.pending)
	w.pending = w.pending[:0]
	return err
}

// exec inserts as, endpointRows of them at most.
func (w *endpointWriter) exec(as []addr16) error {
	st := w.full
	if st == nil || len(as) < endpointRows {
		var err error
		if st, err = w.tx.PrepareContext(w.ctx, `INSERT OR IGNORE INTO endpoints (addr) VALUES (?)`+
			strings.Repeat(", (?)", len(as)-1)); err != nil {
			return err
		}
		if len(as) < endpointRows {
			defer st.Close()
		} else {
			w.full = st
		}
	}
	if len(w.buf) < 16*endpointRows {
		w.buf = make([]byte, 16*endpointRows)
	}
	w.args = w.args[:0]
	for i, a := range as {
		b := w.buf[16*i : 16*i+16 : 16*i+16]
		a.put(b)
		w.args = append(w.args, b)
	}
	_, err := st.ExecContext(w.ctx, w.args...)
	return err
}

// close closes the statement.
func (w *endpointWriter) close() {
	if w.full != nil {
		w.full.Close()
	}
}

// readStoredInto decodes the stored conversation id, its record b, into c,
// whose lists it reuses, with the strings of labels and hosts from cache
// (nil: new ones): the state it returns shares c's lists. Its sample lines
// are read (lines) only when a merge needs them.
func readStoredInto(id int64, b []byte, c *analysis.ConvState, cache strCache,
	lines func() ([]byte, error)) (storedState, error) {
	if len(b) > 0 && b[0] == codecSplit { // its lines are stored apart
		if n, err := decodeStateInto(b, c, cache, false); err == nil && n >= analysis.DefaultSamples {
			return storedState{ConvState: *c, held: n}, nil
		}
	}
	ls, err := lines()
	if err != nil {
		return storedState{}, classify(err)
	}
	// b may be a view of a block: the lines go after a copy.
	if _, err := decodeStateInto(append(b[:len(b):len(b)], ls...), c, cache, true); err != nil {
		return storedState{}, fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, id, err)
	}
	return storedState{ConvState: *c, lines: ls}, nil
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
