package export

import (
	"archive/zip"
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestRowEncoderMatchesStreamWriter writes the same cells with excelize's
// StreamWriter.SetRow and with the row encoder: the row XML must be the same.
func TestRowEncoderMatchesStreamWriter(t *testing.T) {
	long := strings.Repeat("é", excelize.TotalCellChars+5)
	tests := []struct {
		Name string
		In   []any // string, uint64 or time.Time
	}{
		{"plain", []any{"INBOUND", "10.0.0.1", "fd00::7", "AppTier:Web;PCI", "TCP"}},
		{"markup and quotes", []any{`a<b>&"c'`, "R&D", "x > y"}},
		{"spaces at the ends", []any{" lead", "trail ", "\tTab", "line\nfeed", "cr\r"}},
		{"control characters", []any{"bad\x01tag", "nul\x00", "\x7f del"}},
		{"non-ASCII", []any{"web-01 (Zürich)", "東京", "emoji 🙂"}},
		{"escape look-alikes", []any{"_x0041_", "a_x005F_b", "_x005F_x0041_", "_xZZZZ_", "ab_x"}},
		{"too long", []any{long}},
		{"numbers", []any{uint64(0), uint64(53), uint64(1<<64 - 1)}},
		{"dates", []any{time.Date(2025, 4, 10, 10, 0, 0, 0, time.UTC), time.Date(2025, 4, 10, 10, 0, 0, 123456789, time.UTC),
			time.Date(1900, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
			time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			styles := make([]int, len(tc.In))
			for i := range styles {
				styles[i] = i % 3 // none, and two made-up style IDs
				if _, ok := tc.In[i].(time.Time); ok {
					styles[i] = 1 + i%2 // date columns always have a style
				}
			}
			want := streamWriterRow(t, tc.In, styles)
			var b bytes.Buffer
			e := newRowEncoder(&b, styles, 2)
			e.startRow()
			for _, v := range tc.In {
				switch v := v.(type) {
				case string:
					e.text(v)
				case uint64:
					e.number(v)
				case time.Time:
					e.date(v)
				}
			}
			if err := errorsJoin(e.endRow(), e.flush()); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != want {
				t.Errorf("row XML differs:\ngot  %.600s\nwant %.600s", got, want)
			}
		})
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// streamWriterRow returns the XML of row 2 as StreamWriter.SetRow writes it,
// each column styled as given.
func streamWriterRow(t *testing.T, values []any, styles []int) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for _, n := range []int{3, 1} { // style IDs 1 and 2 must exist
		if _, err := f.NewStyle(&excelize.Style{NumFmt: n}); err != nil {
			t.Fatal(err)
		}
	}
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range styles {
		if s != 0 {
			if err := sw.SetColStyle(i+1, i+1, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := sw.SetRow("A2", values); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sheet, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?s)<row r="2">.*?</row>`).FindString(string(sheet))
}

// TestSplicer writes a part in chunks of every size: the rows go right
// before the end of the sheet data, once, wherever the chunks split it.
func TestSplicer(t *testing.T) {
	part := `<worksheet><sheetData><row r="1"/></sheetData><autoFilter ref="A1:B3"/></worksheet>`
	want := strings.Replace(part, "</sheetData>", `<row r="2"/><row r="3"/></sheetData>`, 1)
	for size := 1; size <= len(part); size++ {
		var b bytes.Buffer
		calls := 0
		s := &splicer{w: &b, fill: func(w io.Writer) error {
			calls++
			_, err := io.WriteString(w, `<row r="2"/><row r="3"/>`)
			return err
		}}
		for rest := part; rest != ""; {
			n := min(size, len(rest))
			if m, err := s.Write([]byte(rest[:n])); err != nil || m != n {
				t.Fatalf("chunks of %d: wrote %d of %d: %v", size, m, n, err)
			}
			rest = rest[n:]
		}
		if got := b.String(); got != want || calls != 1 || !s.done {
			t.Fatalf("chunks of %d: %d fills, got %s", size, calls, got)
		}
	}
}
