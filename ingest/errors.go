package ingest

import (
	"errors"
	"fmt"
)

// Sentinel reasons a line is malformed or unsupported. Every error the parser
// returns wraps exactly one of them, so callers can count by reason with
// errors.Is and Reason. Each is made by reason, which lists it: the list is
// written once.
var (
	ErrLineTooLong = reason("line too long")
	ErrTruncated   = reason("truncated last line")
	ErrBadTime     = reason("bad timestamp")
	ErrTimeRange   = reason("timestamp out of range (before 2000 or after 2199)")
	ErrBadAddr     = reason("bad address")
	ErrBadPort     = reason("bad port")
	ErrBadProto    = reason("bad protocol")
	ErrBadCounter  = reason("bad counter")
	ErrBadTuple    = reason("bad flow tuple")
	ErrBadField    = reason("bad field")
	ErrBadJSON     = reason("bad JSON wrapper")
	ErrIncomplete  = reason("incomplete firewall line")

	// Recognised, but not something FlowSleuth turns into flows.
	ErrGatewayFirewall = reason("NSX gateway firewall line")
	ErrDatapathReason  = reason("NSX datapath reason")
)

// reasons lists the sentinels in the order they are declared (and
// reported); reason fills it as the package initialises.
var reasons []error

// reason makes a sentinel and adds it to reasons.
func reason(text string) error {
	err := errors.New(text)
	reasons = append(reasons, err)
	return err
}

// Reason returns the sentinel that err wraps, or err itself.
func Reason(err error) error {
	for _, r := range reasons {
		if errors.Is(err, r) {
			return r
		}
	}
	return err
}

// fieldError says which field of a line is wrong and where.
type fieldError struct {
	reason error
	field  string
	col    int // 1-based byte column in the line, 0 if unknown
}

func (e *fieldError) Error() string {
	switch {
	case e.field == "":
		return e.reason.Error()
	case e.reason == ErrIncomplete:
		return fmt.Sprintf("%v: no %s", e.reason, e.field)
	}
	return fmt.Sprintf("%v in %s", e.reason, e.field)
}

func (e *fieldError) Unwrap() error { return e.reason }

func errAt(reason error, field string, col int) error {
	return &fieldError{reason: reason, field: field, col: col}
}

// ParseError is a malformed line: where it is and why it was refused.
type ParseError struct {
	File   string // input name as given by the user ("-" for stdin)
	Line   int64  // 1-based line number
	Column int    // 1-based byte column, 0 if unknown
	Text   string // the line, cut to 200 bytes
	Err    error
}

func (e *ParseError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

const maxSampleText = 200

func newParseError(file string, line int64, text []byte, err error) ParseError {
	pe := ParseError{File: file, Line: line, Err: err}
	var fe *fieldError
	if errors.As(err, &fe) {
		pe.Column = fe.col
	}
	if len(text) > maxSampleText {
		text = text[:maxSampleText]
	}
	pe.Text = string(text)
	return pe
}
