package export

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// The Flows sheet holds a row per conversation: a million rows and sixteen
// million cells for a large workspace. Written through excelize's
// StreamWriter.SetRow, each cell cost a cell reference string, an interface
// value, an xlsxC with its inline-string structs and an escaping buffer:
// 2.8 GB of garbage for a million rows, which let the heap grow to twice the
// caller's conversations before each collection. So the StreamWriter writes
// the sheet's frame (columns, frozen header row, autofilter) and its header
// row, and the data rows are spliced in as the zip part is written, encoded
// here straight from the conversations into one reused buffer, exactly as
// SetRow would encode them (same cell XML, styles, escaping and date
// numbers; empty text cells are left out, as nil cells are).

// sheetDataEnd is where the data rows go in a streamed worksheet part.
const sheetDataEnd = "</sheetData>"

// spliceZip is a zip writer that splices rows into worksheet parts.
type spliceZip struct {
	*zip.Writer
	fill    map[string]func(io.Writer) error // by part name
	pending map[string]*splicer
}

func (z *spliceZip) Create(name string) (io.Writer, error) {
	w, err := z.Writer.Create(name)
	if err != nil || z.fill[name] == nil {
		return w, err
	}
	s := &splicer{w: w, fill: z.fill[name]}
	z.pending[name] = s
	return s, nil
}

// check returns an error when a part to fill was not written or had no end
// of sheet data.
func (z *spliceZip) check() error {
	for name := range z.fill {
		if s := z.pending[name]; s == nil || !s.done {
			return errors.New("worksheet " + name + ": no " + sheetDataEnd + " to write the rows before")
		}
	}
	return nil
}

// splicer passes a part through, calling fill where sheetDataEnd starts.
type splicer struct {
	w     io.Writer
	fill  func(io.Writer) error
	carry []byte // the end of what came so far, which may start the marker
	done  bool
}

func (s *splicer) Write(p []byte) (int, error) {
	if s.done {
		return s.w.Write(p)
	}
	data := append(s.carry, p...)
	s.carry = nil
	i := bytes.Index(data, []byte(sheetDataEnd))
	if i < 0 {
		keep := min(len(data), len(sheetDataEnd)-1)
		s.carry = append([]byte(nil), data[len(data)-keep:]...)
		if _, err := s.w.Write(data[:len(data)-keep]); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	s.done = true
	if _, err := s.w.Write(data[:i]); err != nil {
		return 0, err
	}
	if err := s.fill(s.w); err != nil {
		return 0, err
	}
	if _, err := s.w.Write(data[i:]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// rowEncoder writes worksheet rows as the StreamWriter's SetRow does.
type rowEncoder struct {
	w      io.Writer
	buf    []byte
	cols   []string // column letters
	styles []int    // column style IDs (0: none)
	row    int      // the row being written
	col    int      // its next cell
}

func newRowEncoder(w io.Writer, styles []int, first int) *rowEncoder {
	e := &rowEncoder{w: w, buf: make([]byte, 0, 128<<10), styles: styles, row: first - 1}
	for i := range styles {
		name, _ := excelize.ColumnNumberToName(i + 1)
		e.cols = append(e.cols, name)
	}
	return e
}

// startRow begins the next row.
func (e *rowEncoder) startRow() {
	e.row++
	e.col = 0
	e.buf = append(e.buf, `<row r="`...)
	e.buf = strconv.AppendInt(e.buf, int64(e.row), 10)
	e.buf = append(e.buf, `">`...)
}

// endRow ends the row, writing the buffer out when it is full.
func (e *rowEncoder) endRow() error {
	e.buf = append(e.buf, `</row>`...)
	if len(e.buf) < cap(e.buf)-8<<10 {
		return nil
	}
	return e.flush()
}

func (e *rowEncoder) flush() error {
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}

// cell starts the next cell; typ is its t attribute ("" for a number).
func (e *rowEncoder) cell(typ string) {
	e.buf = append(e.buf, `<c r="`...)
	e.buf = append(e.buf, e.cols[e.col]...)
	e.buf = strconv.AppendInt(e.buf, int64(e.row), 10)
	e.buf = append(e.buf, '"')
	if s := e.styles[e.col]; s != 0 {
		e.buf = append(e.buf, ` s="`...)
		e.buf = strconv.AppendInt(e.buf, int64(s), 10)
		e.buf = append(e.buf, '"')
	}
	if typ != "" {
		e.buf = append(e.buf, ` t="`...)
		e.buf = append(e.buf, typ...)
		e.buf = append(e.buf, '"')
	}
	e.buf = append(e.buf, '>')
	e.col++
}

// skip leaves the next cell empty.
func (e *rowEncoder) skip() { e.col++ }

// text writes an inline string cell; "" leaves the cell empty.
func (e *rowEncoder) text(s string) {
	if s == "" {
		e.skip()
		return
	}
	v, space := s, false
	if !plainText(s) {
		v, space = escapeCellText(s)
	}
	e.cell("inlineStr")
	e.buf = append(e.buf, `<is><t`...)
	if space {
		e.buf = append(e.buf, ` xml:space="preserve"`...)
	}
	e.buf = append(e.buf, '>')
	e.buf = append(e.buf, v...)
	e.buf = append(e.buf, `</t></is></c>`...)
}

// textBytes writes an inline string cell of b (which the encoder may reuse).
func (e *rowEncoder) textBytes(b []byte) {
	if len(b) > 0 && plainBytes(b) {
		e.cell("inlineStr")
		e.buf = append(e.buf, `<is><t>`...)
		e.buf = append(e.buf, b...)
		e.buf = append(e.buf, `</t></is></c>`...)
		return
	}
	e.text(string(b))
}

// number writes an integer cell.
func (e *rowEncoder) number(n uint64) {
	e.cell("")
	e.buf = append(e.buf, `<v>`...)
	e.buf = strconv.AppendUint(e.buf, n, 10)
	e.buf = append(e.buf, `</v></c>`...)
}

// date writes t as an Excel date number (UTC); the zero time leaves the cell
// empty.
func (e *rowEncoder) date(t time.Time) {
	if t.IsZero() {
		e.skip()
		return
	}
	v, ok := excelDate(t.UTC())
	if !ok {
		e.text(t.UTC().Format(time.RFC3339Nano)) // before 1900: as excelize writes it
		return
	}
	e.cell("")
	e.buf = append(e.buf, `<v>`...)
	e.buf = strconv.AppendFloat(e.buf, v, 'f', -1, 64)
	e.buf = append(e.buf, `</v></c>`...)
}

var (
	excelEpoch     = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)
	excelLeapDay   = time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)
	excelMaxOffset = 290 * 364 * 24 * time.Hour
)

// excelDate is the 1900 date system's number of a UTC time, computed as
// excelize computes it (Excel's phantom 29 February 1900 included).
func excelDate(t time.Time) (float64, bool) {
	const day = 24 * time.Hour
	if t.Before(excelEpoch) {
		return 0, false
	}
	tt, diff, result := t, t.Sub(excelEpoch), 0.0
	for diff >= excelMaxOffset {
		result += float64(excelMaxOffset / day)
		tt = tt.Add(-excelMaxOffset)
		diff = tt.Sub(excelEpoch)
	}
	rem := diff % day
	result += float64(diff-rem)/float64(day) + float64(rem)/float64(day)
	if t.After(excelLeapDay) {
		result++
	}
	return result, result > 0
}

// plainText reports whether s goes into the XML as it is: printable ASCII
// without markup characters or an "_x" that could read as an escape, and no
// space at either end.
func plainText(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '<', c == '>', c == '&', c == '"', c == '\'':
			return false
		case c == '_' && i+1 < len(s) && s[i+1] == 'x':
			return false
		}
	}
	return true
}

func plainBytes(b []byte) bool {
	if b[0] == ' ' || b[len(b)-1] == ' ' {
		return false
	}
	for i, c := range b {
		switch {
		case c < 0x20 || c > 0x7e, c == '<', c == '>', c == '&', c == '"', c == '\'':
			return false
		case c == '_' && i+1 < len(b) && b[i+1] == 'x':
			return false
		}
	}
	return true
}

// escapeCellText is excelize's trimCellValue(s, true): truncated to Excel's
// 32,767 UTF-16 units, XML-escaped (characters XML cannot hold become
// U+FFFD, line feeds stay), "_xHHHH_" protected, and whether xml:space must
// be kept.
func escapeCellText(s string) (string, bool) {
	if len(s) > excelize.TotalCellChars {
		if u := utf16.Encode([]rune(s)); len(u) > excelize.TotalCellChars {
			s = string(utf16.Decode(u[:excelize.TotalCellChars]))
		}
	}
	space := strings.ContainsAny(s[:1], "\t\n\r ") || strings.ContainsAny(s[len(s)-1:], "\t\n\r ")
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return bstrMarshal(strings.ReplaceAll(b.String(), "&#xA;", "\n")), space
}

var (
	bstrExp       = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)
	bstrEscapeExp = regexp.MustCompile(`x[a-fA-F\d]{4}_`)
)

// bstrMarshal escapes text that a reader would take for an "_xHHHH_"
// escape, as excelize does (its lib.go, BSD-3-Clause).
func bstrMarshal(s string) (result string) {
	matches, l, cursor := bstrExp.FindAllStringSubmatchIndex(s, -1), len(s), 0
	for _, match := range matches {
		result += s[cursor:match[0]]
		subStr := s[match[0]:match[1]]
		if subStr == "_x005F_" {
			cursor = match[1]
			if match[1]+6 <= l && bstrEscapeExp.MatchString(s[match[1]:match[1]+6]) {
				if _, err := strconv.Unquote(`"\u` + s[match[1]+1:match[1]+5] + `"`); err == nil {
					result += subStr + "x005F" + subStr
					continue
				}
			}
			result += subStr + "x005F_"
			continue
		}
		if bstrExp.MatchString(subStr) {
			cursor = match[1]
			if _, err := strconv.Unquote(`"\u` + s[match[0]+2:match[1]-1] + `"`); err == nil {
				result += "_x005F" + subStr
				continue
			}
		}
	}
	if cursor < l {
		result += s[cursor:]
	}
	return result
}

// flowCells encodes the cells of a Flows sheet row: the flows CSV columns
// with numbers and dates typed, then the VM names and the unanswered
// sessions. It returns scratch, a buffer to reuse.
func flowCells(e *rowEncoder, t *analysis.Table, i int, scratch []byte) []byte {
	e.text(t.Direction(i).String())
	scratch = joinTags(scratch[:0], t.Tags(i))
	e.textBytes(scratch)
	e.textBytes(t.Src(i).AppendTo(scratch[:0]))
	e.textBytes(t.Dst(i).AppendTo(scratch[:0]))
	e.text(ingest.ProtoName(t.Proto(i)))
	e.number(uint64(t.DPort(i)))
	e.number(t.Sessions(i))
	e.number(t.Packets(i))
	e.number(t.Bytes(i))
	e.date(t.First(i))
	e.date(t.Last(i))
	e.textBytes(joinActions(scratch[:0], t.Actions(i)))
	scratch = joinStrings(scratch[:0], t.Hosts(i))
	e.textBytes(scratch)
	e.text(t.SrcVM(i).VM)
	e.text(t.DstVM(i).VM)
	e.number(t.Unanswered(i))
	return scratch
}

func joinStrings(b []byte, ss []string) []byte {
	for i, s := range ss {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, s...)
	}
	return b
}

// joinActions appends the action names, sorted, joined with ';'.
func joinActions(b []byte, as []ingest.Action) []byte {
	if len(as) == 1 {
		return append(b, as[0].String()...)
	}
	for i, name := range actionNames(as) {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	return b
}
