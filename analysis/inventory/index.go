package inventory

import "net/netip"

// Index answers which VM owns an address. It is read-only once built and
// safe for concurrent use; a nil *Index knows no address.
type Index struct {
	vms    []VM
	byAddr map[netip.Addr]int // index into vms
}

// NewIndex indexes the addresses of vms. An address listed by several VMs
// belongs to the first (Read never returns such VMs). The VMs are shared,
// not copied: do not modify them afterwards.
func NewIndex(vms []VM) *Index {
	ix := &Index{vms: vms, byAddr: make(map[netip.Addr]int)}
	for i, vm := range vms {
		for _, a := range vm.IPs {
			a = a.Unmap().WithZone("")
			if _, ok := ix.byAddr[a]; !ok {
				ix.byAddr[a] = i
			}
		}
	}
	return ix
}

// Lookup returns the VM owning a, and false if none does. IPv4-mapped IPv6
// addresses (::ffff:10.0.0.1) are looked up as IPv4, and zones are ignored.
func (ix *Index) Lookup(a netip.Addr) (VM, bool) {
	if ix == nil {
		return VM{}, false
	}
	i, ok := ix.byAddr[a.Unmap().WithZone("")]
	if !ok {
		return VM{}, false
	}
	return ix.vms[i], true
}

// Len returns the number of addresses indexed.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.byAddr)
}
