package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Scanner reads firewall events from an io.Reader one at a time, in the
// manner of bufio.Scanner. Lines that are not events are counted in Stats
// and skipped. It is the sequential reference the tests hold Read to
// (TestReadMatchesScanner), not API: the product reads with Read.
//
// A Scanner is not safe for concurrent use.
type Scanner struct {
	r     *bufio.Reader
	name  string
	p     *Parser
	ev    Event
	stats Stats
	err   error
	first bool
	line  []byte
}

// NewScanner returns a Scanner reading r; name is used in error positions.
func NewScanner(r io.Reader, name string, opts ...Option) *Scanner {
	p := NewParser(opts...)
	return &Scanner{r: bufio.NewReaderSize(r, 64<<10), name: name, p: p, first: true}
}

// Scan advances to the next event. It returns false at the end of the input
// or on a read error, which Err then reports.
func (s *Scanner) Scan() bool {
	for s.err == nil {
		line, tooLong, err := s.readLine()
		if len(line) == 0 && !tooLong && err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = fmt.Errorf("read %s: %w", s.name, err)
			}
			return false
		}
		s.stats.Bytes += int64(len(line))
		if tooLong {
			s.record(Malformed, ErrLineTooLong, nil)
			continue
		}
		if bytes.IndexByte(line, 0) >= 0 {
			s.stats.NULLines++
		}
		bucket, perr := s.p.Parse(line, &s.ev)
		if bucket == Malformed && errors.Is(err, io.EOF) && line[len(line)-1] != '\n' {
			perr = fmt.Errorf("%w: %w", ErrTruncated, perr)
		}
		s.record(bucket, perr, line)
		if bucket == Parsed {
			return true
		}
	}
	return false
}

func (s *Scanner) record(b Bucket, err error, line []byte) {
	s.stats.count(b, s.ev.Vendor, err)
	if b == Malformed {
		s.stats.sample(newParseError(s.name, s.stats.Lines, line, err))
	}
}

// readLine returns the next line with its newline, or reports that it was
// longer than the maximum (its bytes are skipped).
func (s *Scanner) readLine() ([]byte, bool, error) {
	s.line = s.line[:0]
	for {
		frag, err := s.r.ReadSlice('\n')
		if s.first {
			s.first = false
			if len(frag) >= 3 && string(frag[:3]) == string(utf8BOM) {
				frag = frag[3:]
			}
		}
		if len(s.line)+len(frag) > s.p.opts.maxLine+2 {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = s.r.ReadSlice('\n')
			}
			s.line = s.line[:0]
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, true, err
			}
			return nil, true, nil
		}
		s.line = append(s.line, frag...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return s.line, false, err
		}
	}
}

// Event returns the current event. It is overwritten by the next Scan; its
// Raw field aliases the Scanner's buffer.
func (s *Scanner) Event() *Event { return &s.ev }

// Stats returns what the lines read so far contained.
func (s *Scanner) Stats() Stats { return s.stats }

// Err returns the first read error, or nil at a clean end of input.
func (s *Scanner) Err() error { return s.err }
