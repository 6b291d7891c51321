package workspace

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// A source is recognised by its text — what it decompresses to — so that
// the same log counts once whether it is imported plain or gzipped (at any
// level, in one member or many), copied under another name, or piped on
// standard input, and so that a longer copy of a log adds only what the
// shorter one did not hold. Its row keeps the size of the text read, the
// hash of the text's first 64 KiB (head) and of the 64 KiB that end at that
// size (tail): a text whose head matches, and whose bytes up to a row's
// size end as that row's did, begins with that row's text.
//
// Regular files also keep a fingerprint of their bytes on disk (content):
// the same file imported again is recognised without reading it. Rows
// written before text fingerprints, for gzip files, hold fingerprints of the
// compressed bytes: they are recognised by content only.
//
// Plain files are sampled where needed (ReadAt); gzip files and streams
// (standard input, pipes) are read once, front to back: planning reads
// their head, and as far as a candidate row's size when one matches it,
// keeping what parsing then needs to read again. Only when a candidate
// turns out not to match is a gzip file opened again; a stream, which cannot
// be, is kept meanwhile (spool).

// source is a log opened for import.
type source struct {
	name  string
	limit int64 // the text ends here (a damaged gzip read again); -1: none
	in    *ingest.Input
	file  *os.File    // plain files: the file again, to hash samples of its text
	disk  fingerprint // of the bytes on disk (regular files); zero for streams

	// gzip and streams, read once, front to back.
	track *tracker
	head  []byte // the first sampleSize bytes of text
	spool *spool // what planning read past head, when the input cannot be opened again
	ended bool   // planning reached the end of the text

	text io.Reader // what to parse: the text from the plan's start on
}

// openSource opens name for import, its text ending at limit (-1: none).
func openSource(ctx context.Context, name string, limit int64) (*source, error) {
	in, err := ingest.OpenContext(ctx, name)
	if err != nil {
		return nil, err
	}
	s := &source{name: name, limit: limit, in: in}
	if limit >= 0 {
		in.Limit(limit)
	}
	if !in.Stream {
		f, st, err := statFile(name)
		if err != nil {
			in.Close()
			return nil, err
		}
		if s.disk, err = fingerprintOf(f, st.Size()); err != nil {
			f.Close()
			in.Close()
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if in.Gzip {
			f.Close()
		} else {
			s.file = f
		}
	}
	if s.sequential() {
		s.track = newTracker(in)
		s.text = s.track
	} else {
		s.text = in
	}
	return s, nil
}

// sequential reports whether the text is read front to back only.
func (s *source) sequential() bool { return s.in.Gzip || s.in.Stream }

func (s *source) close() {
	s.in.Close()
	if s.file != nil {
		s.file.Close()
	}
	s.spool.discard()
}

// content is the content column of a new row: the fingerprint of the bytes
// on disk, or a value no other source has for a stream.
func (s *source) content() string {
	if s.disk.content != "" {
		return s.disk.content
	}
	return fmt.Sprintf("stream %s %d", s.name, time.Now().UnixNano())
}

// plan decides how to import s, and positions s.text where reading starts.
func (ws *Workspace) plan(ctx context.Context, s *source) (planKind, sourceRow, error) {
	if s.disk.content != "" {
		var row sourceRow
		err := ws.db.QueryRowContext(ctx, `SELECT id, path FROM sources WHERE content = ? LIMIT 1`,
			s.disk.content).Scan(&row.id, &row.path)
		if err == nil {
			return planSkip, row, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return planNew, row, classify(err)
		}
	}
	if s.sequential() {
		return ws.planSequential(ctx, s)
	}
	return ws.planFile(ctx, s)
}

// planFile plans a plain file: a row whose text the file begins with
// (grewFrom) is the same log, grown since (planTail) or not (planSkip).
func (ws *Workspace) planFile(ctx context.Context, s *source) (planKind, sourceRow, error) {
	size := s.disk.size
	rows, err := ws.db.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE size <= ? AND (path = ? OR head = ? OR (size > 0 AND size < ?)) ORDER BY size DESC`,
		size, s.name, s.disk.head, sampleSize)
	if err != nil {
		return planNew, sourceRow{}, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		c, stats, err := scanSource(rows)
		if err != nil {
			return planNew, sourceRow{}, classify(err)
		}
		if grown, err := grewFrom(s.file, c); err != nil || !grown {
			continue
		}
		if c.size == size {
			return planSkip, c, nil
		}
		if err := c.stats.unmarshal(stats); err != nil {
			return planNew, sourceRow{}, err
		}
		return planTail, c, s.seek(c.consumed)
	}
	return planNew, sourceRow{}, classify(rows.Err())
}

// seek starts the text of a plain file at from.
func (s *source) seek(from int64) error { return s.in.Skip(from) }

// planSequential plans a gzip file or a stream from its text: its head,
// then, when rows begin as it does, the text up to each one's size, to see
// whether it ends as theirs did. The longest row it holds wins.
func (ws *Workspace) planSequential(ctx context.Context, s *source) (planKind, sourceRow, error) {
	if err := s.readHead(); err != nil {
		return planNew, sourceRow{}, err
	}
	cands, err := ws.headCandidates(ctx, s.head)
	if err != nil {
		return planNew, sourceRow{}, err
	}
	best := -1
	for i, c := range cands { // by size, smallest first
		if c.size > s.track.n {
			ok, err := s.advanceTo(ctx, c.size)
			if err != nil {
				return planNew, sourceRow{}, err
			}
			if !ok {
				break // the text is shorter
			}
		}
		var w []byte
		if c.size <= int64(len(s.head)) {
			w = s.head[max(c.size-sampleSize, 0):c.size]
		} else {
			w = s.track.last(sampleSize)
		}
		if hashOf(w) == c.tail {
			best = i
		}
	}
	if best < 0 {
		return planNew, sourceRow{}, s.startAt(ctx, 0)
	}
	c := cands[best]
	more := s.track.n > c.size
	if !more {
		if more, err = s.advanceTo(ctx, c.size+1); err != nil {
			return planNew, sourceRow{}, err
		}
	}
	if !more {
		return planSkip, c, nil
	}
	if err := c.stats.unmarshal(c.rawStats); err != nil {
		return planNew, sourceRow{}, err
	}
	return planTail, c, s.startAt(ctx, c.consumed)
}

// readHead reads the first sampleSize bytes of text.
func (s *source) readHead() error {
	s.head = make([]byte, sampleSize)
	n, err := io.ReadFull(s.track, s.head)
	s.head = s.head[:n]
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		s.ended, err = true, nil
	}
	return err
}

// headCandidates returns the rows whose text the head begins with, as far
// as the head tells: rows of sampleSize bytes or more with the same head
// hash, and shorter rows whose text is a prefix of head. Smallest first.
func (ws *Workspace) headCandidates(ctx context.Context, head []byte) ([]sourceRow, error) {
	full := len(head) == sampleSize
	rows, err := ws.db.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE (? AND head = ? AND size >= ?) OR (size > 0 AND size < ? AND size <= ?)`,
		full, hashOf(head), sampleSize, sampleSize, len(head))
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []sourceRow
	for rows.Next() {
		c, stats, err := scanSource(rows)
		if err != nil {
			return nil, classify(err)
		}
		if c.size < sampleSize && hashOf(head[:c.size]) != c.head {
			continue
		}
		c.rawStats = stats
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b sourceRow) int { return cmp.Compare(a.size, b.size) })
	return out, classify(rows.Err())
}

// maxSpool bounds what planning keeps of a stream that cannot be read
// again: past it, rows longer than that are not compared (the stream is
// imported as new text).
const maxSpool = 1 << 30

// advanceTo reads the text up to byte n, keeping what a stream will need
// again in the spool. It returns false when the text ends first.
func (s *source) advanceTo(ctx context.Context, n int64) (bool, error) {
	if s.ended {
		return false, nil
	}
	if s.in.Stream && s.spool == nil {
		s.spool = &spool{}
	}
	buf := make([]byte, 256<<10)
	for s.track.n < n {
		want := min(int64(len(buf)), n-s.track.n)
		if s.spool != nil && s.spool.n+want > maxSpool {
			return false, nil
		}
		k, err := s.track.Read(buf[:want])
		if s.spool != nil && k > 0 {
			if werr := s.spool.write(buf[:k]); werr != nil {
				return false, werr
			}
		}
		if errors.Is(err, io.EOF) {
			s.ended = true
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// startAt makes s.text the text from byte from on. What planning read
// since from is read again from memory when it holds it (the head, or the
// tracker's last bytes); else a gzip file is opened again, or a stream read
// again from its head and spool, and the bytes before from skipped.
func (s *source) startAt(ctx context.Context, from int64) error {
	pos := s.track.n
	if pos-from <= min(pos, sampleSize) {
		s.text = io.MultiReader(bytes.NewReader(s.track.last(pos-from)), s.track)
		s.spool.discard()
		s.spool = nil
		return nil
	}
	if s.in.Stream {
		r, err := s.spool.reader()
		if err != nil {
			return err
		}
		s.track = newTracker(io.MultiReader(bytes.NewReader(s.head), r, s.in))
	} else {
		in, err := ingest.OpenContext(ctx, s.name)
		if err != nil {
			return err
		}
		if s.limit >= 0 {
			in.Limit(s.limit)
		}
		s.in.Close()
		s.in, s.track = in, newTracker(in)
	}
	s.text = s.track
	if _, err := io.CopyN(io.Discard, s.track, from); err != nil {
		return fmt.Errorf("skip to %d in %s: %w", from, s.name, err)
	}
	return nil
}

// textPrint returns the size, head and tail hashes of the text once read;
// a plain file's text was read up to byte size.
func (s *source) textPrint(size int64) (int64, string, string, error) {
	if s.sequential() {
		size = s.track.n
		return size, hashOf(s.head[:min(size, int64(len(s.head)))]), hashOf(s.track.last(min(size, sampleSize))), nil
	}
	head, err := hashRange(s.file, 0, min(size, sampleSize))
	if err != nil {
		return 0, "", "", err
	}
	at := max(size-sampleSize, 0)
	tail, err := hashRange(s.file, at, size-at)
	return size, head, tail, err
}

// hashOf returns the hex SHA-256 of b.
func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tracker counts the text read from a gzip file or a stream and keeps its
// last sampleSize bytes: the tail to hash once it is read, and what was
// read ahead while planning.
type tracker struct {
	r    io.Reader
	n    int64
	ring []byte // the byte at text offset o is at ring[o % sampleSize]
}

func newTracker(r io.Reader) *tracker { return &tracker{r: r, ring: make([]byte, sampleSize)} }

// Read implements io.Reader.
func (t *tracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.keep(p[:n])
	return n, err
}

func (t *tracker) keep(b []byte) {
	start := t.n
	t.n += int64(len(b))
	if len(b) > len(t.ring) {
		start += int64(len(b) - len(t.ring))
		b = b[len(b)-len(t.ring):]
	}
	k := copy(t.ring[start%int64(len(t.ring)):], b)
	copy(t.ring, b[k:])
}

// last returns a copy of the last k bytes read (k at most sampleSize and n).
func (t *tracker) last(k int64) []byte {
	out := make([]byte, k)
	m := copy(out, t.ring[(t.n-k)%int64(len(t.ring)):])
	copy(out[m:], t.ring)
	return out
}

// spoolMemory is how much of a spool stays in memory before it spills to a
// temporary file.
const spoolMemory = 64 << 20

// spool keeps the bytes of a stream that planning read ahead.
type spool struct {
	mem  []byte
	file *os.File
	n    int64
}

func (p *spool) write(b []byte) error {
	p.n += int64(len(b))
	if p.file == nil && len(p.mem)+len(b) <= spoolMemory {
		p.mem = append(p.mem, b...)
		return nil
	}
	if p.file == nil {
		f, err := os.CreateTemp("", "flowsleuth-stdin-*")
		if err != nil {
			return fmt.Errorf("keep standard input while reading it: %w", err)
		}
		p.file = f
	}
	_, err := p.file.Write(b)
	return err
}

// reader returns the spooled bytes, in order (none when p is nil).
func (p *spool) reader() (io.Reader, error) {
	if p == nil {
		return bytes.NewReader(nil), nil
	}
	if p.file == nil {
		return bytes.NewReader(p.mem), nil
	}
	if _, err := p.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.MultiReader(bytes.NewReader(p.mem), p.file), nil
}

// discard removes the temporary file, if any.
func (p *spool) discard() {
	if p != nil && p.file != nil {
		p.file.Close()
		os.Remove(p.file.Name())
	}
}
