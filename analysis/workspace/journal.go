package workspace

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/klauspost/compress/zstd"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// A collector's workspace is attached to a shared store: every import and
// live commit then also writes the session records of its model
// (analysis.SessionRecord) and its rule tags to the journal, in the same
// transaction, and a forwarder sends the journal to the store and drops
// what the store acknowledged. A crash therefore never loses records (they
// are committed with the figures they describe) and at worst sends a batch
// twice, which the store absorbs (records are idempotent).
//
// An import spills the records of the sessions closed so far to the journal
// as pending rows every spillRecords records, so that memory does not grow
// with the file; its commit makes them visible. Pending rows of an import
// that did not commit are deleted by the next import.

// ErrAttached is returned by Attach for a workspace attached to another store.
var ErrAttached = errors.New("workspace is attached to another store")

// ErrNotEmpty is returned by Attach for a workspace holding conversations
// imported before: their sessions have no records to send.
var ErrNotEmpty = errors.New("workspace holds conversations imported without a store")

// spillRecords is how many closed sessions' records an import keeps in
// memory before writing them to the journal.
var spillRecords = 1 << 16 // a variable for the tests

// journalVersion is the format of a journal batch.
const journalVersion = 1

// Settings keys of the attachment.
const (
	keyStore     = "store"
	keyCollector = "collector"
)

// Attach makes the workspace a collector for store (an address that names
// it, without credentials) and returns the collector's ID, random, made
// once. Attaching again to the same store returns the same ID; to another
// one, ErrAttached. A workspace that holds conversations is refused with
// ErrNotEmpty: a collector starts empty, so that the store holds everything
// it counted.
func (ws *Workspace) Attach(ctx context.Context, store string) (uint64, error) {
	var id uint64
	err := ws.write(ctx, func(tx *sql.Tx) error {
		cur, cid, err := attachment(ctx, tx)
		if err != nil {
			return err
		}
		if cur != "" {
			if cur != store {
				return fmt.Errorf("%w: %s", ErrAttached, cur)
			}
			id = cid
			return nil
		}
		n, err := storedConversations(ctx, tx)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w (%d): use a new workspace for a collector", ErrNotEmpty, n)
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		id = binary.LittleEndian.Uint64(b[:]) >> 1 // positive as an SQLite integer and a ClickHouse Int64
		for k, v := range map[string]string{keyStore: store, keyCollector: strconv.FormatUint(id, 10)} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("attach %s to %s: %w", ws.path, store, err)
	}
	return id, nil
}

// Attachment returns the store the workspace is attached to ("" when none)
// and its collector ID.
func (ws *Workspace) Attachment(ctx context.Context) (store string, collector uint64, err error) {
	return attachment(ctx, ws.db)
}

// attachment is Attachment, read by q (blocks.go: a database, a
// connection or a transaction).
func attachment(ctx context.Context, q rowQuerier) (string, uint64, error) {
	var store, id string
	err := q.QueryRowContext(ctx, `SELECT
		coalesce((SELECT value FROM settings WHERE key = ?), ''),
		coalesce((SELECT value FROM settings WHERE key = ?), '0')`, keyStore, keyCollector).Scan(&store, &id)
	if err != nil {
		return "", 0, classify(err)
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("%w: collector id %q", ErrCorrupt, id)
	}
	return store, n, nil
}

// Journaled reports whether the workspace keeps session records: whether it
// is attached to a store. The models committed to it must then keep them
// (analysis.Options.Records).
func (ws *Workspace) Journaled(ctx context.Context) (bool, error) {
	store, _, err := attachment(ctx, ws.db)
	return store != "", err
}

// errNotRecording refuses the commit of a model without records to a
// journaled workspace (attached while the model was filled).
var errNotRecording = errors.New("the workspace was attached to a store during this import: import again")

// NextBatches returns the oldest committed journal batches holding about
// limit records at most (one batch at least): their records, in order, the
// rule tags they learned, and the sequence number of the last one, 0 when
// the journal is empty.
func (ws *Workspace) NextBatches(ctx context.Context, limit int) (last int64, recs []analysis.SessionRecord, tags map[string]string, err error) {
	rows, err := ws.db.QueryContext(ctx, `SELECT seq, records, batch FROM journal WHERE pending = 0 ORDER BY seq`)
	if err != nil {
		return 0, nil, nil, classify(err)
	}
	defer rows.Close()
	tags = make(map[string]string)
	for rows.Next() {
		var seq int64
		var n int
		var b []byte
		if err := rows.Scan(&seq, &n, &b); err != nil {
			return 0, nil, nil, classify(err)
		}
		if last != 0 && len(recs)+n > limit {
			break
		}
		if recs, err = decodeBatch(b, recs, tags); err != nil {
			return 0, nil, nil, fmt.Errorf("%w: journal batch %d: %v", ErrCorrupt, seq, err)
		}
		last = seq
	}
	return last, recs, tags, classify(rows.Err())
}

// Forwarded drops the journal batches up to seq: the store holds them.
func (ws *Workspace) Forwarded(ctx context.Context, seq int64) error {
	return ws.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM journal WHERE seq <= ? AND pending = 0`, seq)
		return err
	})
}

// Unforwarded returns how many committed journal batches and records wait
// for the store.
func (ws *Workspace) Unforwarded(ctx context.Context) (batches, records int64, err error) {
	err = ws.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(records), 0) FROM journal WHERE pending = 0`).
		Scan(&batches, &records)
	return batches, records, classify(err)
}

// spiller writes an import's closed sessions' records to the journal as
// pending rows while the import reads, so memory stays bounded.
type spiller struct {
	ws    *Workspace
	token int64 // the pending rows' mark, unique to this import
}

// newSpiller deletes the pending rows an import that never committed left,
// and returns a spiller for a new import.
func (ws *Workspace) newSpiller(ctx context.Context) (*spiller, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	sp := &spiller{ws: ws, token: int64(binary.LittleEndian.Uint64(b[:])>>1) | 1}
	err := ws.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM journal WHERE pending != 0`)
		return err
	})
	return sp, err
}

// spill writes the records m closed so far once there are enough of them.
func (sp *spiller) spill(ctx context.Context, m *analysis.Model) error {
	if m.ClosedRecords() < spillRecords {
		return nil
	}
	recs := m.TakeClosedRecords()
	return sp.ws.write(ctx, func(tx *sql.Tx) error {
		return insertBatch(ctx, tx, sp.token, recs, nil)
	})
}

// journal writes the records and rule tags of m, the model of a commit, and
// makes the rows its import spilled (pending = token) visible, when the
// workspace is attached to a store. tx is the commit's transaction.
func journal(ctx context.Context, tx *sql.Tx, m *analysis.Model, token int64) error {
	store, _, err := attachment(ctx, tx)
	if err != nil || store == "" {
		return err
	}
	if !m.Recording() {
		return errNotRecording
	}
	if token != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE journal SET pending = 0 WHERE pending = ?`, token); err != nil {
			return err
		}
	}
	recs := m.Records()
	if len(recs) == 0 {
		return nil
	}
	return insertBatch(ctx, tx, 0, recs, m.RuleTags())
}

// insertBatch appends records (and tags) to the journal, in batches of at
// most spillRecords records.
func insertBatch(ctx context.Context, tx *sql.Tx, pending int64, recs []analysis.SessionRecord, tags map[string]string) error {
	for len(recs) > 0 || tags != nil {
		n := min(len(recs), spillRecords)
		b := encodeBatch(recs[:n], tags)
		if _, err := tx.ExecContext(ctx, `INSERT INTO journal (pending, records, batch) VALUES (?, ?, ?)`,
			pending, n, b); err != nil {
			return err
		}
		recs, tags = recs[n:], nil
	}
	return nil
}

// Journal batches are compressed with zstd: records repeat their hosts,
// labels and addresses, and an import writes every session's record, so
// the journal's writes, not the encoding, set a collector's import speed
// (a million records: 85 MB raw).
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
)

// zstdMagic starts a zstd frame (RFC 8878 §3.1.1).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// encodeBatch writes records and tags as a compressed journal batch.
func encodeBatch(recs []analysis.SessionRecord, tags map[string]string) []byte {
	return zenc.EncodeAll(rawBatch(recs, tags), nil)
}

func rawBatch(recs []analysis.SessionRecord, tags map[string]string) []byte {
	e := enc{make([]byte, 0, 96*len(recs)+16)}
	e.byte(journalVersion)
	e.u(uint64(len(tags)))
	for r, t := range tags {
		e.s(r)
		e.s(t)
	}
	e.u(uint64(len(recs)))
	for i := range recs {
		e.record(&recs[i])
	}
	return e.b
}

// decodeBatch appends the records of batch b to recs and adds its tags.
func decodeBatch(b []byte, recs []analysis.SessionRecord, tags map[string]string) ([]analysis.SessionRecord, error) {
	if bytes.HasPrefix(b, zstdMagic) {
		var err error
		if b, err = zdec.DecodeAll(b, nil); err != nil {
			return recs, fmt.Errorf("%w: %v", errBadRecord, err)
		}
	}
	d := dec{b: b}
	if d.byte() != journalVersion {
		return recs, errBadRecord
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		r := d.s()
		tags[r] = d.s()
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		recs = append(recs, d.record())
	}
	if d.err != nil || len(d.b) != 0 {
		return recs, errBadRecord
	}
	return recs, nil
}
