package export_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Run "go test ./export -run WorkbookGolden -update" to rewrite
// testdata/workbook/sample.golden, then check its diff by hand.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

var wbSheets = []string{"Summary", "Rules", "Flows", "Review", "Sources"}

// wbHeaders are the header rows of the table sheets, exactly.
var wbHeaders = map[string][]string{
	"Rules": {"Source", "Destination", "Protocol", "Destination Port", "Description", "Direction", "Service",
		"Action", "Sessions", "Bytes", "First seen", "Last seen", "Evidence", "Name", "Rule ID"},
	"Flows": append(slices.Clone(export.FlowColumns), "Source VM", "Destination VM", "Unanswered"),
	"Review": {"Reason", "Direction", "Tags", "Source", "Destination", "Protocol", "Destination Port", "Sessions",
		"Unanswered", "Packets", "Bytes", "First seen", "Last seen", "Actions", "Hosts", "Source VM",
		"Destination VM", "Sample"},
	"Sources": {"File", "Size (bytes)", "Lines", "Events", "Skipped", "Unsupported", "Malformed", "Imported",
		"Malformed samples"},
	"Summary": {"Item", "Value"},
}

var wbGenerated = time.Date(2025, 4, 18, 9, 30, 0, 0, time.UTC)

// wbWrite writes the sample workbook, or an empty one.
func wbWrite(t testing.TB, empty bool) []byte {
	t.Helper()
	rs, convs, sources := wbRuleSet(), analysistest.Table(wbConvs()), wbSources()
	if empty {
		rs, convs, sources = rules.Set{}, nil, nil
	}
	var b bytes.Buffer
	if err := export.WriteWorkbook(&b, rs, convs, sources, export.WorkbookOptions{Title: "prod-dc1", Generated: wbGenerated}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func wbOpen(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestWriteWorkbookStructure(t *testing.T) {
	for _, empty := range []bool{false, true} {
		t.Run(fmt.Sprintf("empty=%v", empty), func(t *testing.T) {
			data := wbWrite(t, empty)
			f := wbOpen(t, data)
			x := wbReadZip(t, data)
			if _, parts := x.sheets(t); x.charts(t, parts["Summary"]) != 2 {
				t.Errorf("Summary has not 2 charts")
			}
			if got := f.GetSheetList(); !slices.Equal(got, wbSheets) {
				t.Fatalf("sheets: got %q, want %q", got, wbSheets)
			}
			if got := f.GetSheetName(f.GetActiveSheetIndex()); got != "Rules" {
				t.Errorf("active sheet: got %s, want Rules", got)
			}
			filters := map[string]string{}
			for _, d := range f.GetDefinedName() {
				if d.Name == "_xlnm._FilterDatabase" {
					filters[d.Scope] = d.RefersTo
				}
			}
			for _, sh := range wbSheets {
				rows, err := f.GetRows(sh)
				if want := wbHeaders[sh]; err != nil || len(rows) == 0 || !slices.Equal(rows[0][:min(len(rows[0]), len(want))], want) {
					t.Fatalf("%s header: got %q, %v; want %q", sh, rows, err, want)
				}
				p, err := f.GetPanes(sh)
				if err != nil || !p.Freeze || p.YSplit != 1 || p.XSplit != 0 || p.TopLeftCell != "A2" {
					t.Errorf("%s panes: got %+v, %v; want the first row frozen", sh, p, err)
				}
				if !strings.HasPrefix(filters[sh], "'"+sh+"'!$A$1:$") {
					t.Errorf("%s autofilter: got %q", sh, filters[sh])
				}
				if w, _ := f.GetColWidth(sh, "A"); w < 10 {
					t.Errorf("%s column A width %v", sh, w)
				}
			}
		})
	}
}

func TestWriteWorkbookCells(t *testing.T) {
	f := wbOpen(t, wbWrite(t, false))
	const (
		text = iota
		number
		datetime
		empty
	)
	tests := []struct {
		Sheet, Cell string
		Kind        int
		Want        string // raw value; for dates the time in RFC 3339
	}{
		{"Rules", "A2", text, "AppTier:Web"},
		{"Rules", "I2", number, "12431"},
		{"Rules", "J4", number, "1099511627776"},
		{"Rules", "K2", datetime, "2025-04-10T10:00:00Z"},
		{"Rules", "D3", empty, ""},
		{"Rules", "E3", text, "Monitoring, \"ping\"\nsecond line"},
		{"Rules", "E4", text, "=SUM(A1) stays text"},
		{"Flows", "F2", number, "53"},
		{"Flows", "J2", datetime, "2025-04-10T10:00:00Z"},
		{"Flows", "J6", empty, ""},
		{"Flows", "N2", text, "web-01 (Zürich)"},
		{"Review", "A2", text, "never answered (probable scan)"},
		{"Sources", "B2", number, "1073741824"},
		{"Sources", "H2", datetime, "2025-04-17T18:30:05Z"},
		{"Sources", "I2", text, "messages:17: no payload\nmessages:99: bad tuple <x>"},
		{"Summary", "B3", datetime, "2025-04-18T09:30:00Z"},
		{"Summary", "B7", number, "13445"},
	}
	for _, tc := range tests {
		t.Run(tc.Sheet+"!"+tc.Cell, func(t *testing.T) {
			typ, err := f.GetCellType(tc.Sheet, tc.Cell)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := f.GetCellValue(tc.Sheet, tc.Cell, excelize.Options{RawCellValue: true})
			isNum := typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber // no t attribute: a number
			switch tc.Kind {
			case text:
				if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
					t.Errorf("type %v, want a string", typ)
				}
			case number:
				if _, err := strconv.ParseFloat(raw, 64); !isNum || err != nil {
					t.Errorf("type %v value %q, want a number", typ, raw)
				}
			case datetime:
				wbCheckDate(t, f, tc.Sheet, tc.Cell, typ, raw, tc.Want)
				return
			}
			if raw != tc.Want {
				t.Errorf("got %q, want %q", raw, tc.Want)
			}
		})
	}
}

// wbCheckDate checks that a cell is an Excel date serial with a date format.
func wbCheckDate(t *testing.T, f *excelize.File, sheet, cell string, typ excelize.CellType, raw, want string) {
	t.Helper()
	serial, err := strconv.ParseFloat(raw, 64)
	if typ != excelize.CellTypeUnset || err != nil {
		t.Fatalf("type %v value %q, want a date serial", typ, raw)
	}
	got, err := excelize.ExcelDateToTime(serial, false)
	if err != nil || got.Round(time.Second).Format(time.RFC3339) != want {
		t.Errorf("serial %v is %v, want %s", serial, got, want)
	}
	id, _ := f.GetCellStyle(sheet, cell)
	st, err := f.GetStyle(id)
	if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != "yyyy-mm-dd hh:mm:ss" {
		t.Errorf("style %d: %+v, %v; want a date-time format", id, st, err)
	}
}

// TestWorkbookGolden compares every cell, as Excel shows it, with
// testdata/workbook/sample.golden.
func TestWorkbookGolden(t *testing.T) {
	f := wbOpen(t, wbWrite(t, false))
	var b strings.Builder
	for _, sh := range f.GetSheetList() {
		rows, err := f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s\n", sh)
		for i, r := range rows {
			fmt.Fprintf(&b, "%d: %q\n", i+1, r)
		}
	}
	golden := filepath.Join("testdata", "workbook", "sample.golden")
	if u := flag.Lookup("update"); u != nil && u.Value.String() == "true" {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("cells differ from %s (run with -update and diff):\n%s", golden, b.String())
	}
}

func TestWriteWorkbookFailingWriter(t *testing.T) {
	for _, n := range []int{0, 100, 5000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			err := export.WriteWorkbook(&wbFailingWriter{n: n}, wbRuleSet(), analysistest.Table(wbConvs()), wbSources(), export.WorkbookOptions{})
			if !errors.Is(err, errWBBoom) {
				t.Errorf("got %v, want %v", err, errWBBoom)
			}
		})
	}
}

func ExampleWriteWorkbook() {
	rs := rules.Set{Rules: []rules.Rule{{
		Src:     rules.Endpoint{Name: "AppTier:Web", Kind: rules.KindGroup},
		Dst:     rules.Endpoint{Name: "Any", Kind: rules.KindAny},
		Service: rules.Service{Proto: ingest.ProtoTCP, Ports: []rules.PortRange{{From: 443, To: 443}}, Name: "HTTPS"},
	}}}
	var b bytes.Buffer
	if err := export.WriteWorkbook(&b, rs, nil, nil, export.WorkbookOptions{Title: "lab"}); err != nil {
		panic(err)
	}
	f, _ := excelize.OpenReader(&b)
	row, _ := f.GetRows("Rules")
	fmt.Println(f.GetSheetList())
	fmt.Println(strings.Join(row[1][:4], " | "))
	// Output:
	// [Summary Rules Flows Review Sources]
	// AppTier:Web | Any | TCP | 443
}

func BenchmarkWriteWorkbook1M(b *testing.B) {
	convs := analysistest.Table(wbManyConvs(1_000_000))
	rs := rules.Set{Table: convs, Rules: wbManyRules(convs, 3000)}
	file := filepath.Join(b.TempDir(), "big.xlsx")
	b.ReportAllocs()
	for b.Loop() {
		peak := wbWatchHeap()
		out, err := os.Create(file)
		if err == nil {
			err = errors.Join(export.WriteWorkbook(out, rs, convs, nil, export.WorkbookOptions{Title: "bench"}), out.Close())
		}
		if err != nil {
			b.Fatal(err)
		}
		base, live, inuse := peak()
		b.ReportMetric(float64(base)/(1<<20), "input-MB")
		b.ReportMetric(float64(live-base)/(1<<20), "peak-live-above-input-MB")
		b.ReportMetric(float64(inuse)/(1<<20), "peak-heap-inuse-MB")
	}
	if fi, err := os.Stat(file); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
}

// wbWatchHeap samples the heap until the returned function is called,
// which returns the live heap at the start (after a GC: the input), the
// peak of the live heap (as marked by each GC) and the peak of the heap in
// use (live plus garbage not yet collected, which GOGC lets grow).
func wbWatchHeap() func() (base, live, inuse uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var ms runtime.MemStats
	read := func() (uint64, uint64) {
		metrics.Read(sample)
		runtime.ReadMemStats(&ms)
		return sample[0].Value.Uint64(), ms.HeapInuse
	}
	base, inuse := read()
	live := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				l, u := read()
				live, inuse = max(live, l), max(inuse, u)
			}
		}
	}()
	return func() (uint64, uint64, uint64) {
		close(stop)
		<-done
		return base, live, inuse
	}
}

// wbXLSX is an xlsx read with archive/zip and encoding/xml only, as an
// independent reader would: its parts by name.
type wbXLSX map[string][]byte

// wbSheetXML is what the tests read of a worksheet part. The streamed
// sheets hold numbers (no t attribute, or "n") and inline strings only.
type wbSheetXML struct {
	Views []struct {
		TabSelected bool `xml:"tabSelected,attr"`
		Pane        *struct {
			YSplit float64 `xml:"ySplit,attr"`
			State  string  `xml:"state,attr"`
		} `xml:"pane"`
	} `xml:"sheetViews>sheetView"`
	Cells      []wbCellXML `xml:"sheetData>row>c"`
	AutoFilter struct {
		Ref string `xml:"ref,attr"`
	} `xml:"autoFilter"`
	Drawing struct {
		RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
	} `xml:"drawing"`
}

type wbCellXML struct {
	R  string `xml:"r,attr"`
	T  string `xml:"t,attr"`
	S  int    `xml:"s,attr"`
	V  string `xml:"v"`
	IS string `xml:"is>t"`
}

func wbReadZip(t *testing.T, data []byte) wbXLSX {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	x := wbXLSX{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err == nil {
			x[zf.Name], err = io.ReadAll(rc)
			rc.Close()
		}
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
	}
	return x
}

func (x wbXLSX) decode(t *testing.T, part string, v any) {
	t.Helper()
	if err := xml.Unmarshal(x[part], v); err != nil {
		t.Fatalf("part %s: %v", part, err)
	}
}

// rels returns the targets of the relationships of part, by id, and the
// ids by type.
func (x wbXLSX) rels(t *testing.T, part string) (targets map[string]string, ids map[string][]string) {
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	x.decode(t, path.Join(path.Dir(part), "_rels", path.Base(part)+".rels"), &rels)
	targets, ids = map[string]string{}, map[string][]string{}
	for _, r := range rels.Rel {
		target := path.Join(path.Dir(part), r.Target)
		if strings.HasPrefix(r.Target, "/") {
			target = r.Target[1:]
		}
		targets[r.ID] = target
		ids[path.Base(r.Type)] = append(ids[path.Base(r.Type)], r.ID)
	}
	return targets, ids
}

// sheets returns the sheet names in order and their parts.
func (x wbXLSX) sheets(t *testing.T) ([]string, map[string]string) {
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	x.decode(t, "xl/workbook.xml", &wb)
	targets, _ := x.rels(t, "xl/workbook.xml")
	var names []string
	parts := map[string]string{}
	for _, s := range wb.Sheets {
		names = append(names, s.Name)
		parts[s.Name] = targets[s.RID]
	}
	return names, parts
}

func TestWorkbookIndependentReader(t *testing.T) {
	x := wbReadZip(t, wbWrite(t, false))
	names, parts := x.sheets(t)
	if !slices.Equal(names, wbSheets) {
		t.Fatalf("sheets: got %q", names)
	}
	var rules wbSheetXML
	x.decode(t, parts["Rules"], &rules)
	cells := map[string]wbCellXML{}
	for _, c := range rules.Cells {
		cells[c.R] = c
	}
	for i, want := range wbHeaders["Rules"] {
		ref, _ := excelize.CoordinatesToCellName(i+1, 1)
		if c := cells[ref]; c.IS != want || c.T != "inlineStr" {
			t.Errorf("Rules %s: got %+v, want the string %q", ref, c, want)
		}
	}
	for ref, want := range map[string]string{"A2": "AppTier:Web", "D4": "80, 443, 8000-8080", "E3": "Monitoring, \"ping\"\nsecond line",
		"I2": "12431", "J3": "252", "J4": "1099511627776"} {
		if got := cells[ref].V + cells[ref].IS; got != want {
			t.Errorf("Rules %s: got %q, want %q", ref, got, want)
		}
	}
	for _, ref := range []string{"I2", "J4", "K2"} {
		if _, err := strconv.ParseFloat(cells[ref].V, 64); err != nil || (cells[ref].T != "" && cells[ref].T != "n") {
			t.Errorf("Rules %s: %+v, want a number", ref, cells[ref])
		}
	}
	if got := x.numFmt(t, cells["K2"].S); got != "yyyy-mm-dd hh:mm:ss" {
		t.Errorf("Rules K2 number format %q", got)
	}
	if v := rules.Views; len(v) != 1 || !v[0].TabSelected || v[0].Pane == nil || v[0].Pane.State != "frozen" || v[0].Pane.YSplit != 1 {
		t.Errorf("Rules view: %+v", v)
	}
	if strings.ReplaceAll(rules.AutoFilter.Ref, "$", "") != "A1:O4" {
		t.Errorf("Rules autofilter %q, want A1:O4", rules.AutoFilter.Ref)
	}
	if n := x.charts(t, parts["Summary"]); n != 2 {
		t.Errorf("Summary has %d charts, want 2", n)
	}
}

// numFmt returns the format code of cell style s.
func (x wbXLSX) numFmt(t *testing.T, s int) string {
	var st struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmtID int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	x.decode(t, "xl/styles.xml", &st)
	for _, f := range st.NumFmts {
		if s < len(st.Xfs) && f.ID == st.Xfs[s].NumFmtID {
			return f.Code
		}
	}
	return fmt.Sprintf("style %d: no custom format", s)
}

// charts counts the charts drawn on a sheet, checking that each plots
// ranges of the Summary.
func (x wbXLSX) charts(t *testing.T, sheetPart string) int {
	var sh wbSheetXML
	x.decode(t, sheetPart, &sh)
	if sh.Drawing.RID == "" {
		return 0
	}
	targets, _ := x.rels(t, sheetPart)
	drawing := targets[sh.Drawing.RID]
	charts, ids := x.rels(t, drawing)
	for _, id := range ids["chart"] {
		var chart struct {
			Refs []string `xml:"chart>plotArea>barChart>ser>val>numRef>f"`
		}
		x.decode(t, charts[id], &chart)
		if len(chart.Refs) == 0 || !strings.HasPrefix(chart.Refs[0], "Summary!$") {
			t.Errorf("chart %s: series %q", charts[id], chart.Refs)
		}
	}
	return len(ids["chart"])
}
