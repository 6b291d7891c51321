package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// tagSheets are the normalised names of sheets that add groups to an
// RVTools workbook.
var tagSheets = []string{"vtag", "vtags", "tag", "tags", "vspheretags", "securitygroups", "categories"}

// ReadXLSX reads an XLSX inventory. A workbook with a vInfo or vNetwork
// sheet is read as RVTools: vInfo, vNetwork and tag sheets ("vTag", "Tags",
// …) are merged by VM name, in that order. Otherwise the first sheet with a
// recognisable header is used. Rows are streamed and cells read raw (no
// number formats). The file may be at most MaxXLSXBytes, unzip to at most
// MaxUnzipBytes, and is checked for constructs that would make excelize
// allocate far more (see vetWorkbook); those give ErrTooLarge or
// ErrUnsupported.
//
// Other errors are as for ReadCSV, prefixed with the sheet; a file that is
// not a workbook gives excelize's error.
func ReadXLSX(r io.Reader) (vms []VM, rep Report, err error) {
	defer func() {
		// excelize is not fuzzed against hostile files: never let it
		// take the program down.
		if p := recover(); p != nil {
			vms, err = nil, fmt.Errorf("malformed xlsx: %v", p)
		}
	}()
	data, err := io.ReadAll(&capReader{r: r, left: MaxXLSXBytes})
	if err != nil {
		return nil, Report{}, fmt.Errorf("read xlsx: %w", err)
	}
	if err := vetWorkbook(data); err != nil {
		return nil, Report{}, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data),
		excelize.Options{UnzipSizeLimit: MaxUnzipBytes, RawCellValue: true})
	if err != nil {
		return nil, Report{}, fmt.Errorf("open xlsx: %w", err)
	}
	defer f.Close()
	b := &book{f: f}
	if b.xml, err = openWorkbookXML(data); err != nil {
		b.xml = nil // read the rows with excelize
	}
	sheets := f.GetSheetList()
	if slices.ContainsFunc(sheets, func(s string) bool { n := normalize(s); return n == "vinfo" || n == "vnetwork" }) {
		return readRVTools(b, sheets)
	}
	return readFirstSheet(b, sheets)
}

// book is an open workbook: excelize's, and its parts for xmlRows.
type book struct {
	f   *excelize.File
	xml *workbookXML // nil: the parts could not be followed
}

// planned is a sheet of an RVTools workbook to read.
type planned struct {
	sheet    string
	need     need
	optional bool // a tag sheet: skipped with a note when unusable
}

// rvtoolsPlan lists the sheets to read: vInfo, vNetwork, then tag sheets.
func rvtoolsPlan(sheets []string) []planned {
	var plan []planned
	for _, want := range []string{"vinfo", "vnetwork"} {
		if i := slices.IndexFunc(sheets, func(s string) bool { return normalize(s) == want }); i >= 0 {
			n := needIP
			if want == "vinfo" {
				n = needIPOrTags // vNetwork may bring the addresses
			}
			plan = append(plan, planned{sheet: sheets[i], need: n})
		}
	}
	for _, s := range sheets {
		if slices.Contains(tagSheets, normalize(s)) {
			plan = append(plan, planned{sheet: s, need: needIPOrTags, optional: true})
		}
	}
	return plan
}

// readRVTools merges the sheets of an RVTools workbook by VM name.
func readRVTools(f *book, sheets []string) ([]VM, Report, error) {
	plan := rvtoolsPlan(sheets)
	b := newBuilder()
	b.rep.Format = FormatRVTools
	var used, ignored []string
	for i, p := range plan {
		t, err := openSheet(f, p.sheet, p.need)
		if err != nil && p.optional {
			b.note("not used: " + err.Error())
			continue
		}
		if err != nil {
			return nil, b.rep, err
		}
		qualify := ""
		if len(plan) > 1 {
			qualify, b.prefix = p.sheet, p.sheet+": "
		}
		b.seq = i
		b.describe(&t.l, qualify)
		err = b.readTable(t.src, t.head, t.hi, &t.l)
		_ = t.src.close()
		if err != nil {
			return nil, b.rep, fmt.Errorf("sheet %q: %w", p.sheet, err)
		}
		used = append(used, p.sheet)
		for _, h := range t.l.ignored {
			if !slices.Contains(ignored, h) {
				ignored = append(ignored, h)
			}
		}
	}
	b.rep.Sheet = strings.Join(used, ", ")
	b.noteGroups(ignored)
	return b.finish(), b.rep, nil
}

// readFirstSheet reads the first sheet with a name and an IP column.
func readFirstSheet(f *book, sheets []string) ([]VM, Report, error) {
	var (
		first  error
		passed []string
	)
	for _, s := range sheets {
		t, err := openSheet(f, s, needIP)
		if err != nil {
			// Prefer a sheet with wrong columns to an empty one.
			if first == nil || (errors.Is(first, ErrNoRows) && !errors.Is(err, ErrNoRows)) {
				first = err
			}
			passed = append(passed, "not used: "+err.Error())
			continue
		}
		defer t.src.close()
		b := newBuilder()
		b.rep.Notes = passed
		b.rep.Format, b.rep.Sheet = t.l.format(), s
		b.describe(&t.l, "")
		if err := b.readTable(t.src, t.head, t.hi, &t.l); err != nil {
			return nil, b.rep, fmt.Errorf("sheet %q: %w", s, err)
		}
		b.noteGroups(t.l.ignored)
		return b.finish(), b.rep, nil
	}
	if first == nil {
		first = fmt.Errorf("no worksheet: %w", ErrNoRows)
	}
	return nil, Report{}, first
}

// sheetTable is a worksheet whose header was found.
type sheetTable struct {
	src  sheetRows
	head []headRow
	hi   int
	l    layout
}

// openSheet streams sheet and finds its header. The caller closes t.src.
// Once the header is found, the rows keep the cells of its columns only.
func openSheet(f *book, sheet string, n need) (*sheetTable, error) {
	src, err := f.rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", sheet, err)
	}
	t := &sheetTable{src: src}
	if t.head, err = readHead(t.src); err == nil {
		t.hi, t.l, err = findHeader(t.head, n)
	}
	if err != nil {
		_ = src.close()
		return nil, fmt.Errorf("sheet %q: %w", sheet, err)
	}
	width := 0
	for _, c := range t.l.used {
		width = max(width, c.index+1)
	}
	src.keep(width)
	return t, nil
}

// sheetRows are the rows of a worksheet.
type sheetRows interface {
	rowSource
	keep(columns int)
	close() error
}

// rows opens the rows of sheet: from its XML (xmlRows) when the
// workbook's parts lead to it, else with excelize.
func (f *book) rows(sheet string) (sheetRows, error) {
	if f.xml != nil {
		x, ok, err := f.xml.rows(sheet)
		if ok || err != nil {
			return x, err
		}
	}
	rows, err := f.f.Rows(sheet)
	if err != nil {
		return nil, err
	}
	return &sheetSource{rows: rows}, nil
}

// sheetSource streams the rows of a worksheet with excelize.
type sheetSource struct {
	rows *excelize.Rows
	num  int
}

func (s *sheetSource) keep(int)     {}
func (s *sheetSource) close() error { return s.rows.Close() }

// next implements rowSource.
func (s *sheetSource) next() (int, []string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return 0, nil, err
		}
		return 0, nil, io.EOF
	}
	s.num++
	cells, err := s.rows.Columns()
	if err != nil {
		return s.num, nil, fmt.Errorf("row %d: %w", s.num, err)
	}
	return s.num, cells, nil
}

// capReader reads at most left bytes, and fails if there are more.
type capReader struct {
	r    io.Reader
	left int64
}

// Read implements io.Reader.
func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(c.r, one[:]); n > 0 {
			return 0, fmt.Errorf("xlsx file larger than %d MiB: %w", MaxXLSXBytes>>20, ErrTooLarge)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
