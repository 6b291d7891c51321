package demo

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// TestInventory: the inventory names every monitored VM the logs show, with
// its tier's categories and NSX groups, reads back through the inventory
// reader unchanged, and is the same world for every vendor of one seed.
func TestInventory(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
		cfg := Config{Vendor: vendor, Sessions: 2000, Seed: 3}
		vms, err := Inventory(cfg)
		if err != nil {
			t.Fatal(err)
		}
		byIP := map[netip.Addr]InventoryVM{}
		for _, vm := range vms {
			byIP[vm.IP] = vm
		}
		var logs bytes.Buffer
		rows, _, err := Generate(&logs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			for _, a := range []netip.Addr{r.Src, r.Dst} {
				tier := map[string]string{"10.20.10.": "Web", "10.20.20.": "App", "10.20.30.": "DB"}[a.String()[:9]]
				vm, ok := byIP[a]
				if tier == "" {
					continue
				}
				if !ok || !slices.Contains(vm.Groups, "AppTier:"+tier) || !slices.Contains(vm.Groups, AppCategory) ||
					!strings.HasPrefix(vm.Name, strings.ToLower(tier)+"-") || (tier == "DB") != slices.Contains(vm.Groups, DBFamily) {
					t.Errorf("%s: %s is %+v in the inventory", vendor, a, vm)
				}
			}
		}
		var csv bytes.Buffer
		if err := WriteInventoryCSV(&csv, vms); err != nil {
			t.Fatal(err)
		}
		read, rep, err := inventory.ReadCSV(&csv)
		if err != nil || len(read) != len(vms) || rep.SkippedCount != 0 {
			t.Fatalf("%s: read back %d VMs of %d: %v %+v", vendor, len(read), len(vms), err, rep)
		}
		for _, vm := range read {
			want := byIP[vm.IPs[0]]
			if vm.Name != want.Name || !slices.Equal(vm.Groups, slices.Sorted(slices.Values(want.Groups))) {
				t.Errorf("%s: read back %+v, want %+v", vendor, vm, want)
			}
		}
		if nutanix, _ := Inventory(Config{Vendor: "nutanix", Seed: 3}); !slices.EqualFunc(nutanix, vms, func(a, b InventoryVM) bool {
			return a.Name == b.Name && a.IP == b.IP && slices.Equal(a.Groups, b.Groups)
		}) {
			t.Errorf("%s: another world than nutanix's for the same seed", vendor)
		}
	}
	if _, err := Inventory(Config{Vendor: "cisco"}); err == nil {
		t.Error("an unknown vendor gave an inventory")
	}
}
