package demo

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// InventoryVM is one VM of the simulated world as an inventory lists it.
type InventoryVM struct {
	Name   string
	IP     netip.Addr
	Groups []string // Nutanix categories ("Key:Value") and NSX security groups
}

// The demo application's names in the inventory.
const (
	AppCategory = "AppType:Books"       // the application's category
	TierKey     = "AppTier"             // the tiers' category key
	DBFamily    = "AppFamily:Databases" // a second category of the database VMs
	AppGroup    = "SGTSBOOKS"           // the NSX security group holding the tiers
)

// tierNames are the tiers' category values and NSX security groups, by group.
var tierNames = [...]struct{ value, group string }{
	groupWeb: {"Web", "SGTSWEB"}, groupApp: {"App", "SGTSAPP"}, groupDB: {"DB", "SGTSDB"},
}

// Inventory returns the VMs of the world cfg generates logs for, as an
// inventory lists them: web-01…, app-01…, db-01… with the categories
// AppType:Books and AppTier:Web, App or DB (the database VMs also
// AppFamily:Databases) and the NSX security groups SGTSWEB, SGTSAPP or
// SGTSDB and SGTSBOOKS; and the shared services that are VMs (dc-01,
// dc-02, ntp-01, backup-01, monitor-01), which belong to no group. The
// internet's clients, servers and scanners are not VMs.
func Inventory(cfg Config) ([]InventoryVM, error) {
	v, ok := parseVendor(cfg.Vendor)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrVendor, cfg.Vendor)
	}
	w := newWorld(v, newRNG(cfg.Seed)) // the world newGen builds for cfg
	var out []InventoryVM
	count := map[uint8]int{}
	for _, ep := range w.vmEPs {
		g := w.vmOf(ep).group
		count[g]++
		t := tierNames[g]
		groups := []string{AppCategory, TierKey + ":" + t.value, t.group, AppGroup}
		if g == groupDB {
			groups = append(groups, DBFamily)
		}
		out = append(out, InventoryVM{Name: fmt.Sprintf("%s-%02d", strings.ToLower(t.value), count[g]),
			IP: w.eps[ep].addr, Groups: groups})
	}
	for i, ep := range w.dcs {
		out = append(out, InventoryVM{Name: fmt.Sprintf("dc-%02d", i+1), IP: w.eps[ep].addr})
	}
	for _, s := range []struct {
		name string
		ep   int32
	}{{"ntp-01", w.ntp}, {"backup-01", w.backup}, {"monitor-01", w.monitor}} {
		out = append(out, InventoryVM{Name: s.name, IP: w.eps[s.ep].addr})
	}
	slices.SortFunc(out, func(a, b InventoryVM) int { return a.IP.Compare(b.IP) })
	return out, nil
}

// WriteInventoryCSV writes vms as a "name,ip,groups" CSV, groups separated
// by ";": the simple format flowsleuth inventory import reads.
func WriteInventoryCSV(w io.Writer, vms []InventoryVM) error {
	rows := make([][]string, 0, len(vms)+1)
	rows = append(rows, []string{"name", "ip", "groups"})
	for _, vm := range vms {
		rows = append(rows, []string{vm.Name, vm.IP.String(), strings.Join(vm.Groups, ";")})
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return nil
}
