package inventory

import (
	"bytes"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestXMLRowsMatchExcelize: the rows read from the worksheet XML are those
// excelize's Rows.Columns gives, read raw, for every kind of cell.
func TestXMLRowsMatchExcelize(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"VM", "IP", "Tags", "Count", "On", "Since"},
		{"web01", "10.0.0.1", "Tier:Web", 3, true, time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)},
		{"db01", nil, "a_x000D_b", 2.5, false, "text"},
		{},
		{"", "10.0.0.3"},
		{"x", "y", nil, nil, nil, nil, nil, "far"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	f.SetCellRichText("Sheet1", "C5", []excelize.RichTextRun{{Text: "rich "}, {Text: "text"}})
	f.SetCellFormula("Sheet1", "D6", "1+1")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	g, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	b := &book{f: g}
	if b.xml, err = openWorkbookXML(data); err != nil {
		t.Fatal(err)
	}
	x, err := b.rows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := x.(*xmlRows); !ok {
		t.Fatalf("read with %T, want xmlRows", x)
	}
	ex, _ := g.Rows("Sheet1")
	got, want := collect(t, x), collect(t, &sheetSource{rows: ex})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("xml rows:\n%v\nexcelize rows:\n%v", got, want)
	}
	if len(got) != 5 {
		t.Errorf("%d rows with cells, want 5", len(got))
	}
}

// collect reads every row that has cells, by number.
func collect(t *testing.T, src rowSource) map[int][]string {
	t.Helper()
	out := make(map[int][]string)
	for {
		n, cells, err := src.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		if len(cells) > 0 {
			out[n] = cells
		}
	}
}
