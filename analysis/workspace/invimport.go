package workspace

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// InventoryResult is what ImportInventory read and stored.
type InventoryResult struct {
	Report    inventory.Report
	VMs       int
	Addresses int
}

// ImportInventory reads a VM inventory file (CSV or XLSX: RVTools, Prism
// Central, simple or generic columns) and replaces the workspace's
// inventory with it. A file with no VM that has an address changes
// nothing and is an error, with the report of what was read.
func (ws *Workspace) ImportInventory(ctx context.Context, path string) (InventoryResult, error) {
	vms, rep, err := inventory.Read(path)
	res := InventoryResult{Report: rep, VMs: len(vms)}
	if err != nil {
		return res, err
	}
	if len(vms) == 0 {
		return res, fmt.Errorf("%s: no VM with an IP address: the workspace's inventory is unchanged", path)
	}
	var entries []InvEntry
	for _, vm := range vms {
		for _, ip := range vm.IPs {
			entries = append(entries, InvEntry{IP: ip, VM: vm.Name, Groups: vm.Groups})
		}
	}
	res.Addresses = len(entries)
	report, _ := json.Marshal(rep)
	return res, ws.ReplaceInventory(ctx, entries, path, string(report))
}
