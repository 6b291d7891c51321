package policy

// The sets' and ranges' fmt.Stringers, for test failure messages (the
// program never prints an address set: reports name rules and groups).

import (
	"net/netip"
	"strings"
)

// String lists the set for people: "10.0.0.0/24, 10.1.0.5-10.1.0.9".
func (s addrSet) String() string {
	rs := s.ranges()
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
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
