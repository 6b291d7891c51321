package inventory_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/inventory"
)

// TestIndexLookup looks addresses up in an index built from a CSV file.
func TestIndexLookup(t *testing.T) {
	vms, _, err := inventory.ReadCSV(strings.NewReader(
		"name,ip,tags\nweb,\"10.0.0.1, 2001:db8::1\",web\ndb,10.0.0.2,db\n"))
	if err != nil {
		t.Fatal(err)
	}
	ix := inventory.NewIndex(vms)
	tests := []struct {
		Addr   string
		Want   string // VM name, "" for none
		Groups string
	}{
		{"10.0.0.1", "web", "web"},
		{"2001:db8::1", "web", "web"},
		{"2001:0db8:0000::0001", "web", "web"},
		{"::ffff:10.0.0.2", "db", "db"},
		{"fe80::1%eth0", "", ""},
		{"10.0.0.3", "", ""},
		{"2001:db8::2", "", ""},
	}
	for _, tc := range tests {
		vm, ok := ix.Lookup(netip.MustParseAddr(tc.Addr))
		if ok != (tc.Want != "") || vm.Name != tc.Want || strings.Join(vm.Groups, ",") != tc.Groups {
			t.Errorf("Lookup(%s) = %q %v %v, want %q", tc.Addr, vm.Name, vm.Groups, ok, tc.Want)
		}
	}
	if ix.Len() != 3 {
		t.Errorf("Len() = %d, want 3", ix.Len())
	}
	if _, ok := ix.Lookup(netip.Addr{}); ok {
		t.Error("the zero Addr was found")
	}
}

// TestIndexFirstWins checks VMs built by hand that share an address.
func TestIndexFirstWins(t *testing.T) {
	a := netip.MustParseAddr("10.0.0.1")
	ix := inventory.NewIndex([]inventory.VM{{Name: "first", IPs: []netip.Addr{a}}, {Name: "second", IPs: []netip.Addr{a}}})
	if vm, _ := ix.Lookup(a); vm.Name != "first" {
		t.Errorf("got %q, want first", vm.Name)
	}
	var none *inventory.Index
	if _, ok := none.Lookup(a); ok || none.Len() != 0 {
		t.Error("a nil index knows addresses")
	}
}

func BenchmarkIndexLookup(b *testing.B) {
	vms := make([]inventory.VM, 10_000)
	for i := range vms {
		vms[i] = inventory.VM{Name: "vm", IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})}}
	}
	ix := inventory.NewIndex(vms)
	a := netip.AddrFrom4([4]byte{10, 0, 42, 1})
	var sink bool
	b.ReportAllocs()
	for b.Loop() {
		_, sink = ix.Lookup(a)
	}
	_ = sink
}
