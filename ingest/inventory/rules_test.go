package inventory_test

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// ruleTests are small CSV files, one rule each. The fuzzer starts from them.
var ruleTests = []struct {
	Name    string
	In      string
	VMs     string // vmString
	Format  string
	Skipped []inventory.RowProblem
}{
	{
		"merge rows of one VM", "name,ip,tags\nweb01,10.0.0.1,a\nweb01,10.0.0.2,b|a\n",
		"web01 10.0.0.1 10.0.0.2 [a b]", inventory.FormatSimple, nil,
	},
	{
		"conflict keeps the first VM", "name,ip\na,10.0.0.1\nb,\"10.0.0.1, 10.0.0.2\"\nc,10.0.0.1\n",
		"a 10.0.0.1; b 10.0.0.2", inventory.FormatSimple,
		[]inventory.RowProblem{
			{Row: 3, Reason: `IP address 10.0.0.1 of "b" already belongs to "a"; kept for "a"`},
			{Row: 4, Reason: `IP address 10.0.0.1 of "c" already belongs to "a"; kept for "a"`},
			{Row: 4, Reason: `no IP address for "c"`},
		},
	},
	{
		"invalid address in a list", "name,ip\nx,\"10.0.0.1, bogus, 10.0.0.256\"\n",
		"x 10.0.0.1", inventory.FormatSimple,
		[]inventory.RowProblem{
			{Row: 2, Reason: `invalid IP address "bogus" in "ip" ignored`},
			{Row: 2, Reason: `invalid IP address "10.0.0.256" in "ip" ignored`},
		},
	},
	{
		"no valid address", "VM,Primary IP Address\nold,n/a\nnew,10.0.0.9\n",
		"new 10.0.0.9", inventory.FormatRVTools,
		[]inventory.RowProblem{{Row: 2, Reason: `no valid IP address in "Primary IP Address": "n/a"`}},
	},
	{
		"link-local and friends dropped", "name,ip\nx,\"fe80::1%eth0, 169.254.3.4, 127.0.0.1, ::, 224.0.0.5, 10.0.0.1\"\ny,fe80::2\n",
		"x 10.0.0.1", inventory.FormatSimple,
		[]inventory.RowProblem{{Row: 3, Reason: `no valid IP address in "ip": "fe80::2"`}},
	},
	{
		"address forms", "name,ip\nx,\"::ffff:10.0.0.9 10.0.1.0/24 [2001:db8::1] 2001:db8::2%eth0\"\n",
		"x 10.0.0.9 10.0.1.0 2001:db8::1 2001:db8::2", inventory.FormatSimple, nil,
	},
	{
		"row without a name", "name,ip\n,10.0.0.1\nx,10.0.0.2\n",
		"x 10.0.0.2", inventory.FormatSimple,
		[]inventory.RowProblem{{Row: 2, Reason: `no VM name in "name"`}},
	},
	{
		"blank rows are silent", "name,ip,tags\n,,\n , ,t\n\nx,10.0.0.1,\n",
		"x 10.0.0.1", inventory.FormatSimple, nil,
	},
	{
		"semicolon-delimited file", "Name;IP Address;Tags\nweb;10.0.0.1,10.0.0.2;a,b\n",
		"web 10.0.0.1 10.0.0.2 [a b]", inventory.FormatSimple, nil,
	},
	{
		"tab-delimited file", "VM Name\tIP Addresses\tCategories\nweb\t10.0.0.1\tAppTier : Web\n",
		"web 10.0.0.1 [AppTier:Web]", inventory.FormatPrismCentral, nil,
	},
	{
		"only Nutanix categories are normalised", "name,ip,tags\nweb,10.0.0.1,Env: Prod\n",
		"web 10.0.0.1 [Env: Prod]", inventory.FormatSimple, nil,
	},
	{
		"API export columns", "name,cluster,categories,ip_addresses\nweb,c1,\"AppTier:Web,Environment:Production\",\"10.0.0.1,10.0.0.2\"\n",
		"web 10.0.0.1 10.0.0.2 [AppTier:Web Environment:Production]", inventory.FormatPrismCentral, nil,
	},
	{
		"malformed record skipped", "name,ip\nx,\"10.0.0.1\"junk\ny,10.0.0.2\n",
		"y 10.0.0.2", inventory.FormatSimple,
		[]inventory.RowProblem{{Row: 2, Reason: `malformed CSV: extraneous or missing " in quoted-field`}},
	},
	{
		"cell over 64 KiB", "name,ip\nx,\"" + strings.Repeat("1", 65<<10) + "\"\ny,10.0.0.2\n",
		"y 10.0.0.2", inventory.FormatSimple,
		[]inventory.RowProblem{{Row: 2, Reason: `cell in "ip" longer than 64 KiB`}},
	},
	{
		"header after nine title rows", strings.Repeat("title\n", 9) + "host name,ip addr,owner\nx,10.0.0.1,me\n",
		"x 10.0.0.1", inventory.FormatGeneric, nil,
	},
	{
		"host is not a VM name", "VM Name,Host,IP Addresses\nweb,ahv-1,10.0.0.1\n",
		"web 10.0.0.1", inventory.FormatPrismCentral, nil,
	},
	{
		"RVTools CSV vNetwork", "vNetworkVMName,vNetworkName,vNetworkIP4Address,vNetworkIP6Address\nweb,VM Network,10.0.0.1,2001:db8::1\n",
		"web 10.0.0.1 2001:db8::1", inventory.FormatRVTools, nil,
	},
}

// TestReadCSVRules checks one rule per case.
func TestReadCSVRules(t *testing.T) {
	for _, tc := range ruleTests {
		t.Run(tc.Name, func(t *testing.T) {
			vms, rep, err := inventory.ReadCSV(strings.NewReader(tc.In))
			if err != nil {
				t.Fatal(err)
			}
			if got := vmString(vms); got != tc.VMs {
				t.Errorf("got VMs %q, want %q", got, tc.VMs)
			}
			if rep.Format != tc.Format {
				t.Errorf("got format %q, want %q", rep.Format, tc.Format)
			}
			if !reflect.DeepEqual(rep.Skipped, tc.Skipped) || rep.SkippedCount != len(tc.Skipped) {
				t.Errorf("got skipped (%d) %+v, want %+v", rep.SkippedCount, rep.Skipped, tc.Skipped)
			}
		})
	}
}

// TestReadCSVProblemCap checks that the first MaxProblems problems are kept
// and all are counted.
func TestReadCSVProblemCap(t *testing.T) {
	var in strings.Builder
	in.WriteString("name,ip\n")
	for i := range 150 {
		fmt.Fprintf(&in, "vm%d,bad\n", i)
	}
	in.WriteString("ok,10.0.0.1\n")
	vms, rep, err := inventory.ReadCSV(strings.NewReader(in.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(vms) != 1 || rep.Rows != 151 || rep.SkippedCount != 150 || len(rep.Skipped) != inventory.MaxProblems {
		t.Fatalf("got %d VMs, %d rows, %d problems kept of %d", len(vms), rep.Rows, len(rep.Skipped), rep.SkippedCount)
	}
	if first, last := rep.Skipped[0], rep.Skipped[len(rep.Skipped)-1]; first.Row != 2 || last.Row != 101 {
		t.Errorf("kept rows %d to %d, want 2 to 101", first.Row, last.Row)
	}
}

// TestReadCSVErrors checks the errors of ReadCSV.
func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		Name string
		In   io.Reader
		Want string
		Is   error
	}{
		{"empty", strings.NewReader(""), "no rows", inventory.ErrNoRows},
		{"blank lines only", strings.NewReader("\n\n , \n"), "no rows", inventory.ErrNoRows},
		{"unknown headers", strings.NewReader("Foo,Bar\n1,2\n"), `no VM name or IP address column among: "Foo", "Bar"`, inventory.ErrNoColumn},
		{"no header", strings.NewReader("web01,10.0.0.1\n"), `no VM name or IP address column among: "web01", "10.0.0.1"`, inventory.ErrNoColumn},
		{"no name column", strings.NewReader("Address,Owner\n10.0.0.1,me\n"), `no VM name column among: "Address", "Owner"`, inventory.ErrNoColumn},
		{"header after row 10", strings.NewReader(strings.Repeat("title\n", 10) + "name,ip\nx,10.0.0.1\n"), `no VM name or IP address column among: "title"`, inventory.ErrNoColumn},
		{"UTF-16", strings.NewReader("\xFF\xFEn\x00a\x00"), "UTF-16 text, save it as CSV UTF-8: unsupported file format", inventory.ErrUnsupported},
		{"record over 1 MiB", strings.NewReader("name,ip\nx," + strings.Repeat("1", 2<<20) + "\n"), "line 2: record longer than 1 MiB: too large", inventory.ErrTooLarge},
		{"endless blank lines", endless('\n'), "line 1: record longer than 1 MiB: too large", inventory.ErrTooLarge},
		{"endless quoted field", io.MultiReader(strings.NewReader("name,ip\nx,\""), endless('a')), "line 2: record longer than 1 MiB: too large", inventory.ErrTooLarge},
		{"too many rows", strings.NewReader("name,ip\n" + strings.Repeat("v,x\n", inventory.MaxRows+1)), "more than 1000000 rows: too many rows", inventory.ErrTooManyRows},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			_, _, err := inventory.ReadCSV(tc.In)
			if err == nil || err.Error() != tc.Want || !errors.Is(err, tc.Is) {
				t.Fatalf("got error %v, want %q (%v)", err, tc.Want, tc.Is)
			}
		})
	}
}

// endless is a reader of one byte, forever.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}
