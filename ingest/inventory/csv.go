package inventory

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// peekBytes is how much of a CSV file is looked at to choose the delimiter.
const peekBytes = 64 << 10

// errRecordTooLarge is returned by guard; csvSource adds the line.
var errRecordTooLarge = fmt.Errorf("record longer than %d MiB: %w", MaxRecordBytes>>20, ErrTooLarge)

// ReadCSV reads a CSV inventory: UTF-8 text (a byte order mark is skipped),
// delimited by ",", ";" or tab (the one that yields a recognisable header),
// with its header within the first 10 rows. Row numbers in the report are
// line numbers.
//
// It returns a *ColumnError (matching ErrNoColumn) when no header has a VM
// name and an IP address column, ErrNoRows for an empty file, ErrTooLarge
// for a record over MaxRecordBytes, ErrTooManyRows past MaxRows, and
// ErrUnsupported for UTF-16 text. Malformed records are reported in
// Report.Skipped and skipped.
func ReadCSV(r io.Reader) ([]VM, Report, error) {
	g := &guard{r: r, max: MaxRecordBytes}
	br := bufio.NewReaderSize(g, peekBytes)
	if err := skipBOM(br); err != nil {
		return nil, Report{}, err
	}
	peek, err := br.Peek(peekBytes)
	if err != nil && err != io.EOF {
		return nil, Report{}, err
	}
	src := newCSVSource(br, sniffComma(peek), g)
	b := newBuilder()
	head, err := readHead(src)
	if err != nil {
		return nil, b.rep, err
	}
	hi, l, err := findHeader(head, needIP)
	if err != nil {
		return nil, b.rep, err
	}
	b.rep.Format = l.format()
	b.describe(&l, "")
	if err := b.readTable(src, head, hi, &l); err != nil {
		return nil, b.rep, err
	}
	b.noteGroups(l.ignored)
	return b.finish(), b.rep, nil
}

// skipBOM skips a UTF-8 byte order mark and refuses UTF-16 text.
func skipBOM(br *bufio.Reader) error {
	p, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(p, []byte("\xEF\xBB\xBF")):
		_, err := br.Discard(3)
		return err
	case bytes.HasPrefix(p, []byte("\xFF\xFE")), bytes.HasPrefix(p, []byte("\xFE\xFF")):
		return fmt.Errorf("UTF-16 text, save it as CSV UTF-8: %w", ErrUnsupported)
	}
	return nil
}

// sniffComma returns the first delimiter with which the start of the file
// has a recognisable header; "," if none has.
func sniffComma(peek []byte) rune {
	for _, c := range []rune{',', ';', '\t'} {
		head, _ := readHead(newCSVSource(bytes.NewReader(peek), c, nil))
		if _, _, err := findHeader(head, needIP); err == nil {
			return c
		}
	}
	return ','
}

// csvSource reads CSV records as rows.
type csvSource struct {
	r    *csv.Reader
	g    *guard // nil: unbounded
	line int    // line of the last record read
}

func newCSVSource(r io.Reader, comma rune, g *guard) *csvSource {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	return &csvSource{r: cr, g: g}
}

// next implements rowSource.
func (s *csvSource) next() (int, []string, error) {
	if s.g != nil {
		s.g.n = 0
	}
	rec, err := s.r.Read()
	var pe *csv.ParseError
	switch {
	case err == nil && len(rec) > 0:
		s.line, _ = s.r.FieldPos(0)
		return s.line, rec, nil
	case err == nil:
		return s.line, nil, nil
	case errors.As(err, &pe):
		s.line = pe.StartLine
		return pe.StartLine, nil, &badRow{row: pe.StartLine, reason: "malformed CSV: " + pe.Err.Error()}
	case errors.Is(err, errRecordTooLarge):
		return 0, nil, fmt.Errorf("line %d: %w", s.line+1, err)
	}
	return 0, nil, err
}

// guard fails reads once more than max bytes were read since n was reset,
// which bounds the memory a single CSV record can take.
type guard struct {
	r      io.Reader
	n, max int
}

// Read implements io.Reader.
func (g *guard) Read(p []byte) (int, error) {
	if g.n > g.max {
		return 0, errRecordTooLarge
	}
	n, err := g.r.Read(p)
	g.n += n
	return n, err
}
