package rules

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAddrSetSameAsContains: the readiness replay's address sets contain
// exactly what Endpoint.Contains does, for endpoints of overlapping and
// nested IPv4 prefixes (a /0 among them), IPv6 prefixes and invalid ones,
// asked about IPv4, IPv4-mapped IPv6, IPv6 and zoned addresses.
func TestAddrSetSameAsContains(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	v4 := func() netip.Addr { // from a small space, so that prefixes meet
		return netip.AddrFrom4([4]byte{10, byte(r.IntN(3)), byte(r.IntN(4)), byte(r.IntN(256))})
	}
	v6 := func() netip.Addr {
		return netip.AddrFrom16([16]byte{0: 0x20, 1: 0x01, 2: 0x0d, 3: 0xb8, 14: byte(r.IntN(4)), 15: byte(r.IntN(256))})
	}
	prefix := func() netip.Prefix {
		switch r.IntN(10) {
		case 0:
			return netip.PrefixFrom(v6(), 112+r.IntN(17))
		case 1:
			return netip.Prefix{} // invalid: contains nothing
		case 2:
			return netip.PrefixFrom(v4(), r.IntN(33)) // any length, /0 included; not masked
		default:
			return netip.PrefixFrom(v4(), []int{32, 32, 30, 24, 22}[r.IntN(5)])
		}
	}
	addr := func() netip.Addr {
		switch r.IntN(8) {
		case 0:
			return netip.AddrFrom16(v4().As16()) // IPv4-mapped IPv6
		case 1:
			return v6()
		case 2:
			return v6().WithZone("eth0")
		case 3:
			return netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		default:
			return v4()
		}
	}
	for n := range 2000 {
		e := Endpoint{Kind: KindAddresses}
		if n%50 == 0 {
			e = Endpoint{Kind: KindAny}
		}
		for range r.IntN(12) {
			e.Prefixes = append(e.Prefixes, prefix())
		}
		s := newAddrSet(&e)
		for range 200 {
			a := addr()
			if got, want := s.contains(a), e.Contains(a); got != want {
				t.Fatalf("endpoint %v, address %v: the set says %v, Contains %v", e.Prefixes, a, got, want)
			}
		}
	}
}
