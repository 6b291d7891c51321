package inventory_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// FuzzReadCSV checks that ReadCSV never panics, and that what it returns
// holds together: every VM has a name and a valid, unmapped address; groups
// are sorted and unique; the report counts match; the index finds every VM.
func FuzzReadCSV(f *testing.F) {
	files, err := filepath.Glob("testdata/*.csv")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range ruleTests {
		f.Add([]byte(tc.In))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vms, rep, err := inventory.ReadCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		if rep.VMs != len(vms) || len(rep.Skipped) > inventory.MaxProblems || len(rep.Skipped) > rep.SkippedCount {
			t.Fatalf("report counts: %d VMs for %d, %d problems kept of %d", rep.VMs, len(vms), len(rep.Skipped), rep.SkippedCount)
		}
		for _, vm := range vms {
			checkVM(t, vm)
		}
	})
}

// checkVM checks one VM read from an inventory: a name or an address, valid
// unmapped addresses, groups sorted and unique.
func checkVM(t *testing.T, vm inventory.VM) {
	t.Helper()
	if vm.Name == "" && len(vm.IPs) == 0 {
		t.Fatalf("VM without name or address: %#v", vm)
	}
	for _, a := range vm.IPs {
		if !a.IsValid() || a.Is4In6() || a.Zone() != "" || a.IsLinkLocalUnicast() {
			t.Fatalf("VM %q has address %v", vm.Name, a)
		}
	}
	if !slices.IsSorted(vm.Groups) || len(slices.Compact(slices.Clone(vm.Groups))) != len(vm.Groups) {
		t.Fatalf("VM %q groups not sorted and unique: %q", vm.Name, vm.Groups)
	}
}
