package inventory

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"unicode"
)

// builder merges table rows into VMs and collects the report.
type builder struct {
	rep     Report
	vms     map[string]*vmAcc
	order   []*vmAcc
	owner   map[netip.Addr]string
	probs   []problem // sorted by (seq, row); at most MaxProblems
	seq     int       // index of the table being read
	prefix  string    // "vNetwork: " when several sheets are read
	dropped int       // addresses that do not identify a VM
}

// problem is a RowProblem with the table it belongs to.
type problem struct {
	seq, row int
	reason   string
}

// vmAcc accumulates one VM.
type vmAcc struct {
	name    string
	ips     []netip.Addr
	groups  map[string]struct{}
	first   problem // where the VM first appeared
	pending problem // its first row without a valid address
}

func newBuilder() *builder {
	return &builder{
		vms:   make(map[string]*vmAcc),
		owner: make(map[netip.Addr]string),
		rep:   Report{Columns: make(map[string]string)},
	}
}

// problem records a problem with row of the current table.
func (b *builder) problem(row int, reason string) {
	b.push(problem{seq: b.seq, row: row, reason: b.prefix + reason})
}

// push counts p and keeps it if it is among the first MaxProblems.
func (b *builder) push(p problem) {
	b.rep.SkippedCount++
	i, _ := slices.BinarySearchFunc(b.probs, p, func(e, t problem) int {
		if c := cmp.Compare(e.seq, t.seq); c != 0 {
			return c
		}
		// Equal rows sort in arrival order: e is "before" t.
		return cmp.Or(cmp.Compare(e.row, t.row), -1)
	})
	if i >= MaxProblems {
		return
	}
	b.probs = slices.Insert(b.probs, i, p)
	if len(b.probs) > MaxProblems {
		b.probs = b.probs[:MaxProblems]
	}
}

// cell returns cells[i] trimmed, or "".
func cell(cells []string, i int) string {
	if i < 0 || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}

// addRow merges one data row. It fails only past MaxRows.
func (b *builder) addRow(l *layout, row int, cells []string) error {
	name := cell(cells, l.name.index)
	if name == "" && !slices.ContainsFunc(l.ips, func(c column) bool { return cell(cells, c.index) != "" }) {
		return nil // blank
	}
	if b.rep.Rows++; b.rep.Rows > MaxRows {
		return fmt.Errorf("more than %d rows: %w", MaxRows, ErrTooManyRows)
	}
	for _, c := range l.used {
		if c.index >= 0 && c.index < len(cells) && len(cells[c.index]) > MaxCellBytes {
			b.problem(row, fmt.Sprintf("cell in %q longer than %d KiB", c.header, MaxCellBytes>>10))
			return nil
		}
	}
	if name == "" {
		b.problem(row, fmt.Sprintf("no VM name in %q", l.name.header))
		return nil
	}
	addrs := b.rowAddrs(l, row, cells)
	vm := b.vm(name, row)
	for _, c := range l.groups {
		addGroups(vm.groups, cell(cells, c.index), c.categories)
	}
	b.claim(vm, row, addrs)
	if len(addrs) == 0 && len(l.ips) > 0 && vm.pending.reason == "" {
		vm.pending = problem{seq: b.seq, row: row, reason: b.prefix + noIPReason(l, cells)}
	}
	return nil
}

// vm returns the accumulator for name, creating it at row.
func (b *builder) vm(name string, row int) *vmAcc {
	if vm, ok := b.vms[name]; ok {
		return vm
	}
	vm := &vmAcc{name: name, groups: make(map[string]struct{}), first: problem{seq: b.seq, row: row, reason: b.prefix}}
	b.vms[name] = vm
	b.order = append(b.order, vm)
	return vm
}

// rowAddrs parses the IP cells of a row. Invalid entries are reported when
// the row has a valid address; otherwise the caller reports the row.
func (b *builder) rowAddrs(l *layout, row int, cells []string) []netip.Addr {
	var (
		addrs []netip.Addr
		bad   []string
	)
	for _, c := range l.ips {
		for _, tok := range strings.FieldsFunc(cell(cells, c.index), isIPSep) {
			a, ok := parseAddr(tok)
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("invalid IP address %q in %q ignored", clip(tok), c.header))
			case !identifies(a):
				b.dropped++
			default:
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) > 0 {
		for _, reason := range bad {
			b.problem(row, reason)
		}
	}
	return addrs
}

// claim gives addrs to vm, unless another VM has them already.
func (b *builder) claim(vm *vmAcc, row int, addrs []netip.Addr) {
	for _, a := range addrs {
		owner, taken := b.owner[a]
		switch {
		case !taken:
			b.owner[a] = vm.name
			vm.ips = append(vm.ips, a)
		case owner != vm.name:
			b.problem(row, fmt.Sprintf("IP address %s of %q already belongs to %q; kept for %q",
				a, clip(vm.name), clip(owner), clip(owner)))
		}
	}
}

// noIPReason explains a row without a valid address.
func noIPReason(l *layout, cells []string) string {
	parts := make([]string, len(l.ips))
	for i, c := range l.ips {
		parts[i] = fmt.Sprintf("%q: %q", c.header, clip(cell(cells, c.index)))
	}
	return "no valid IP address in " + strings.Join(parts, ", ")
}

// isIPSep separates the entries of an IP list.
func isIPSep(r rune) bool {
	return r == ',' || r == ';' || r == '|' || unicode.IsSpace(r)
}

// isGroupSep separates the entries of a group list.
func isGroupSep(r rune) bool {
	return r == ',' || r == ';' || r == '|' || r == '\n' || r == '\r'
}

// parseAddr parses "10.0.0.1", "10.0.0.1/24", "[2001:db8::1]" or
// "fe80::1%eth0" into an unmapped address without zone.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Addr{}, false
		}
		return p.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// identifies reports whether a can identify a VM: link-local (fe80::/10,
// 169.254.0.0/16), loopback, unspecified and multicast addresses cannot.
func identifies(a netip.Addr) bool {
	return !a.IsLinkLocalUnicast() && !a.IsLoopback() && !a.IsUnspecified() && !a.IsMulticast()
}

// addGroups adds the entries of a group cell to set. Nutanix categories
// "AppTier: Web" become "AppTier:Web".
func addGroups(set map[string]struct{}, s string, categories bool) {
	for _, g := range strings.FieldsFunc(s, isGroupSep) {
		g = strings.TrimSpace(g)
		if k, v, ok := strings.Cut(g, ":"); ok && categories {
			g = strings.TrimSpace(k) + ":" + strings.TrimSpace(v)
		}
		if g != "" && g != ":" {
			set[g] = struct{}{}
		}
	}
}

// finish returns the VMs with an address and completes the report.
func (b *builder) finish() []VM {
	vms := make([]VM, 0, len(b.order))
	for _, acc := range b.order {
		if len(acc.ips) == 0 {
			p := acc.pending
			if p.reason == "" {
				p = acc.first
				p.reason += fmt.Sprintf("no IP address for %q", clip(acc.name))
			}
			b.push(p)
			continue
		}
		ips := slices.Clone(acc.ips)
		slices.SortFunc(ips, netip.Addr.Compare)
		vms = append(vms, VM{Name: acc.name, IPs: ips, Groups: slices.Sorted(maps.Keys(acc.groups))})
	}
	b.rep.VMs = len(vms)
	for _, p := range b.probs {
		b.rep.Skipped = append(b.rep.Skipped, RowProblem{Row: p.row, Reason: p.reason})
	}
	if b.dropped > 0 {
		b.note(fmt.Sprintf("%d link-local, loopback or multicast addresses dropped: they do not identify a VM", b.dropped))
	}
	return vms
}

// note adds a remark to the report.
func (b *builder) note(s string) {
	b.rep.Notes = append(b.rep.Notes, s)
}
