package workspace

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestEndpointSet: the set gives each address's 16 bytes once, in the
// order of the bytes, whatever the repeats and however often it grew on
// the way (IPv4, IPv6 below and above ::ffff:0:0 and :: itself, an IPv4
// address and its mapped form, which the table stores as one), in at most
// twice as many slots as addresses once it has grown. A third of the
// addresses come through addInOrder, mostly ascending (repeats, and now
// and then one out of order, as well as addresses add is given too).
func TestEndpointSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pool := endpointPool(r)
	for _, n := range []int{0, 1, 100, endpointSlotsMin - 1, endpointSlotsMin, 50 * endpointSlotsMin} {
		var s endpointSet
		want := fillEndpoints(&s, pool, n, r)
		var wantSorted [][16]byte
		for b := range want {
			wantSorted = append(wantSorted, b)
		}
		slices.SortFunc(wantSorted, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
		slots := len(s.slots)
		got := s.sorted()
		if len(got) != len(wantSorted) {
			t.Fatalf("n=%d: %d addresses, want %d", n, len(got), len(wantSorted))
		}
		for i, a := range got {
			var b [16]byte
			a.put(b[:])
			if b != wantSorted[i] {
				t.Fatalf("n=%d: address %d is %x, want %x", n, i, b, wantSorted[i])
			}
		}
		if len(want) > endpointSlotsMin && slots > 3*len(want) {
			t.Errorf("n=%d: %d slots for %d distinct addresses", n, slots, len(want))
		}
	}
}

// endpointPool returns addresses of every kind TestEndpointSet mixes.
func endpointPool(r *rand.Rand) []netip.Addr {
	var pool []netip.Addr
	for range 3 * endpointSlotsMin {
		var b [16]byte
		switch r.IntN(4) {
		case 0: // IPv4
			pool = append(pool, netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}))
			continue
		case 1: // IPv4-mapped
			b = netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}).As16()
		case 2: // below ::ffff:0:0
			b[15] = byte(r.IntN(256))
			b[14] = byte(r.IntN(4))
		default:
			b[0], b[1], b[15] = 0x20, 0x01, byte(r.IntN(256))
			b[8] = byte(r.IntN(64))
		}
		pool = append(pool, netip.AddrFrom16(b))
	}
	return pool
}

// fillEndpoints gives s n addresses of pool, and returns the set of their
// bytes: a third through addInOrder, ascending with repeats, and now and
// then one out of order; :: halfway.
func fillEndpoints(s *endpointSet, pool []netip.Addr, n int, r *rand.Rand) map[[16]byte]bool {
	asc := slices.Clone(pool)
	slices.SortFunc(asc, func(a, b netip.Addr) int { x, y := a.As16(), b.As16(); return bytes.Compare(x[:], y[:]) })
	want := map[[16]byte]bool{}
	j := 0 // asc's next for addInOrder
	for i := range n {
		a := pool[r.IntN(len(pool))]
		if i%7 == 0 {
			a = pool[i%len(pool)] // repeats of recent ones too
		}
		switch {
		case i == n/2:
			a = netip.IPv6Unspecified()
			s.addInOrder(a)
		case i%3 == 0 && i%51 == 0:
			s.addInOrder(a) // out of order
		case i%3 == 0:
			a = asc[j%len(asc)] // ascending, with repeats; from the start again past the end
			j += r.IntN(2)
			s.addInOrder(a)
		default:
			s.add(a)
		}
		want[a.As16()] = true
	}
	return want
}
