package workspace

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/s2"
)

// Sample blocks (schema 6). An import's new conversations get consecutive
// ids (blockBuilder.addNew), and their sample lines are stored as rows of
// sample_blocks (encoder.makeBlocks): each the lines of conversations
// first to last, blockMaxEntries ids at most, compressed together. Sample lines were half
// of a workspace (42k conversations of 2 M sessions: 40 of 80 MB; a million
// conversations of four lines: 0.9 of 1.3 GB), and a row of them each cost
// SQLite's insert of a row (5 s of a million-conversation commit) and the
// write of its bytes (4.4 s); the lines of one batch, from one application,
// compress 7x with S2 (below).
//
// A conversation's lines are in its conversation_samples row when it has
// one (its entry in its conversation block says so: convEntry.apart; the
// conversations stored one at a time before schema 6, those whose lines
// changed after their block was written or are too long for one, the
// workspaces of schema 5), else in the block whose range holds its id,
// else it has none. Blocks are written once and never changed: a
// conversation whose lines change gets a conversation_samples row, which
// comes first.
//
// A block's blob is a format byte and its entries compressed, in
// increasing id order: the id's offset from first, the length of its lines
// and the lines as a conversation_samples row holds them. Blobs are
// untrusted input: decoding is bounded (blockMaxRaw).
//
// Schema 7 writes S2 blocks (blockS2): they compress the lines of a batch
// 7x where DEFLATE's fastest level did 10x, in a third of its time (the
// compression was a tenth of a commit's CPU on make bench-ingest's short
// lines, more where every line is a sample); schema 6's DEFLATE blocks
// are still read.

// The format bytes of blocks.
const (
	blockFlate = 1 // a DEFLATE stream (schema 6)
	blockS2    = 2 // an S2 block (github.com/klauspost/compress/s2), with its decoded length
)

// A block holds the lines of blockMaxEntries conversations at most, and a
// conversation whose lines are longer than blockEntryMax keeps them in a
// conversation_samples row: a block's decoded size stays bounded by
// blockMaxRaw, which its reader enforces.
const (
	blockMaxEntries = 64
	blockEntryMax   = 256 << 10
	blockMaxRaw     = blockMaxEntries * (blockEntryMax + 2*binary.MaxVarintLen64)
)

// blockWriter makes the blobs of sample blocks, reusing its buffers.
type blockWriter struct {
	raw     []byte
	entries int
	out     []byte
}

// reset starts a new block.
func (w *blockWriter) reset() { w.raw, w.entries = w.raw[:0], 0 }

// add adds the lines of conversation first+off; offsets must increase.
func (w *blockWriter) add(off int64, lines []byte) {
	w.raw = binary.AppendUvarint(w.raw, uint64(off))
	w.raw = binary.AppendUvarint(w.raw, uint64(len(lines)))
	w.raw = append(w.raw, lines...)
	w.entries++
}

// blob returns the block's blob, valid until the next call.
func (w *blockWriter) blob() ([]byte, error) {
	n := s2.MaxEncodedLen(len(w.raw))
	if n < 0 {
		return nil, fmt.Errorf("a sample block of %d bytes is too large", len(w.raw))
	}
	w.out = append(slices.Grow(w.out[:0], 1+n), blockS2)
	enc := s2.Encode(w.out[1:1+n], w.raw) // a view of w.out: it has room
	w.out = w.out[:1+len(enc)]
	return w.out, nil
}

// sampleBlock is a decoded block: the lines of the conversations of ids
// first to last that have some.
type sampleBlock struct {
	first, last int64
	ok          bool // holds a block
	raw         []byte
	entries     []blockEntry
	zr          io.ReadCloser
	src         bytes.Reader
}

// blockEntry is a conversation's lines in sampleBlock.raw[from:to].
type blockEntry struct {
	off      int64
	from, to int
}

// errBadBlock is a sample block that does not decode.
var errBadBlock = errors.New("bad sample block")

// load decodes blob, the block of ids first to last.
func (b *sampleBlock) load(first, last int64, blob []byte) error {
	b.ok = false
	if len(blob) == 0 || (blob[0] != blockS2 && blob[0] != blockFlate) || last < first {
		return fmt.Errorf("%w %d: format %v, ids %d to %d", errBadBlock, first, blob[:min(len(blob), 1)], first, last)
	}
	var err error
	if blob[0] == blockS2 {
		err = b.decodeS2(blob[1:])
	} else {
		err = b.inflate(blob[1:])
	}
	if err == nil {
		err = b.index(last - first)
	}
	if err != nil {
		return fmt.Errorf("%w %d: %v", errBadBlock, first, err)
	}
	b.first, b.last, b.ok = first, last, true
	return nil
}

// decodeS2 decodes an S2 block into b.raw, after checking the length it
// says against blockMaxRaw.
func (b *sampleBlock) decodeS2(src []byte) error {
	n, err := s2.DecodedLen(src)
	switch {
	case err != nil:
		return err
	case n > blockMaxRaw:
		return fmt.Errorf("%d bytes, more than %d", n, blockMaxRaw)
	}
	b.raw, err = s2.Decode(slices.Grow(b.raw[:0], n)[:n], src)
	return err
}

// inflate decodes a DEFLATE stream into b.raw, up to blockMaxRaw bytes.
func (b *sampleBlock) inflate(src []byte) error {
	b.src.Reset(src)
	if b.zr == nil {
		b.zr = flate.NewReader(&b.src)
	} else if err := b.zr.(flate.Resetter).Reset(&b.src, nil); err != nil {
		return err
	}
	buf := bytes.NewBuffer(b.raw[:0])
	n, err := buf.ReadFrom(io.LimitReader(b.zr, blockMaxRaw+1))
	b.raw = buf.Bytes()
	switch {
	case err != nil:
		return err
	case n > blockMaxRaw:
		return fmt.Errorf("more than %d bytes", blockMaxRaw)
	}
	return nil
}

// index finds the entries of the decoded block, whose offsets must
// increase up to span.
func (b *sampleBlock) index(span int64) error {
	b.entries = b.entries[:0]
	d := dec{b: b.raw}
	for len(d.b) > 0 {
		off, size := d.u(), d.u()
		from := len(b.raw) - len(d.b)
		if d.err != nil || size > uint64(len(d.b)) || off > uint64(span) ||
			(len(b.entries) > 0 && int64(off) <= b.entries[len(b.entries)-1].off) {
			return fmt.Errorf("entry %d", len(b.entries))
		}
		d.b = d.b[size:]
		b.entries = append(b.entries, blockEntry{int64(off), from, from + int(size)})
	}
	return nil
}

// covers reports whether the block holds the lines of id, if it has any.
func (b *sampleBlock) covers(id int64) bool { return b.ok && b.first <= id && id <= b.last }

// lines returns the lines of id, a view of the block (nil: none).
func (b *sampleBlock) lines(id int64) []byte {
	if !b.covers(id) {
		return nil
	}
	off := id - b.first
	i := sort.Search(len(b.entries), func(i int) bool { return b.entries[i].off >= off })
	if i == len(b.entries) || b.entries[i].off != off {
		return nil
	}
	e := b.entries[i]
	return b.raw[e.from:e.to:e.to]
}

// rowQuerier runs a query of one row: a database, a connection or a
// transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// blockReader finds the block lines of conversations by id, in q, keeping
// the last block it read (and the last range of ids it found no block
// for): read in id order, each block is read once.
type blockReader struct {
	q        rowQuerier
	blk      sampleBlock
	gapFrom  int64 // ids gapFrom to gapTo have no block
	gapTo    int64
	gapKnown bool
}

// lines returns the lines of conversation id that its block holds (nil:
// none), valid until the next call.
func (r *blockReader) lines(ctx context.Context, id int64) ([]byte, error) {
	if r.blk.covers(id) {
		return r.blk.lines(id), nil
	}
	if r.gapKnown && r.gapFrom <= id && id <= r.gapTo {
		return nil, nil
	}
	var first, last int64
	var blob []byte
	err := r.q.QueryRowContext(ctx, `SELECT first, last, lines FROM sample_blocks WHERE first <= ?
		ORDER BY first DESC LIMIT 1`, id).Scan(&first, &last, &blob)
	switch {
	case err == sql.ErrNoRows:
		first, last = 0, 0 // the gap starts at the first id
	case err != nil:
		return nil, classify(err)
	case id <= last:
		if err := r.blk.load(first, last, blob); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return r.blk.lines(id), nil
	}
	// No block holds id: none does up to the next one.
	var next sql.NullInt64
	if err := r.q.QueryRowContext(ctx, `SELECT min(first) FROM sample_blocks WHERE first > ?`, id).Scan(&next); err != nil {
		return nil, classify(err)
	}
	r.gapFrom, r.gapTo, r.gapKnown = last+1, int64(1<<63-1), true
	if next.Valid {
		r.gapTo = next.Int64 - 1
	}
	return nil, nil
}

// samples returns the sample lines of conversation id that its block
// holds, decoded (nil: none).
func (r *blockReader) samples(ctx context.Context, id int64) ([]string, error) {
	b, err := r.lines(ctx, id)
	if err != nil || len(b) == 0 {
		return nil, err
	}
	out, err := decodeLines(b)
	if err != nil {
		return nil, fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, id, err)
	}
	return out, nil
}
