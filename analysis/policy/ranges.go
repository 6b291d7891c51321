package policy

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
)

// addrRange is an inclusive range of addresses of one family.
type addrRange struct{ lo, hi netip.Addr }

// addrSet is a set of addresses: sorted, non-overlapping, non-adjacent
// ranges. The zero value is empty. Membership is a binary search.
type addrSet struct{ r []addrRange }

// prefixRange returns the range of p.
func prefixRange(p netip.Prefix) addrRange {
	p = p.Masked()
	lo := p.Addr()
	b := lo.As16()
	bits := p.Bits()
	if lo.Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	hi := netip.AddrFrom16(b)
	if lo.Is4() {
		hi = hi.Unmap()
	}
	return addrRange{lo, hi}
}

// setOf builds a set from ranges in any order.
func setOf(rs ...addrRange) addrSet {
	if len(rs) == 0 {
		return addrSet{}
	}
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b addrRange) int { return a.lo.Compare(b.lo) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if last.hi.Is4() == r.lo.Is4() && (r.lo.Compare(last.hi) <= 0 || last.hi.Next() == r.lo) {
			if r.hi.Compare(last.hi) > 0 {
				last.hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return addrSet{r: slices.Clip(out)}
}

// setOfPrefixes builds a set from prefixes.
func setOfPrefixes(ps []netip.Prefix) addrSet {
	rs := make([]addrRange, len(ps))
	for i, p := range ps {
		rs[i] = prefixRange(p)
	}
	return setOf(rs...)
}

func (s addrSet) empty() bool { return len(s.r) == 0 }

// contains reports whether a is in s.
func (s addrSet) contains(a netip.Addr) bool {
	a = a.Unmap()
	i, _ := slices.BinarySearchFunc(s.r, a, func(r addrRange, a netip.Addr) int { return r.lo.Compare(a) })
	// r[i].lo >= a: a is in r[i] when equal, else maybe in r[i-1].
	if i < len(s.r) && s.r[i].lo == a {
		return true
	}
	return i > 0 && s.r[i-1].hi.Compare(a) >= 0 && s.r[i-1].lo.Is4() == a.Is4()
}

// union returns a ∪ b.
func union(a, b addrSet) addrSet {
	if a.empty() {
		return b
	}
	if b.empty() {
		return a
	}
	return setOf(append(slices.Clone(a.r), b.r...)...)
}

// intersect returns a ∩ b.
func intersect(a, b addrSet) addrSet {
	var out []addrRange
	i, j := 0, 0
	for i < len(a.r) && j < len(b.r) {
		x, y := a.r[i], b.r[j]
		lo, hi := maxAddr(x.lo, y.lo), minAddr(x.hi, y.hi)
		if lo.Compare(hi) <= 0 && lo.Is4() == hi.Is4() {
			out = append(out, addrRange{lo, hi})
		}
		if x.hi.Compare(y.hi) < 0 {
			i++
		} else {
			j++
		}
	}
	return addrSet{r: out}
}

func maxAddr(a, b netip.Addr) netip.Addr {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

func minAddr(a, b netip.Addr) netip.Addr {
	if a.Compare(b) <= 0 {
		return a
	}
	return b
}

// size counts the addresses of s, saturating at math.MaxUint64/2 (an IPv6
// /64 alone is larger than any count that means something here).
func (s addrSet) size() uint64 {
	var n float64
	for _, r := range s.r {
		n += rangeSize(r)
	}
	if n >= math.MaxUint64/2 {
		return math.MaxUint64 / 2
	}
	return uint64(n)
}

// rangeSize is hi-lo+1, as a float (IPv6 ranges overflow integers).
func rangeSize(r addrRange) float64 {
	lo, hi := r.lo.As16(), r.hi.As16()
	var n float64
	for i := 0; i < 16; i++ {
		n = n*256 + float64(int(hi[i])-int(lo[i]))
	}
	return n + 1
}

// String lists the set for people: "10.0.0.0/24, 10.1.0.5-10.1.0.9".
func (s addrSet) String() string {
	parts := make([]string, 0, len(s.r))
	for _, r := range s.r {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, ", ")
}

func (r addrRange) String() string {
	if r.lo == r.hi {
		return r.lo.String()
	}
	for bits := 0; bits <= r.lo.BitLen(); bits++ {
		if p := netip.PrefixFrom(r.lo, bits); p.Masked().Addr() == r.lo && prefixRange(p).hi == r.hi {
			return p.String()
		}
	}
	return r.lo.String() + "-" + r.hi.String()
}

// parseAddrSpec reads an address, a prefix or a range "a-b" (the NSX forms
// of IPAddressExpression.ip_addresses and of raw addresses in rules).
func parseAddrSpec(s string) (addrRange, error) {
	s = strings.TrimSpace(s)
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
		b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil || a.Unmap().Is4() != b.Unmap().Is4() || a.Unmap().Compare(b.Unmap()) > 0 {
			return addrRange{}, fmt.Errorf("bad address range %q", s)
		}
		return addrRange{a.Unmap().WithZone(""), b.Unmap().WithZone("")}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return addrRange{}, fmt.Errorf("bad prefix %q", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return prefixRange(p), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return addrRange{}, fmt.Errorf("bad address %q", s)
	}
	a = a.Unmap().WithZone("")
	return addrRange{a, a}, nil
}
