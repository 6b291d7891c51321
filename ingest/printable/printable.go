// Package printable makes text read from logs safe to show a person. A log
// line is written by whoever can reach a syslog port or hand over a file:
// an escape sequence in a policy name or a tag (ESC[2J clears the screen,
// ESC]0;…BEL retitles the terminal, ESC]52;…BEL writes the clipboard) would
// be obeyed by the terminal that prints it, and bidirectional overrides
// reorder what a reader sees.
//
// Every character a terminal or a text widget would act on rather than
// show is replaced by a visible escape: C0 controls, DEL and bytes that are
// not UTF-8 as \xNN, C1 controls (U+0080–U+009F) and the bidirectional
// formatting characters as \uNNNN. Text keeps line feeds and tabs (a
// table's or a message's own); Field escapes them too (one value inside a
// line). Apply them where text meets a person — a terminal, a label — not
// to machine outputs (CSV and JSON keep the data exact; JSON escapes
// controls by itself).
package printable

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Text returns s with the characters a terminal would act on escaped,
// line feeds and tabs kept.
func Text(s string) string { return escape(s, true) }

// Field returns s with the characters a terminal would act on escaped,
// line feeds, carriage returns and tabs included: one value in a line.
func Field(s string) string { return escape(s, false) }

// safeASCII reports whether b is printed as itself (layout keeps line
// feeds and tabs).
func safeASCII(b byte, layout bool) bool {
	return b >= 0x20 && b < 0x7f || layout && (b == '\n' || b == '\t')
}

// unsafeRune reports whether r, a valid character above ASCII, must be
// escaped: C1 controls and the formatting characters that reorder or break
// text (bidirectional embeddings, overrides, isolates and marks; line and
// paragraph separators).
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f,
		r == 0x061c, r == 0x200e, r == 0x200f,
		r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069,
		r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// clean reports whether s needs no escaping.
func clean(s string, layout bool) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b >= utf8.RuneSelf {
			return cleanUTF8(s[i:], layout)
		} else if !safeASCII(b, layout) {
			return false
		}
	}
	return true
}

func cleanUTF8(s string, layout bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r < utf8.RuneSelf && !safeASCII(byte(r), layout), unsafeRune(r):
			return false
		}
		i += size
	}
	return true
}

func escape(s string, layout bool) string {
	if clean(s, layout) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	appendEscaped(&b, s, layout)
	return b.String()
}

// appendEscaped writes s to b, escaped.
func appendEscaped(b *strings.Builder, s string, layout bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII(c, layout) {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(b, `\x%02x`, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(b, `\x%02x`, c)
		case unsafeRune(r):
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// Writer escapes, as Text does, what is written through it: for an
// output stream shown to a person (a terminal). A character cut between
// two writes is held until the next one.
type Writer struct {
	w    io.Writer
	held []byte // the start of a character the last write cut
	buf  strings.Builder
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write implements io.Writer; it reports len(p) written when w took the
// escaped text.
func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	if len(w.held) > 0 {
		p = append(w.held, p...)
		w.held = nil
	}
	if cut := incomplete(p); cut > 0 {
		w.held = append([]byte(nil), p[len(p)-cut:]...)
		p = p[:len(p)-cut]
	}
	s := string(p)
	if clean(s, true) {
		_, err := io.WriteString(w.w, s)
		return n, err
	}
	w.buf.Reset()
	appendEscaped(&w.buf, s, true)
	_, err := io.WriteString(w.w, w.buf.String())
	return n, err
}

// incomplete returns the length of the start of a UTF-8 character that p
// ends with (0 if none).
func incomplete(p []byte) int {
	for k := 1; k <= 3 && k <= len(p); k++ {
		c := p[len(p)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xc0 { // a leading byte: is its character whole?
			if utf8.FullRune(p[len(p)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}
