package workspace

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Samples of a source's bytes stand for the whole, so that deciding
// whether a multi-gigabyte file was already imported costs a few reads, not
// a full pass (content.go says how they are used):
//
//   - head: the first 64 KiB of the text (or the whole text when smaller);
//   - tail: the 64 KiB of text that end at the size imported;
//   - content: of the bytes on disk, their size, head and tail hashes and
//     seven 4 KiB samples spread in between.
//
// Log lines carry timestamps, so distinct logs differ in every sample.

const sampleSize = 64 << 10

type fingerprint struct {
	size          int64
	head, tail    string
	content       string
	headN, tailAt int64 // bytes hashed for head; offset where tail starts
}

// hashRange returns the hex SHA-256 of f's bytes [off, off+n).
func hashRange(f io.ReaderAt, off, n int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, off, n)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fingerprintOf samples f, whose size is size.
func fingerprintOf(f io.ReaderAt, size int64) (fingerprint, error) {
	fp := fingerprint{size: size, headN: min(size, sampleSize), tailAt: max(size-sampleSize, 0)}
	var err error
	if fp.head, err = hashRange(f, 0, fp.headN); err != nil {
		return fp, err
	}
	if fp.tail, err = hashRange(f, fp.tailAt, size-fp.tailAt); err != nil {
		return fp, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d %s %s", size, fp.head, fp.tail)
	for k := int64(1); k < 8; k++ {
		if _, err := io.Copy(h, io.NewSectionReader(f, size*k/8, min(4096, size-size*k/8))); err != nil {
			return fp, err
		}
	}
	fp.content = hex.EncodeToString(h.Sum(nil))
	return fp, nil
}

// sourceRow is what the workspace knows of an imported source.
type sourceRow struct {
	id             int64
	path           string
	size, consumed int64
	head, tail     string
	stats          sourceStats
	imports        int64
	rawStats       string // stats as stored, until the row is chosen
}

// sourceColumns are the sources columns scanSource reads.
const sourceColumns = "id, path, size, consumed, head, tail, stats, imports"

// scanSource reads a row of sourceColumns. The statistics stay JSON, for
// the caller to unmarshal once it keeps the row.
func scanSource(sc interface{ Scan(...any) error }) (sourceRow, string, error) {
	var r sourceRow
	var stats string
	err := sc.Scan(&r.id, &r.path, &r.size, &r.consumed, &r.head, &r.tail, &stats, &r.imports)
	return r, stats, err
}

// planKind says what to do with a file.
type planKind int

const (
	planNew  planKind = iota // never seen: import all of it
	planTail                 // seen smaller: import from where the last import stopped
	planSkip                 // seen with this content: nothing to do
)

// grewFrom reports whether f starts with the bytes that old was imported from.
func grewFrom(f io.ReaderAt, old sourceRow) (bool, error) {
	head, err := hashRange(f, 0, min(old.size, sampleSize))
	if err != nil || head != old.head {
		return false, err
	}
	at := max(old.size-sampleSize, 0)
	tail, err := hashRange(f, at, old.size-at)
	return err == nil && tail == old.tail, err
}

// statFile opens path for fingerprinting.
func statFile(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// sourceStats are a source's line counts, summed over its imports: the
// stored form of ingest.Stats (JSON, in the sources table). Its Counts
// add up as ingest's do; the rest differs on purpose. Pending is the
// last import's (the tail it held back is read again by the next import,
// so adding would count it twice); vendors are keyed by name, which stays
// when ingest.Vendor's numbering changes; the malformed samples are kept
// apart, with their line numbers in the source.
type sourceStats struct {
	ingest.Counts
	Pending                              int64
	Vendors                              map[string]int64 `json:",omitempty"`
	UnsupportedReasons, MalformedReasons map[string]int64 `json:",omitempty"`
}

func (s *sourceStats) add(o *ingest.Stats) {
	s.Counts.Add(o.Counts)
	s.Pending = o.Pending
	for v, n := range o.Vendors {
		if n > 0 {
			s.Vendors = addTo(s.Vendors, ingest.Vendor(v).String(), n)
		}
	}
	for r, n := range o.UnsupportedReasons {
		s.UnsupportedReasons = addTo(s.UnsupportedReasons, r, n)
	}
	for r, n := range o.MalformedReasons {
		s.MalformedReasons = addTo(s.MalformedReasons, r, n)
	}
}

func addTo(m map[string]int64, k string, n int64) map[string]int64 {
	if m == nil {
		m = make(map[string]int64)
	}
	m[k] += n
	return m
}

func (s *sourceStats) unmarshal(text string) error {
	if err := json.Unmarshal([]byte(text), s); err != nil {
		return fmt.Errorf("%w: source statistics: %v", ErrCorrupt, err)
	}
	return nil
}
