package inventory_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
	"github.com/xuri/excelize/v2"
)

// sheet is one worksheet of a generated workbook.
type sheet struct {
	Name string
	Rows [][]any
}

// writeWorkbook writes sheets to dir/name with excelize and returns the path.
func writeWorkbook(t testing.TB, dir, name string, sheets []sheet) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.Name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.Name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.Rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(s.Name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(dir, name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// rvtoolsSheets is an RVTools export: vInfo and vNetwork with their real
// headers (a subset), and with tags a "vTag" sheet.
func rvtoolsSheets(tags bool) []sheet {
	vInfo := sheet{"vInfo", [][]any{
		{"VM", "Powerstate", "Template", "DNS Name", "CPUs", "Memory", "NICs", "Primary IP Address", "Network #1", "Folder", "Annotation", "Datacenter", "Cluster", "Host", "OS according to the VMware Tools", "VI SDK Server"},
		{"web01", "poweredOn", "False", "web01.corp.example", 2, 4096, 1, "10.1.0.11", "VM Network", "Prod/Web", "Frontend (owner: web team)", "DC1", "CL-PROD", "esx01.corp.example", "Red Hat Enterprise Linux 9 (64-bit)", "vcsa01.corp.example"},
		{"db01", "poweredOn", "False", "db01.corp.example", 8, 32768, 1, "", "DB Network", "Prod/DB", "", "DC1", "CL-PROD", "esx02.corp.example", "Microsoft Windows Server 2022 (64-bit)", "vcsa01.corp.example"},
		{"tmpl-rhel9", "poweredOff", "True", "", 2, 2048, 1, "", "VM Network", "Templates", "golden image", "DC1", "CL-PROD", "esx01.corp.example", "", "vcsa01.corp.example"},
		{"app01", "poweredOn", "False", "app01.corp.example", 4, 8192, 2, "10.1.0.31", "App Network", "Prod/App", "", "DC1", "CL-PROD", "esx03.corp.example", "Ubuntu Linux (64-bit)", "vcsa01.corp.example"},
		{"clone01", "poweredOn", "False", "app01.corp.example", 4, 8192, 1, "10.1.0.31", "Lab Network", "Lab", "clone of app01", "DC1", "CL-LAB", "esx09.corp.example", "Ubuntu Linux (64-bit)", "vcsa01.corp.example"},
	}}
	vNetwork := sheet{"vNetwork", [][]any{
		{"VM", "Powerstate", "Template", "NIC label", "Adapter", "Network", "Switch", "Connected", "Starts Connected", "Mac Address", "Type", "IPv4 Address", "IPv6 Address", "Datacenter", "Cluster", "Host", "Folder", "VI SDK Server"},
		{"web01", "poweredOn", "False", "Network adapter 1", "Vmxnet3", "VM Network", "dvs-prod", "True", "True", "00:50:56:01:00:11", "assigned", "10.1.0.11, 10.1.0.12", "fe80::250:56ff:fe01:11, 2001:db8:1::11", "DC1", "CL-PROD", "esx01.corp.example", "Prod/Web", "vcsa01.corp.example"},
		{"db01", "poweredOn", "False", "Network adapter 1", "Vmxnet3", "DB Network", "dvs-prod", "True", "True", "00:50:56:01:00:21", "assigned", "10.1.0.21", "", "DC1", "CL-PROD", "esx02.corp.example", "Prod/DB", "vcsa01.corp.example"},
		{"tmpl-rhel9", "poweredOff", "True", "Network adapter 1", "Vmxnet3", "VM Network", "dvs-prod", "False", "True", "00:50:56:01:00:99", "assigned", "", "", "DC1", "CL-PROD", "esx01.corp.example", "Templates", "vcsa01.corp.example"},
		{"app01", "poweredOn", "False", "Network adapter 1", "Vmxnet3", "App Network", "dvs-prod", "True", "True", "00:50:56:01:00:31", "assigned", "10.1.0.31", "", "DC1", "CL-PROD", "esx03.corp.example", "Prod/App", "vcsa01.corp.example"},
		{"app01", "poweredOn", "False", "Network adapter 2", "Vmxnet3", "Backup Network", "dvs-prod", "True", "True", "00:50:56:01:00:32", "assigned", "192.168.50.31\n192.168.50.32", "", "DC1", "CL-PROD", "esx03.corp.example", "Prod/App", "vcsa01.corp.example"},
		{"clone01", "poweredOn", "False", "Network adapter 1", "Vmxnet3", "Lab Network", "dvs-lab", "True", "True", "00:50:56:01:00:41", "assigned", "10.9.0.31", "", "DC1", "CL-LAB", "esx09.corp.example", "Lab", "vcsa01.corp.example"},
		{"ghost", "poweredOn", "False", "Network adapter 1", "E1000", "VM Network", "dvs-prod", "False", "False", "00:50:56:01:00:51", "assigned", "0.0.0.0", "", "DC1", "CL-PROD", "esx01.corp.example", "Prod", "vcsa01.corp.example"},
	}}
	sheets := []sheet{vInfo, vNetwork, {"vMetaData", [][]any{{"RVTools major version", "RVTools version", "xlsx creation datetime", "Server"}, {4, "4.7.1.4", "2024-05-02 10:14", "vcsa01.corp.example"}}}}
	if tags {
		sheets = append(sheets, sheet{"vTag", [][]any{
			{"VM", "Tag"},
			{"web01", "Tier:Web, Env:Prod"},
			{"db01", "Tier:DB"},
			{"db01", "Env:Prod"},
			{"nobody", "Env:Lab"},
		}})
	}
	return sheets
}

// genericSheets is a CMDB extract: a summary sheet without a table, then a
// sheet with a title row.
func genericSheets() []sheet {
	return []sheet{
		{"Summary", [][]any{{"Server inventory"}, {"Generated 2024-05-02 by CMDB"}}},
		{"Servers", [][]any{
			{"Server list (CMDB extract)"},
			{},
			{"Hostname", "Addresses", "Environment", "Owner", "NSX Security Groups"},
			{"pay-app-01", "10.70.0.11 | 10.70.0.12", "prod", "payments", "SG-PAY, SG-PCI"},
			{"pay-db-01", "10.70.0.21", "prod", "payments", "SG-PAY; SG-PCI; SG-DB"},
			{"pay-web-01", "[2001:db8:70::5]", "prod", "payments", "SG-PAY"},
			{"pay-batch-01", "10.70.0.31/24", "prod", "payments", ""},
		}},
	}
}

// addLogo adds a PNG picture to the first sheet: binary parts must not
// upset the workbook check.
func addLogo(t testing.TB, path string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 32, 32))); err != nil {
		t.Fatal(err)
	}
	sheets := f.GetSheetList()
	if err := f.AddPictureFromBytes(sheets[0], "D2", &excelize.Picture{Extension: ".png", File: buf.Bytes()}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
}

// rawXLSX builds a minimal workbook from a worksheet and a shared string
// table written by hand; entries replaces or adds zip entries.
func rawXLSX(t testing.TB, sheetXML, sstXML string, entries map[string]string) []byte {
	t.Helper()
	parts := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml":   sheetXML,
		"xl/sharedStrings.xml":       sstXML,
	}
	for k, v := range entries {
		parts[k] = v
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	wsOpen  = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	wsClose = `</sheetData></worksheet>`
	sstOpen = `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
	header  = `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>`
)

// hostileTests are workbooks built to exhaust memory.
var hostileTests = []struct {
	Name string
	Data func(t testing.TB) []byte
	Want string // error text
	Is   error
}{
	{
		"shared string copied into many cells",
		func(t testing.TB) []byte {
			return rawXLSX(t, wsOpen+header+`<row r="2">`+strings.Repeat(`<c t="s"><v>2</v></c>`, 400)+`</row>`+wsClose,
				sstOpen+`<si><t>VM</t></si><si><t>IP</t></si><si><t>`+strings.Repeat("A", 1<<20)+`</t></si></sst>`, nil)
		},
		"a row of 400 cells sharing strings of up to 1024 KiB could expand to 400 MiB: too large", inventory.ErrTooLarge,
	},
	{
		"deep nesting",
		func(t testing.TB) []byte {
			return rawXLSX(t, wsOpen+strings.Repeat("<a>", 1<<20)+wsClose, sstOpen+`</sst>`, nil)
		},
		"xlsx part xl/worksheets/sheet1.xml: XML nested deeper than 128 elements: too large", inventory.ErrTooLarge,
	},
	{
		"deep nesting inside a directive comment",
		func(t testing.TB) []byte {
			return rawXLSX(t, `<!DOCTYPE x [<!-- " -->]>`+wsOpen+strings.Repeat("<a>", 1000)+wsClose, sstOpen+`</sst>`, nil)
		},
		"xlsx part xl/worksheets/sheet1.xml: XML nested deeper than 128 elements: too large", inventory.ErrTooLarge,
	},
	{
		"UTF-16 part",
		func(t testing.TB) []byte {
			return rawXLSX(t, `<?xml version="1.0" encoding="UTF-16"?>`+wsOpen[len(`<?xml version="1.0" encoding="UTF-8"?>`):]+wsClose, sstOpen+`</sst>`, nil)
		},
		`xlsx part xl/worksheets/sheet1.xml: XML encoding "UTF-16": unsupported file format`, inventory.ErrUnsupported,
	},
	{"zip bomb", zipBomb, "xlsx unzips to more than 256 MiB: too large", inventory.ErrTooLarge},
	{
		"large styles part",
		func(t testing.TB) []byte {
			styles := `<?xml version="1.0" encoding="UTF-8"?><styleSheet>` + strings.Repeat(`<xf numFmtId="0"/>`, 1<<20) + `</styleSheet>`
			return rawXLSX(t, wsOpen+wsClose, sstOpen+`</sst>`, map[string]string{"xl/styles.xml": styles})
		},
		"xlsx part xl/styles.xml larger than 16 MiB: too large", inventory.ErrTooLarge,
	},
	{
		"file too large",
		func(testing.TB) []byte { return append([]byte("PK\x03\x04"), make([]byte, inventory.MaxXLSXBytes)...) },
		"read xlsx: xlsx file larger than 64 MiB: too large", inventory.ErrTooLarge,
	},
}

// TestReadXLSXHostile feeds workbooks built to exhaust memory, and checks
// they are refused without allocating much.
func TestReadXLSXHostile(t *testing.T) {
	for _, tc := range hostileTests {
		t.Run(tc.Name, func(t *testing.T) {
			data := tc.Data(t)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, _, err := inventory.ReadXLSX(bytes.NewReader(data))
			runtime.ReadMemStats(&m1)
			if err == nil || err.Error() != tc.Want || !errors.Is(err, tc.Is) {
				t.Fatalf("got error %v, want %q (%v)", err, tc.Want, tc.Is)
			}
			// Reading the input costs a few copies of it; anything near the
			// expansion the file asks for is a failure.
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > uint64(5*len(data))+32<<20 {
				t.Errorf("allocated %d MiB for a %d KiB file", alloc>>20, len(data)>>10)
			}
		})
	}
}

// zipBomb is a workbook whose sheet unzips to 300 MiB.
func zipBomb(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for range 300 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReadXLSXRaw checks a workbook written by hand: shared, rich and inline
// strings, a number read raw.
func TestReadXLSXRaw(t *testing.T) {
	sst := sstOpen + `<si><t>VM</t></si><si><t>IP</t></si><si><r><t>web</t></r><r><t>01</t></r></si></sst>`
	rows := `<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="inlineStr"><is><t>10.0.0.1</t></is></c></row>` +
		`<row r="3"><c r="A3"><v>1001</v></c><c r="B3" t="str"><v>10.0.0.2</v></c></row>`
	// A large binary part (an image) is not XML and must not be refused.
	image := "\x89PNG\r\n\x1a\n" + strings.Repeat("<a>", 6<<20)
	data := rawXLSX(t, wsOpen+header+rows+wsClose, sst, map[string]string{"xl/media/image1.png": image})
	vms, rep, err := inventory.ReadXLSX(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := vmString(vms), "web01 10.0.0.1; 1001 10.0.0.2"; got != want {
		t.Errorf("got VMs %q, want %q", got, want)
	}
	if rep.Sheet != "Sheet1" || rep.Format != inventory.FormatSimple {
		t.Errorf("got sheet %q format %q", rep.Sheet, rep.Format)
	}
}

// TestReadXLSXFarRightCells: rows with a cell in the last column (XFD) are
// read in time and memory proportional to the cells, not to the columns
// they reach: excelize's Rows.Columns made each such row 16,384 strings,
// and a 1 MB workbook of them took a minute.
func TestReadXLSXFarRightCells(t *testing.T) {
	var b strings.Builder
	b.WriteString(wsOpen + header)
	const n = 20000
	for i := 2; i < n; i++ {
		fmt.Fprintf(&b, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>vm-%d</t></is></c><c r="B%d" t="inlineStr"><is><t>10.%d.%d.%d</t></is></c>`+
			`<c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>`, i, i, i, i, i/65536, i/256%256, i%256, i)
	}
	b.WriteString(wsClose)
	data := rawXLSX(t, b.String(), sstOpen+`<si><t>VM</t></si><si><t>IP</t></si></sst>`, nil)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	vms, _, err := inventory.ReadXLSX(bytes.NewReader(data))
	runtime.ReadMemStats(&m1)
	if err != nil || len(vms) != n-2 {
		t.Fatalf("%d VMs, %v", len(vms), err)
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 256<<20 {
		t.Errorf("allocated %d MiB for %d rows of three cells (%d KiB of workbook)", alloc>>20, n, len(data)>>10)
	}
}
