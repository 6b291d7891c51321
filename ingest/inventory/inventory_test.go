package inventory_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden is what a fixture's golden file holds.
type golden struct {
	VMs    []inventory.VM
	Report inventory.Report
}

// fixtures returns the fixture files, generating the workbooks into dir.
func fixtures(t testing.TB, dir string) map[string]string {
	t.Helper()
	generic := writeWorkbook(t, dir, "generic.xlsx", genericSheets())
	addLogo(t, generic)
	return map[string]string{
		"prism-central":     "testdata/prism-central.csv",
		"simple":            "testdata/simple.csv",
		"simple-semicolons": "testdata/simple-semicolons.csv",
		"title-row":         "testdata/title-row.csv",
		"bom":               "testdata/bom.csv",
		"crlf":              "testdata/crlf.csv",
		"rvtools-vinfo":     "testdata/rvtools-vinfo.csv",
		"rvtools":           writeWorkbook(t, dir, "rvtools.xlsx", rvtoolsSheets(false)),
		"rvtools-tags":      writeWorkbook(t, dir, "rvtools-tags.xlsx", rvtoolsSheets(true)),
		"generic":           generic,
	}
}

// TestReadGolden reads every fixture and compares VMs and report with
// testdata/<name>.golden.json; -update rewrites them.
func TestReadGolden(t *testing.T) {
	for name, path := range fixtures(t, t.TempDir()) {
		t.Run(name, func(t *testing.T) {
			vms, rep, err := inventory.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(golden{vms, rep}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			file := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; got:\n%s", path, file, got)
			}
		})
	}
}

// fixtureTests are the key facts of each fixture, stated in the code so
// that a careless -update cannot hide a regression.
var fixtureTests = []struct {
	Name, Format, Sheet string
	Columns             map[string]string
	VMs                 string // vmString
	Skipped             []inventory.RowProblem
}{
	{
		"prism-central", inventory.FormatPrismCentral, "",
		map[string]string{"name": "VM Name", "ip": "IP Addresses", "groups": "Categories"},
		"web-01 10.10.1.11 10.10.1.12 [AppTier:Web Environment:Production]; web-02 10.10.1.13 [AppTier:Web Environment:Production]; " +
			"app-01 10.10.2.21 [AppTier:App Environment:Production]; db-01 10.10.3.31 2001:db8:10:3::31 [AppTier:DB Backup:Gold Environment:Production]; " +
			"test-vm 10.20.0.5 [Environment:Dev]",
		[]inventory.RowProblem{
			{Row: 6, Reason: `no valid IP address in "IP Addresses": "-"`},
			{Row: 7, Reason: `IP address 10.10.1.13 of "build-07" already belongs to "web-02"; kept for "web-02"`},
			{Row: 7, Reason: `no IP address for "build-07"`},
			{Row: 8, Reason: `invalid IP address "10.20.0.500" in "IP Addresses" ignored`},
		},
	},
	{
		"simple", inventory.FormatSimple, "",
		map[string]string{"name": "name", "ip": "ip", "groups": "tags"},
		"web01 10.0.1.11 10.0.1.14 [frontend prod web]; web02 10.0.1.12 10.0.1.13 [prod web]; db01 10.0.3.21 2001:db8::21 [db prod]",
		[]inventory.RowProblem{{Row: 7, Reason: `no valid IP address in "ip": ""`}},
	},
	{
		"simple-semicolons", inventory.FormatSimple, "",
		map[string]string{"name": "hostname", "ip": "address", "groups": "security_groups"},
		"lb-01 192.168.10.5 192.168.10.6 [SG-DMZ SG-LB]; mail-01 192.168.20.7 [SG-DMZ SG-Mail]; mail-02 192.168.20.8 192.168.20.9 [SG-Mail]",
		nil,
	},
	{
		"title-row", inventory.FormatGeneric, "",
		map[string]string{"name": "Name", "ip": "IP Address", "groups": "Security Groups"},
		"erp-app-01 172.16.4.10 [SG-ERP]; erp-db-01 172.16.4.20 [SG-DB SG-ERP]; hr-web-01 172.16.5.10 [SG-HR]",
		nil,
	},
	{
		"bom", inventory.FormatSimple, "",
		map[string]string{"name": "vm", "ip": "ips", "groups": "groups"},
		"vdi-001 10.50.0.11 [VDI]; vdi-002 10.50.0.12 [VDI]", nil,
	},
	{
		"crlf", inventory.FormatRVTools, "",
		map[string]string{"name": "VM", "ip": "Primary IP Address", "groups": "Tags"},
		"sql-01 10.60.0.5 [Prod SQL]; sql-02 10.60.0.6 [SQL]", nil,
	},
	{
		"rvtools-vinfo", inventory.FormatRVTools, "",
		map[string]string{"name": "vInfoVMName", "ip": "vInfoPrimaryIPAddress"},
		"web01 10.1.0.11; db01 10.1.0.21",
		[]inventory.RowProblem{{Row: 4, Reason: `no valid IP address in "vInfoPrimaryIPAddress": ""`}},
	},
	{
		"rvtools", inventory.FormatRVTools, "vInfo, vNetwork",
		map[string]string{"name": "vInfo!VM, vNetwork!VM", "ip": "vInfo!Primary IP Address, vNetwork!IPv4 Address, vNetwork!IPv6 Address"},
		"web01 10.1.0.11 10.1.0.12 2001:db8:1::11; db01 10.1.0.21; app01 10.1.0.31 192.168.50.31 192.168.50.32; clone01 10.9.0.31",
		[]inventory.RowProblem{
			{Row: 4, Reason: `vInfo: no valid IP address in "Primary IP Address": ""`},
			{Row: 6, Reason: `vInfo: IP address 10.1.0.31 of "clone01" already belongs to "app01"; kept for "app01"`},
			{Row: 8, Reason: `vNetwork: no valid IP address in "IPv4 Address": "0.0.0.0", "IPv6 Address": ""`},
		},
	},
	{
		"rvtools-tags", inventory.FormatRVTools, "vInfo, vNetwork, vTag",
		map[string]string{"name": "vInfo!VM, vNetwork!VM, vTag!VM", "ip": "vInfo!Primary IP Address, vNetwork!IPv4 Address, vNetwork!IPv6 Address", "groups": "vTag!Tag"},
		"web01 10.1.0.11 10.1.0.12 2001:db8:1::11 [Env:Prod Tier:Web]; db01 10.1.0.21 [Env:Prod Tier:DB]; app01 10.1.0.31 192.168.50.31 192.168.50.32; clone01 10.9.0.31",
		[]inventory.RowProblem{
			{Row: 4, Reason: `vInfo: no valid IP address in "Primary IP Address": ""`},
			{Row: 6, Reason: `vInfo: IP address 10.1.0.31 of "clone01" already belongs to "app01"; kept for "app01"`},
			{Row: 8, Reason: `vNetwork: no valid IP address in "IPv4 Address": "0.0.0.0", "IPv6 Address": ""`},
			{Row: 5, Reason: `vTag: no IP address for "nobody"`},
		},
	},
	{
		"generic", inventory.FormatGeneric, "Servers",
		map[string]string{"name": "Hostname", "ip": "Addresses", "groups": "NSX Security Groups"},
		"pay-app-01 10.70.0.11 10.70.0.12 [SG-PAY SG-PCI]; pay-db-01 10.70.0.21 [SG-DB SG-PAY SG-PCI]; pay-web-01 2001:db8:70::5 [SG-PAY]; pay-batch-01 10.70.0.31",
		nil,
	},
}

// TestReadFixtures states the key facts of each fixture in the code, so a
// careless -update cannot hide a regression.
func TestReadFixtures(t *testing.T) {
	paths := fixtures(t, t.TempDir())
	for _, tc := range fixtureTests {
		t.Run(tc.Name, func(t *testing.T) {
			vms, rep, err := inventory.Read(paths[tc.Name])
			if err != nil {
				t.Fatal(err)
			}
			if got := vmString(vms); got != tc.VMs {
				t.Errorf("got VMs\n%s\nwant\n%s", got, tc.VMs)
			}
			if rep.Format != tc.Format || rep.Sheet != tc.Sheet || rep.VMs != len(vms) {
				t.Errorf("got format %q sheet %q VMs %d, want %q %q %d", rep.Format, rep.Sheet, rep.VMs, tc.Format, tc.Sheet, len(vms))
			}
			if !reflect.DeepEqual(rep.Columns, tc.Columns) {
				t.Errorf("got columns %q, want %q", rep.Columns, tc.Columns)
			}
			if !reflect.DeepEqual(rep.Skipped, tc.Skipped) || rep.SkippedCount != len(tc.Skipped) {
				t.Errorf("got skipped (%d) %+v, want %+v", rep.SkippedCount, rep.Skipped, tc.Skipped)
			}
		})
	}
}

// TestReadNotes checks the remarks for the user.
func TestReadNotes(t *testing.T) {
	paths := fixtures(t, t.TempDir())
	tests := []struct{ Name, Want string }{
		{"rvtools", `no tag, category or security group column: VMs have no groups; not used as groups: "Folder", "Annotation"`},
		{"rvtools", "2 link-local, loopback or multicast addresses dropped: they do not identify a VM"},
		{"rvtools-vinfo", `no tag, category or security group column: VMs have no groups; not used as groups: "vInfoFolder", "vInfoNotes"`},
		{"prism-central", "1 link-local, loopback or multicast addresses dropped: they do not identify a VM"},
	}
	for _, tc := range tests {
		_, rep, err := inventory.Read(paths[tc.Name])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(rep.Notes, "\n"), tc.Want) {
			t.Errorf("%s: notes %q lack %q", tc.Name, rep.Notes, tc.Want)
		}
	}
}

// TestFixturesIntact guards the byte-level fixtures against editors and
// line-end conversion.
func TestFixturesIntact(t *testing.T) {
	bom, err := os.ReadFile("testdata/bom.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(bom, []byte("\xEF\xBB\xBF")) {
		t.Error("testdata/bom.csv lost its byte order mark")
	}
	crlf, err := os.ReadFile("testdata/crlf.csv")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(crlf, []byte("\r\n")) != bytes.Count(crlf, []byte("\n")) {
		t.Error("testdata/crlf.csv lost its CRLF line ends")
	}
}

// TestReadErrors checks the errors of Read, by text and by sentinel.
func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		Name, Path string
		Want       string // after "read <path>: "
		Is         error
	}{
		{"no IP column", "testdata/bad-no-ip-column.csv", `no IP address column among: "VM Name", "Owner", "Notes"`, inventory.ErrNoColumn},
		{"missing file", filepath.Join(dir, "missing.csv"), "open " + filepath.Join(dir, "missing.csv") + ": no such file or directory", fs.ErrNotExist},
		{"legacy xls", file("old.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 rest"), "legacy .xls or password-protected workbook, save it as .xlsx: unsupported file format", inventory.ErrUnsupported},
		{"not a workbook", file("junk.xlsx", "PK\x03\x04junk"), "open xlsx: zip: not a valid zip file", nil},
		{"empty", file("empty.csv", ""), "no rows", inventory.ErrNoRows},
		{
			"sheet without table", writeWorkbook(t, dir, "notes.xlsx", []sheet{{"Notes", [][]any{{"Meeting notes"}}}}),
			`sheet "Notes": no VM name or IP address column among: "Meeting notes"`, inventory.ErrNoColumn,
		},
		{"empty workbook", writeWorkbook(t, dir, "blank.xlsx", []sheet{{"Sheet1", nil}}), `sheet "Sheet1": no rows`, inventory.ErrNoRows},
		{
			"vNetwork without IP column", writeWorkbook(t, dir, "vnet.xlsx", []sheet{{"vNetwork", [][]any{{"VM", "Network"}, {"web01", "VM Network"}}}}),
			`sheet "vNetwork": no IP address column among: "VM", "Network"`, inventory.ErrNoColumn,
		},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			_, _, err := inventory.Read(tc.Path)
			if want := "read " + tc.Path + ": " + tc.Want; err == nil || err.Error() != want {
				t.Fatalf("got error %v, want %s", err, want)
			}
			if tc.Is != nil && !errors.Is(err, tc.Is) {
				t.Errorf("error %v is not %v", err, tc.Is)
			}
		})
	}
}

// TestColumnError checks the error's fields and its long-list form.
func TestColumnError(t *testing.T) {
	_, _, err := inventory.Read("testdata/bad-no-ip-column.csv")
	var ce *inventory.ColumnError
	if !errors.As(err, &ce) || ce.Missing != "IP address" || !reflect.DeepEqual(ce.Headers, []string{"VM Name", "Owner", "Notes"}) {
		t.Fatalf("got %#v from %v", ce, err)
	}
	var headers []string
	for i := range 45 {
		headers = append(headers, fmt.Sprintf("h%d", i))
	}
	ce = &inventory.ColumnError{Missing: "VM name", Headers: headers}
	if got := ce.Error(); !strings.HasSuffix(got, `"h38", "h39", and 5 more`) {
		t.Errorf("got %q", got)
	}
}

// vmString renders VMs compactly: "name ip ip [group group]; …".
func vmString(vms []inventory.VM) string {
	parts := make([]string, len(vms))
	for i, vm := range vms {
		s := vm.Name
		for _, a := range vm.IPs {
			s += " " + a.String()
		}
		if len(vm.Groups) > 0 {
			s += " [" + strings.Join(vm.Groups, " ") + "]"
		}
		parts[i] = s
	}
	return strings.Join(parts, "; ")
}
