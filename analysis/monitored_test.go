package analysis

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestMemberCache answers as the set does, whatever the order of the
// look-ups: addresses that share a slot, an IPv4 address beside its
// IPv4-mapped IPv6 form (one in the set, the other not), repeats.
func TestMemberCache(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var addrs, members []netip.Addr
	for i := range 5000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		addrs = append(addrs, a, netip.AddrFrom16(a.As16()))
		if r.IntN(2) == 0 {
			members = append(members, a)
		} else {
			members = append(members, netip.AddrFrom16(a.As16()))
		}
	}
	mon := NewLearnedMonitored(members)
	var c memberCache
	for range 200000 {
		a := addrs[r.IntN(len(addrs))]
		if got, want := c.contains(mon, toIP128(a), a.Is4()), mon.Contains(a); got != want {
			t.Fatalf("%v: cached %v, the set says %v", a, got, want)
		}
	}
}
