package rules

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"sort"
)

// addrSet is an endpoint's addresses as the readiness replay searches them:
// its IPv4 prefixes as sorted, disjoint ranges found by bisection (a tag's
// group can hold thousands of members, which Endpoint.Contains scans), its
// other prefixes as they are. It contains what Endpoint.Contains does.
type addrSet struct {
	any    bool
	lo, hi []uint32       // IPv4 ranges, inclusive, sorted, disjoint
	other  []netip.Prefix // IPv6 prefixes
}

func newAddrSet(e *Endpoint) addrSet {
	if e.Kind == KindAny {
		return addrSet{any: true}
	}
	var s addrSet
	type span struct{ lo, hi uint32 }
	var spans []span
	for _, p := range e.Prefixes {
		switch {
		case !p.IsValid():
			// contains nothing
		case p.Addr().Is4():
			b := p.Masked().Addr().As4()
			lo := binary.BigEndian.Uint32(b[:])
			spans = append(spans, span{lo, lo | uint32(1<<(32-p.Bits())-1)})
		default:
			s.other = append(s.other, p)
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	// Merged where they are, then copied to lists of their size: the index
	// holds the sets of every rule at once, where append left up to as much
	// room again as the ranges took.
	n := 0
	for _, sp := range spans {
		if n > 0 && (sp.lo <= spans[n-1].hi || sp.lo == spans[n-1].hi+1) {
			spans[n-1].hi = max(spans[n-1].hi, sp.hi)
			continue
		}
		spans[n] = sp
		n++
	}
	if n > 0 {
		s.lo, s.hi = make([]uint32, n), make([]uint32, n)
		for j, sp := range spans[:n] {
			s.lo[j], s.hi[j] = sp.lo, sp.hi
		}
	}
	return s
}

// contains reports whether a is in the set.
func (s *addrSet) contains(a netip.Addr) bool {
	if s.any {
		return true
	}
	if a.Is4() {
		b := a.As4()
		x := binary.BigEndian.Uint32(b[:])
		j := sort.Search(len(s.hi), func(k int) bool { return s.hi[k] >= x })
		return j < len(s.hi) && s.lo[j] <= x
	}
	return inPrefixes(s.other, a)
}
