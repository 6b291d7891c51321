package inventory

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits checked by vetWorkbook before excelize opens a workbook.
const (
	MaxXLSXBytes     = 64 << 20  // the XLSX file itself
	maxPartBytes     = 16 << 20  // an XML part other than a worksheet or the shared strings
	maxXMLDepth      = 128       // element nesting in any XML part
	maxSharedStrings = 2_000_000 // entries in the shared string table
	maxRowExpand     = 16 << 20  // bytes one row may expand to through shared strings
)

// xmlStats is what scanXML learns about one XML part.
type xmlStats struct {
	root      string // local name of the first element
	longestSI int64  // text bytes (undecoded) in the longest <si>
	strings   int    // <si> elements
	widestRow int    // most <c> elements from one <row> start to the next
}

// vetError is a limit broken in an XML part.
type vetError struct{ err error }

func (e *vetError) Error() string { return e.err.Error() }
func (e *vetError) Unwrap() error { return e.err }

// xmlScanner reads an XML part byte by byte in constant memory, the way
// encoding/xml would tokenise it, and stops where encoding/xml would stop
// with an error (invalid UTF-8 or an illegal character in text), so that
// binary parts (images) end the scan at once. Elsewhere it is lenient: it
// may scan further than the decoder, never less.
type xmlScanner struct {
	br     *bufio.Reader
	st     xmlStats
	depth  int
	inSI   bool
	siLen  int64
	inRow  bool // cells count until the next <row>, as excelize counts them
	cells  int
	carry  []byte // start of a rune cut by a full buffer
	broken bool   // encoding/xml would have stopped
}

// scanXML scans one XML part. It returns a *vetError when a limit is broken,
// or the read error that ended the scan.
func scanXML(r io.Reader) (xmlStats, error) {
	s := &xmlScanner{br: bufio.NewReaderSize(r, 64<<10)}
	err := s.run()
	s.endSI()
	s.endRow()
	return s.st, err
}

func (s *xmlScanner) run() error {
	for {
		chunk, err := s.br.ReadSlice('<')
		text := bytes.TrimSuffix(chunk, []byte("<")) // only a found delimiter ends a chunk with '<'
		if !s.textOK(text, err == bufio.ErrBufferFull) {
			return nil // encoding/xml stops here too
		}
		s.addText(len(text))
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			return eofOK(err)
		}
		if err := s.markup(); err != nil || s.broken {
			return eofOK(err)
		}
	}
}

// eofOK turns io.EOF into nil.
func eofOK(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// textOK reports whether text is valid XML character data; more says the
// text goes on in the next chunk.
func (s *xmlScanner) textOK(b []byte, more bool) bool {
	if len(s.carry) > 0 {
		b = append(append([]byte(nil), s.carry...), b...)
		s.carry = nil
	}
	for len(b) > 0 {
		r, size := rune(b[0]), 1
		if r >= utf8.RuneSelf {
			if r, size = utf8.DecodeRune(b); r == utf8.RuneError && size == 1 {
				return s.partialRune(b, more)
			}
		}
		if !xmlChar(r) {
			return false
		}
		b = b[size:]
	}
	return true
}

// partialRune takes b, which does not start with a valid rune: when it is
// the start of one cut at the end of the chunk, it is carried to the next.
func (s *xmlScanner) partialRune(b []byte, more bool) bool {
	if more && !utf8.FullRune(b) {
		s.carry = append([]byte(nil), b...)
		return true
	}
	return false
}

// xmlChar reports whether r may appear in XML 1.0 character data.
func xmlChar(r rune) bool {
	if r < 0x20 {
		return r == '\t' || r == '\n' || r == '\r'
	}
	return !(r > 0xFFFD && r < 0x10000 || r >= 0xD800 && r < 0xE000)
}

// addText counts n bytes of text.
func (s *xmlScanner) addText(n int) {
	if s.inSI {
		s.siLen += int64(n)
	}
}

// markup reads what follows a '<'.
func (s *xmlScanner) markup() error {
	b, err := s.br.ReadByte()
	if err != nil {
		return err
	}
	switch b {
	case '?':
		return s.procInst()
	case '!':
		return s.bang()
	case '/':
		name, err := s.name()
		if err != nil {
			return err
		}
		s.end(name)
		return s.skipPast('>')
	}
	if err := s.br.UnreadByte(); err != nil {
		return err
	}
	return s.startTag()
}

// skipPast discards input up to and including delim.
func (s *xmlScanner) skipPast(delim byte) error {
	for {
		_, err := s.br.ReadSlice(delim)
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// procInst reads "<?target content?>" and refuses an XML declaration of
// another encoding than UTF-8, as encoding/xml would switch to it.
func (s *xmlScanner) procInst() error {
	const most = 1 << 10
	var (
		buf  []byte
		prev byte
	)
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			return err
		}
		if prev == '?' && b == '>' {
			break
		}
		prev = b
		if len(buf) <= most {
			buf = append(buf, b)
		}
	}
	content := string(bytes.TrimSuffix(buf, []byte("?")))
	k := strings.IndexFunc(content, func(r rune) bool { return r < utf8.RuneSelf && !isNameByte(byte(r)) })
	if k < 0 {
		k = len(content)
	}
	if content[:k] != "xml" {
		return nil
	}
	if len(buf) > most {
		return &vetError{fmt.Errorf("XML declaration longer than 1 KiB: %w", ErrUnsupported)}
	}
	if enc := procInstParam("encoding", content[k:]); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return &vetError{fmt.Errorf("XML encoding %q: %w", clip(enc), ErrUnsupported)}
	}
	return nil
}

// isNameByte is encoding/xml's test for ASCII name bytes.
func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' ||
		'0' <= c && c <= '9' || c == '_' || c == ':' || c == '.' || c == '-'
}

// procInstParam is encoding/xml's procInst: the value of param="…" in s.
func procInstParam(param, s string) string {
	param += "="
	lenp, i := len(param), 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// bang reads what follows "<!": a comment, CDATA (text) or a directive.
func (s *xmlScanner) bang() error {
	b, err := s.br.ReadByte()
	if err != nil {
		return err
	}
	switch b {
	case '-':
		if b, err = s.br.ReadByte(); err != nil || b != '-' {
			s.broken = true // encoding/xml: "invalid sequence <!-"
			return err
		}
		return s.skipComment()
	case '[':
		for i := range len("CDATA[") {
			if b, err = s.br.ReadByte(); err != nil || b != "CDATA["[i] {
				s.broken = true // encoding/xml: "invalid <![ sequence"
				return err
			}
		}
		return s.cdata()
	}
	return s.directive()
}

// skipComment skips to "-->".
func (s *xmlScanner) skipComment() error {
	var b0, b1 byte
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			return err
		}
		if b0 == '-' && b1 == '-' && b == '>' {
			return nil
		}
		b0, b1 = b1, b
	}
}

// cdata reads CDATA up to "]]>" as text.
func (s *xmlScanner) cdata() error {
	var (
		buf    = make([]byte, 0, 4<<10)
		b0, b1 byte
	)
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			return err
		}
		if b0 == ']' && b1 == ']' && b == '>' {
			buf = buf[:max(len(buf)-2, 0)]
			s.broken = !s.textOK(buf, false)
			s.addText(len(buf))
			return nil
		}
		b0, b1 = b1, b
		if buf = append(buf, b); len(buf) == cap(buf) {
			keep := buf[len(buf)-2:] // may be the start of "]]>"
			if !s.textOK(buf[:len(buf)-2], true) {
				s.broken = true
				return nil
			}
			s.addText(len(buf) - 2)
			buf = append(buf[:0], keep...)
		}
	}
}

// directive skips "<!DOCTYPE …>" exactly as encoding/xml does: quoted angle
// brackets do not nest, comments inside are skipped.
func (s *xmlScanner) directive() error {
	var d dirState
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			return err
		}
		if d.quote == 0 && b == '>' && d.depth == 0 {
			return nil
		}
		for again := true; again; {
			if again, b, err = s.directiveByte(&d, b); err != nil {
				return err
			}
		}
	}
}

// dirState is where directive is: in quotes, and how deep in brackets.
type dirState struct {
	quote byte
	depth int
}

// directiveByte takes byte b of a directive. again says that next, the byte
// after a '<' that starts no comment, is to be taken the same way.
func (s *xmlScanner) directiveByte(d *dirState, b byte) (again bool, next byte, err error) {
	switch {
	case b == d.quote:
		d.quote = 0
	case d.quote != 0:
	case b == '\'' || b == '"':
		d.quote = b
	case b == '>':
		d.depth--
	case b == '<':
		return s.directiveOpen(d)
	}
	return false, 0, nil
}

// directiveOpen reads what follows a '<' in a directive: a comment is
// skipped; anything else nests one deeper.
func (s *xmlScanner) directiveOpen(d *dirState) (again bool, next byte, err error) {
	for i := range len("!--") {
		b, err := s.br.ReadByte()
		if err != nil {
			return false, 0, err
		}
		if b != "!--"[i] {
			d.depth++
			return true, b, nil
		}
	}
	return false, 0, s.skipComment()
}

// name reads an element name and returns its local part.
func (s *xmlScanner) name() (string, error) {
	var n strings.Builder
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			return n.String(), err
		}
		if b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '/' || b == '>' {
			_ = s.br.UnreadByte()
			name := n.String()
			return name[strings.LastIndexByte(name, ':')+1:], nil
		}
		if n.Len() < 64 {
			n.WriteByte(b)
		}
	}
}

// startTag reads a start tag up to its '>'.
func (s *xmlScanner) startTag() error {
	name, err := s.name()
	if err != nil {
		return err
	}
	var quote, last byte
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			return err
		}
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '"' || b == '\'':
			quote = b
		case b == '>':
			return s.start(name, last == '/')
		}
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			last = b
		}
	}
}

// start handles an element start; empty names are not elements to
// encoding/xml, which stops there.
func (s *xmlScanner) start(name string, selfClosing bool) error {
	if name == "" {
		s.broken = true
		return nil
	}
	if s.st.root == "" {
		s.st.root = name
	}
	switch name {
	case "si":
		s.endSI()
		s.inSI, s.siLen = true, 0
		if s.st.strings++; s.st.strings > maxSharedStrings {
			return &vetError{fmt.Errorf("more than %d shared strings: %w", maxSharedStrings, ErrTooLarge)}
		}
	case "row":
		s.endRow()
		s.inRow, s.cells = true, 0
	case "c":
		if s.inRow {
			s.cells++
		}
	}
	if selfClosing {
		if name == "si" {
			s.endSI()
		}
		return nil
	}
	if s.depth++; s.depth > maxXMLDepth {
		return &vetError{fmt.Errorf("XML nested deeper than %d elements: %w", maxXMLDepth, ErrTooLarge)}
	}
	return nil
}

// end handles an element end.
func (s *xmlScanner) end(name string) {
	if s.depth > 0 {
		s.depth--
	}
	if name == "si" {
		s.endSI()
	}
}

func (s *xmlScanner) endSI() {
	if s.inSI {
		s.st.longestSI = max(s.st.longestSI, s.siLen)
		s.inSI = false
	}
}

func (s *xmlScanner) endRow() {
	if s.inRow {
		s.st.widestRow = max(s.st.widestRow, s.cells)
	}
}
