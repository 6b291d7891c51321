package inventory

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Worksheet rows are read from their XML here rather than with excelize's
// Rows.Columns, which fills every row up to its last cell: a row with one
// cell in column XFD became 16,384 strings, and a 1 MB workbook of such
// rows took a minute (rows × columns). xmlRows keeps the cells of the
// columns the table uses only (keep), whatever the columns a row reaches.
// Values are read raw, as excelize's RawCellValue does: shared and inline
// strings as their text, anything else as stored.

// workbookXML is what reading rows needs of a workbook: its parts, each
// sheet's part, and the shared strings.
type workbookXML struct {
	files  map[string]*zip.File // by lower-case name with forward slashes
	sheets map[string]string    // sheet name → part
	sst    []string
	sstErr error
	sstOK  bool
}

// relationship is an entry of a .rels part.
type relationship struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
}

// openWorkbookXML finds the sheets' parts: the package's office document
// (the workbook), its sheets and their relationships.
func openWorkbookXML(data []byte) (*workbookXML, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	w := &workbookXML{files: make(map[string]*zip.File), sheets: make(map[string]string)}
	for _, f := range zr.File {
		w.files[partKey(f.Name)] = f
	}
	book := "xl/workbook.xml"
	if rels, err := w.rels("_rels/.rels", ""); err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				book = r.Target
			}
		}
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := w.decode(book, &wb); err != nil {
		return nil, err
	}
	rels, err := w.rels(path.Join(path.Dir(book), "_rels", path.Base(book)+".rels"), path.Dir(book))
	if err != nil {
		return nil, err
	}
	byID := make(map[string]relationship, len(rels))
	for _, r := range rels {
		byID[r.ID] = r
		if strings.HasSuffix(r.Type, "/sharedStrings") {
			w.files["\x00sst"] = w.files[partKey(r.Target)]
		}
	}
	for _, s := range wb.Sheets {
		if r, ok := byID[s.RID]; ok {
			w.sheets[s.Name] = r.Target
		}
	}
	return w, nil
}

// partKey normalises a part name for lookup.
func partKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(name, `\`, "/"), "/"))
}

// decode unmarshals a small XML part (workbook, relationships).
func (w *workbookXML) decode(name string, v any) error {
	f := w.files[partKey(name)]
	if f == nil {
		return fmt.Errorf("no part %s", clip(name))
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, maxPartBytes)).Decode(v)
}

// rels reads a relationships part; targets are made absolute from dir.
func (w *workbookXML) rels(name, dir string) ([]relationship, error) {
	var r struct {
		Rels []relationship `xml:"Relationship"`
	}
	if err := w.decode(name, &r); err != nil {
		return nil, err
	}
	for i := range r.Rels {
		t := r.Rels[i].Target
		if strings.HasPrefix(t, "/") {
			r.Rels[i].Target = t[1:]
		} else {
			r.Rels[i].Target = path.Join(dir, t)
		}
	}
	return r.Rels, nil
}

// sharedStrings reads the shared string table once: each item's text
// runs, without phonetic ones.
func (w *workbookXML) sharedStrings() ([]string, error) {
	if w.sstOK {
		return w.sst, w.sstErr
	}
	w.sstOK = true
	f := w.files["\x00sst"]
	if f == nil {
		return nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		w.sstErr = err
		return nil, err
	}
	defer rc.Close()
	var b strings.Builder
	in := false
	w.sstErr = walkText(xml.NewDecoder(rc), func(tok xml.Token, text bool) {
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "si" {
				in = true
				b.Reset()
			}
		case xml.EndElement:
			if t.Name.Local == "si" && in {
				w.sst = append(w.sst, unescapeXLSX(b.String()))
				in = false
			}
		case xml.CharData:
			if text && in {
				b.Write(t)
			}
		}
	})
	return w.sst, w.sstErr
}

// walkText calls fn with every token of dec; text says whether character
// data is cell text: inside a t element not within a phonetic run (rPh).
func walkText(dec *xml.Decoder, fn func(tok xml.Token, text bool)) error {
	var inT, inPh int
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inT++
			case "rPh":
				inPh++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inT--
			case "rPh":
				inPh--
			}
		}
		fn(tok, inT > 0 && inPh == 0)
	}
}

// rows opens a sheet's rows, or reports that its part cannot be found
// (ok false: read it with excelize).
func (w *workbookXML) rows(sheet string) (*xmlRows, bool, error) {
	part, ok := w.sheets[sheet]
	f := w.files[partKey(part)]
	if !ok || f == nil {
		return nil, false, nil
	}
	sst, err := w.sharedStrings()
	if err != nil {
		return nil, true, fmt.Errorf("shared strings: %w", err)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, true, err
	}
	return &xmlRows{rc: rc, dec: xml.NewDecoder(rc), sst: sst, width: maxXLSXColumns}, true, nil
}

// maxXLSXColumns is the most columns a worksheet has (A to XFD).
const maxXLSXColumns = 16384

// xmlRows streams the rows of a worksheet part.
type xmlRows struct {
	rc    io.ReadCloser
	dec   *xml.Decoder
	sst   []string
	width int // cells of later columns are dropped
	row   int
	cells []string
}

// keep drops, from the next row on, the cells of columns after the n-th:
// the table's columns are known.
func (x *xmlRows) keep(n int) { x.width = min(max(n, 0), maxXLSXColumns) }

// rowState is where next is in a worksheet's XML.
type rowState struct {
	cell            strings.Builder
	col, inRow, inV int
	typ             string
	inCell          bool
}

// inText reports whether a cell's text is t's element: a value, or an
// inline string's text.
func (st *rowState) inText(name string) bool {
	return name == "v" || (name == "t" && st.inCell && st.typ == "inlineStr")
}

// next implements rowSource.
func (x *xmlRows) next() (int, []string, error) {
	var st rowState
	for {
		tok, err := x.dec.Token()
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		if err != nil {
			return x.row, nil, fmt.Errorf("row %d: %w", x.row+1, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			x.start(&st, t)
		case xml.CharData:
			if st.inCell && st.inV > 0 {
				st.cell.Write(t)
			}
		case xml.EndElement:
			if row, cells, done, err := x.end(&st, t.Name.Local); done {
				return row, cells, err
			}
		}
	}
}

// start takes the start of element t.
func (x *xmlRows) start(st *rowState, t xml.StartElement) {
	switch name := t.Name.Local; {
	case name == "row":
		st.inRow++
		x.row = attrInt(t.Attr, "r", x.row+1)
		x.cells, st.col = x.cells[:0], 0
	case name == "c":
		st.inCell, st.typ = true, attr(t.Attr, "t")
		st.col = cellColumn(attr(t.Attr, "r"), st.col+1)
		st.cell.Reset()
	case st.inText(name):
		st.inV++
	case name == "rPh":
		st.inV -= 1 << 20 // no text inside phonetic runs
	}
}

// end takes the end of element name; done says next returns the others.
func (x *xmlRows) end(st *rowState, name string) (row int, cells []string, done bool, err error) {
	switch {
	case st.inText(name):
		st.inV--
	case name == "rPh":
		st.inV += 1 << 20
	case name == "c":
		st.inCell = false
		if err := x.put(st.col, st.typ, st.cell.String()); err != nil {
			return x.row, nil, true, err
		}
	case name == "row":
		if st.inRow--; st.inRow == 0 {
			return x.row, trimEmpty(x.cells), true, nil
		}
	case name == "sheetData":
		return 0, nil, true, io.EOF
	}
	return 0, nil, false, nil
}

// put stores the value of the cell in column col (1-based).
func (x *xmlRows) put(col int, typ, v string) error {
	if col < 1 || col > x.width {
		return nil
	}
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(x.sst) {
			return fmt.Errorf("row %d: shared string index %q out of range", x.row, clip(v))
		}
		v = x.sst[i]
	case "inlineStr":
		v = unescapeXLSX(v)
	}
	for len(x.cells) < col {
		x.cells = append(x.cells, "")
	}
	x.cells[col-1] = v
	return nil
}

// close closes the part.
func (x *xmlRows) close() error { return x.rc.Close() }

// trimEmpty drops trailing empty cells; the slice is the reader's, copied.
func trimEmpty(cells []string) []string {
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	return append([]string(nil), cells[:n]...)
}

func attr(attrs []xml.Attr, name string) string {
	for _, a := range attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func attrInt(attrs []xml.Attr, name string, def int) int {
	if n, err := strconv.Atoi(attr(attrs, name)); err == nil && n > 0 {
		return n
	}
	return def
}

// cellColumn reads the column of a cell reference ("XFD12" → 16384), or
// returns def when there is none.
func cellColumn(ref string, def int) int {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		if col = col*26 + int(c-'a'+1); col > maxXLSXColumns {
			return maxXLSXColumns + 1
		}
	}
	if i == 0 {
		return def
	}
	return col
}

// unescapeXLSX decodes the _xHHHH_ escapes of characters XML cannot hold
// (ECMA-376 Part 1, 22.9.2.19 ST_Xstring; "_x005F_" is a literal
// underscore), as excelize does.
func unescapeXLSX(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
