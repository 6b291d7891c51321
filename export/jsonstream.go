package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// jsonStream writes a JSON document as json.Encoder does with
// SetIndent("", "  "), a piece at a time: arrays of a million elements are
// encoded one element after another instead of all at once in memory.
type jsonStream struct {
	w          *bufio.Writer
	escapeHTML bool
	buf, out   bytes.Buffer
	err        error
}

func newJSONStream(w io.Writer, escapeHTML bool) *jsonStream {
	return &jsonStream{w: bufio.NewWriterSize(w, 64<<10), escapeHTML: escapeHTML}
}

// raw writes s as it is.
func (s *jsonStream) raw(str string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(str)
	}
}

// end ends the document with a line feed, as json.Encoder does, and
// returns the first error.
func (s *jsonStream) end() error {
	s.raw("\n")
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.err
}

// value writes v at depth (its first line is not indented: the caller wrote
// what goes before it).
func (s *jsonStream) value(depth int, v any) {
	if s.err != nil {
		return
	}
	s.buf.Reset()
	enc := json.NewEncoder(&s.buf)
	enc.SetEscapeHTML(s.escapeHTML)
	if s.err = enc.Encode(v); s.err != nil {
		return
	}
	s.out.Reset()
	if s.err = json.Indent(&s.out, bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")), strings.Repeat("  ", depth), "  "); s.err != nil {
		return
	}
	_, s.err = s.w.Write(s.out.Bytes())
}

// array writes an array of n elements at depth, element i being elem(i),
// called in order.
func (s *jsonStream) array(depth, n int, elem func(i int) any) {
	if n == 0 {
		s.raw("[]")
		return
	}
	s.raw("[")
	inner := "\n" + strings.Repeat("  ", depth+1)
	for i := range n {
		if i > 0 {
			s.raw(",")
		}
		s.raw(inner)
		s.value(depth+1, elem(i))
	}
	s.raw("\n" + strings.Repeat("  ", depth) + "]")
}

// field writes `"name": ` at depth inside an object, after a comma unless
// first.
func (s *jsonStream) field(depth int, name string, first bool) {
	if !first {
		s.raw(",")
	}
	s.raw("\n" + strings.Repeat("  ", depth+1))
	s.value(depth+1, name)
	s.raw(": ")
}
