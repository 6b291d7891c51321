package workspace

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// isGzip reports whether f is gzip-compressed, as ingest.Open decides.
func isGzip(f io.ReaderAt) bool {
	var magic [2]byte
	n, _ := f.ReadAt(magic[:], 0)
	return ingest.IsGzip(magic[:n])
}

// planGzip recognises a gzip file whose content begins with the content of
// a source imported plain: a log compressed after it was imported
// (logrotate's .1.gz, a listener's archive segment). Fingerprints are taken
// on the bytes on disk, so without this the compressed copy would be a new
// source and counted twice. It returns planSkip when the file holds nothing
// that import did not read, planTail from where it stopped when it holds
// more, and planNew otherwise (also when the file cannot be decompressed:
// the import then says why).
//
// Deciding costs one decompression of the first 64 KiB; only when they
// match a source is the file decompressed up to that source's size, to
// compare its last 64 KiB.
func (ws *Workspace) planGzip(ctx context.Context, f io.ReaderAt, size int64) (planKind, sourceRow, error) {
	var none sourceRow
	zr, err := gzip.NewReader(io.NewSectionReader(f, 0, size))
	if err != nil {
		return planNew, none, nil
	}
	head, err := io.ReadAll(io.LimitReader(zr, sampleSize))
	if err != nil || len(head) == 0 {
		return planNew, none, nil
	}
	sum := sha256.Sum256(head)
	// Sources of 64 KiB or more by their head hash; smaller ones (their head
	// is the hash of all of them) by the prefix of their size.
	rows, err := ws.db.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE (head = ? AND size >= ?) OR (size > 0 AND size < ? AND size <= ?) ORDER BY size DESC`,
		hex.EncodeToString(sum[:]), sampleSize, sampleSize, len(head))
	if err != nil {
		return planNew, none, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		c, stats, err := scanSource(rows)
		if err != nil {
			return planNew, none, classify(err)
		}
		if c.size < sampleSize {
			if s := sha256.Sum256(head[:c.size]); hex.EncodeToString(s[:]) != c.head {
				continue
			}
		}
		held, more, err := gzipHolds(f, size, c)
		if err != nil || !held {
			continue
		}
		if !more {
			return planSkip, c, nil
		}
		if err := c.stats.unmarshal(stats); err != nil {
			return planNew, none, err
		}
		return planTail, c, nil
	}
	return planNew, none, classify(rows.Err())
}

// gzipHolds decompresses f up to old's size and reports whether the bytes
// end as old's did (its tail hash), and whether the file holds more than
// old's import read (bytes after old.consumed).
func gzipHolds(f io.ReaderAt, size int64, old sourceRow) (held, more bool, err error) {
	zr, err := gzip.NewReader(io.NewSectionReader(f, 0, size))
	if err != nil {
		return false, false, err
	}
	at := max(old.size-sampleSize, 0)
	if _, err := io.CopyN(io.Discard, zr, at); err != nil {
		return false, false, ignoreEOF(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, zr, old.size-at); err != nil {
		return false, false, ignoreEOF(err)
	}
	if hex.EncodeToString(h.Sum(nil)) != old.tail {
		return false, false, nil
	}
	if old.consumed < old.size {
		return true, true, nil
	}
	var one [1]byte
	n, err := io.ReadFull(zr, one[:])
	return true, n > 0, ignoreEOF(err)
}

// ignoreEOF: a stream that ends early is an answer (no match), not an error.
func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}
