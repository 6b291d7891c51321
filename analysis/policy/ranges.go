package policy

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
)

// addrRange is an inclusive range of addresses of one family.
type addrRange struct{ lo, hi netip.Addr }

// addrSet is a set of addresses: sorted, non-overlapping, non-adjacent
// ranges, IPv4 and IPv6 apart as integers so that membership, the hot path
// of an evaluation, is a binary search over plain integers. The zero value
// is empty.
type addrSet struct {
	v4 []r4
	v6 []r6
}

type r4 struct{ lo, hi uint32 }

type u128 struct{ hi, lo uint64 }

type r6 struct{ lo, hi u128 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func to128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func from128(u u128) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

func to32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func from32(u uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], u)
	return netip.AddrFrom4(b)
}

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
	return fromRanges(out)
}

// fromRanges stores merged ranges.
func fromRanges(rs []addrRange) addrSet {
	var s addrSet
	for _, r := range rs {
		if r.lo.Is4() {
			s.v4 = append(s.v4, r4{to32(r.lo), to32(r.hi)})
		} else {
			s.v6 = append(s.v6, r6{to128(r.lo), to128(r.hi)})
		}
	}
	return s
}

// ranges returns the set's ranges, in order.
func (s addrSet) ranges() []addrRange {
	out := make([]addrRange, 0, len(s.v4)+len(s.v6))
	for _, r := range s.v4 {
		out = append(out, addrRange{from32(r.lo), from32(r.hi)})
	}
	for _, r := range s.v6 {
		out = append(out, addrRange{from128(r.lo), from128(r.hi)})
	}
	return out
}

// setOfPrefixes builds a set from prefixes.
func setOfPrefixes(ps []netip.Prefix) addrSet {
	rs := make([]addrRange, len(ps))
	for i, p := range ps {
		rs[i] = prefixRange(p)
	}
	return setOf(rs...)
}

func (s addrSet) empty() bool { return len(s.v4) == 0 && len(s.v6) == 0 }

// contains reports whether a is in s.
func (s addrSet) contains(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() {
		x := to32(a)
		rs := s.v4
		if len(rs) <= 8 {
			for _, r := range rs {
				if x >= r.lo && x <= r.hi {
					return true
				}
			}
			return false
		}
		i, found := slices.BinarySearchFunc(rs, x, func(r r4, x uint32) int { return cmpU32(r.lo, x) })
		return found || i > 0 && x <= rs[i-1].hi
	}
	if len(s.v6) == 0 || !a.IsValid() {
		return false
	}
	x := to128(a)
	for _, r := range s.v6 {
		if !x.less(r.lo) && !r.hi.less(x) {
			return true
		}
	}
	return false
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// union returns a ∪ b.
func union(a, b addrSet) addrSet {
	if a.empty() {
		return b
	}
	if b.empty() {
		return a
	}
	return setOf(append(a.ranges(), b.ranges()...)...)
}

// intersect returns a ∩ b.
func intersect(a, b addrSet) addrSet {
	var out []addrRange
	ar, br := a.ranges(), b.ranges()
	i, j := 0, 0
	for i < len(ar) && j < len(br) {
		x, y := ar[i], br[j]
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
	return fromRanges(out)
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
	for _, r := range s.ranges() {
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
