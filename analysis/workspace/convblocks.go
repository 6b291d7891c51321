package workspace

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Conversation blocks (schema 8). Conversations are stored many to a row
// of conversation_blocks: a block holds the records (codec.go, without
// their sample lines) of the conversations of a range of keys, in key
// order, with their ids and sort columns. A row each cost SQLite about
// 2 µs of its single writer's time (statement, B-tree and index work, and
// the arguments' binding): 90 of the 115 ms of a new workspace's commit of
// the NSX corpus, and on the next day one UPDATE per conversation merged
// (41,873 of them: 69 ms). A block is one statement for 64.
//
// Invariants: every conversation is in exactly one block; blocks are
// disjoint and ordered by their first key (the row's src, dst, proto and
// dport, UNIQUE: its index finds the block of a key); a block holds
// convBlockMax conversations at most. A commit rewrites the blocks its
// states fall in (blockBuilder) and writes the others' new conversations
// convBlockTarget to a block. Conversation ids are never reused: the
// sample lines stay keyed by them (samples.go, blocks.go). The row's
// sums serve the counts (Counts, Info, Totals), its top the largest
// conversations (Top), from an index that covers them.
//
// A block's blob is a format byte, the number of its entries and the
// entries: each the conversation's id (shifted left by two: bit 0 set
// when its sample lines are in a conversation_samples row, so that a merge
// reads them there, else in its sample block, without a query that finds
// nothing; bit 1 when it has as many as a merge keeps, so that an import
// need not take any: satedKeys), sessions, bytes, first and last (its sort
// columns, as the rows of schema 7 had them) and its record, with its
// length. Blobs are untrusted input: every length is checked.

// convBlockFormat is the format byte of a conversation block's blob.
const convBlockFormat = 1

// A commit writes new conversations convBlockTarget to a block, and splits
// a block that would hold more than convBlockMax.
const (
	convBlockTarget = 64
	convBlockMax    = 2 * convBlockTarget
)

// convBlockBytes is the size of a block's entries past which a commit
// splits it, however few they are: a commit rewrites every block it
// merges a state into, and a conversation logged for a year keeps an
// entry of its sessions per hour for each hour (tens of KB). A variable
// for tests.
var convBlockBytes = 256 << 10

// convEntry is a conversation of a block: its key, id and sort columns,
// whether its sample lines are in a conversation_samples row (apart) and
// are as many as a merge keeps (sated: false when unknown), and its record
// (a view of the blob).
type convEntry struct {
	k                            analysis.Key
	id                           int64
	sessions, bytes, first, last int64
	apart, sated                 bool
	rec                          []byte
}

// appendEntry appends e's encoding in a blob (without its key, which its
// record starts with) to b.
func appendEntry(b []byte, e *convEntry) []byte {
	id := uint64(e.id) << 2
	if e.apart {
		id |= 1
	}
	if e.sated {
		id |= 2
	}
	b = binary.AppendUvarint(b, id)
	b = binary.AppendUvarint(b, uint64(e.sessions))
	b = binary.AppendUvarint(b, uint64(e.bytes))
	b = binary.AppendVarint(b, e.first)
	b = binary.AppendVarint(b, e.last)
	b = binary.AppendUvarint(b, uint64(len(e.rec)))
	return append(b, e.rec...)
}

// appendBlockHead appends the head of a blob of n entries to b: the
// entries follow it.
func appendBlockHead(b []byte, n int) []byte {
	return binary.AppendUvarint(append(b, convBlockFormat), uint64(n))
}

// errBadConvBlock is a conversation block that does not decode.
var errBadConvBlock = errors.New("bad conversation block")

// entryReader reads the entries of a blob.
type entryReader struct {
	d    dec
	left int
}

// start starts reading blob.
func (r *entryReader) start(blob []byte) error {
	if len(blob) == 0 || blob[0] != convBlockFormat {
		return fmt.Errorf("%w: format %v", errBadConvBlock, blob[:min(len(blob), 1)])
	}
	r.d = dec{b: blob[1:]}
	n := r.d.u()
	// An entry takes 7 bytes at least.
	if r.d.err != nil || n > uint64(len(r.d.b))/7 {
		return fmt.Errorf("%w: %d entries in %d bytes", errBadConvBlock, n, len(blob))
	}
	r.left = int(n)
	return nil
}

// next reads the next entry into e, without its key, and reports whether
// there was one; the error says why not.
func (r *entryReader) next(e *convEntry) (bool, error) {
	if r.left == 0 {
		if len(r.d.b) != 0 {
			return false, fmt.Errorf("%w: %d bytes after its entries", errBadConvBlock, len(r.d.b))
		}
		return false, nil
	}
	r.left--
	d := &r.d
	id := d.u()
	e.id, e.apart, e.sated = int64(id>>2), id&1 == 1, id&2 == 2
	e.sessions, e.bytes = int64(d.u()), int64(d.u())
	e.first, e.last = d.i(), d.i()
	n := d.u()
	if d.err != nil || n > uint64(len(d.b)) {
		return false, fmt.Errorf("%w: entry of %d bytes in %d", errBadConvBlock, n, len(d.b))
	}
	e.rec, d.b = d.b[:n:n], d.b[n:]
	return true, nil
}

// decodeEntries appends the entries of blob, with their keys, to es: their
// records are views of blob.
func decodeEntries(es []convEntry, blob []byte) ([]convEntry, error) {
	var r entryReader
	if err := r.start(blob); err != nil {
		return es, err
	}
	for {
		var e convEntry
		ok, err := r.next(&e)
		if !ok {
			return es, err
		}
		if e.k, err = recordKey(e.rec); err != nil {
			return es, fmt.Errorf("%w: conversation %d: %v", errBadConvBlock, e.id, err)
		}
		es = append(es, e)
	}
}

// blockSums are a block's columns but its key and blob.
type blockSums struct {
	n, sessions, bytes, top, first, last, lastID int64
}

// add counts e in s.
func (s *blockSums) add(e *convEntry) {
	s.n++
	s.sessions += e.sessions
	s.bytes += e.bytes
	s.top = max(s.top, e.bytes)
	if e.first != 0 && (s.first == 0 || e.first < s.first) {
		s.first = e.first
	}
	s.last = max(s.last, e.last)
	s.lastID = max(s.lastID, e.id)
}

// The statements that write blocks, and the values they take.
const (
	insertBlock = `INSERT INTO conversation_blocks (src, dst, proto, dport, n, sessions, bytes, top,
		first_ns, last_ns, last_id, states) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateBlock = `UPDATE conversation_blocks SET src = ?, dst = ?, proto = ?, dport = ?, n = ?, sessions = ?,
		bytes = ?, top = ?, first_ns = ?, last_ns = ?, last_id = ?, states = ? WHERE id = ?`
)

// blockValues returns the values of insertBlock of a block whose first
// key is k.
func blockValues(k *analysis.Key, s *blockSums, blob []byte) []any {
	return []any{k.Src[:], k.Dst[:], int64(k.Proto), int64(k.DPort), s.n, s.sessions, s.bytes, s.top,
		s.first, s.last, s.lastID, blob}
}

// storedConversations returns how many conversations q holds (from the
// index by top, which covers the counts).
func storedConversations(ctx context.Context, q rowQuerier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT coalesce(sum(n), 0) FROM conversation_blocks`).Scan(&n)
	return n, err
}

// lastConversationID returns the largest conversation id q holds (0: none).
func lastConversationID(ctx context.Context, q rowQuerier) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(last_id), 0) FROM conversation_blocks`).Scan(&id)
	return id, err
}

func init() { migrationSteps[7] = blocksFromRows }

// blocksFromRows is schema 8's migration: it stores the conversations of
// schema 7's rows in blocks of convBlockTarget (fewer past convBlockBytes),
// in key order, and drops the rows.
func blocksFromRows(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.state, c.sessions, c.bytes, c.first_ns, c.last_ns,
		s.id IS NOT NULL FROM conversations c LEFT JOIN conversation_samples s ON s.id = c.id
		ORDER BY c.src, c.dst, c.proto, c.dport`)
	if err != nil {
		return err
	}
	defer rows.Close()
	ins, err := tx.PrepareContext(ctx, insertBlock)
	if err != nil {
		return err
	}
	defer ins.Close()
	var es []convEntry
	var body []byte
	flush := func() error {
		if len(es) == 0 {
			return nil
		}
		var s blockSums
		blob := appendBlockHead(nil, len(es))
		for i := range es {
			s.add(&es[i])
		}
		blob = append(blob, body...)
		_, err := ins.ExecContext(ctx, blockValues(&es[0].k, &s, blob)...)
		es, body = es[:0], body[:0]
		return err
	}
	for rows.Next() {
		var e convEntry
		if err := rows.Scan(&e.id, &e.rec, &e.sessions, &e.bytes, &e.first, &e.last, &e.apart); err != nil {
			return err
		}
		if e.k, err = recordKey(e.rec); err != nil {
			return fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, e.id, err)
		}
		body = appendEntry(body, &e)
		e.rec = nil
		if es = append(es, e); len(es) == convBlockTarget || len(body) > convBlockBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	rows.Close()
	_, err = tx.ExecContext(ctx, `DROP TABLE conversations`)
	return err
}

// eachEntry hands fn every stored conversation's entry, block by block
// (in no order), on conn: SQLite reads the blocks on another goroutine
// (records.go). where, when not "", selects blocks (its args follow). fn
// must not keep the entry's record.
func eachEntry(ctx context.Context, conn *sql.Conn, where string, args []any, fn func(e *convEntry) error) error {
	return eachRecord(ctx, conn, blocksQuery(where), args, func(block int64, blob []byte) error {
		return blockEntries(block, blob, fn)
	})
}

// eachEntryIn is eachEntry through tx, row by row, so that fn may query tx
// while it runs: what it reads there is what tx sees, as the blocks are.
func eachEntryIn(ctx context.Context, tx *sql.Tx, where string, args []any, fn func(e *convEntry) error) error {
	rows, err := tx.QueryContext(ctx, blocksQuery(where), args...)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var block int64
		var blob sql.RawBytes
		if err := rows.Scan(&block, &blob); err != nil {
			return classify(err)
		}
		if err := blockEntries(block, blob, fn); err != nil {
			return err
		}
	}
	return classify(rows.Err())
}

// blocksQuery is the query of the blocks where selects (all: ""), as
// columns id and state.
func blocksQuery(where string) string {
	query := `SELECT id, states AS state FROM conversation_blocks`
	if where != "" {
		query += ` WHERE ` + where
	}
	return query
}

// blockEntries hands fn the entries of block, its blob.
func blockEntries(block int64, blob []byte, fn func(e *convEntry) error) error {
	var r entryReader
	if err := r.start(blob); err != nil {
		return fmt.Errorf("%w: block %d: %v", ErrCorrupt, block, err)
	}
	for {
		var e convEntry
		ok, err := r.next(&e)
		if err != nil {
			return fmt.Errorf("%w: block %d: %v", ErrCorrupt, block, err)
		}
		if !ok {
			return nil
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
}
