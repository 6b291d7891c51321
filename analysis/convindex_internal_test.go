package analysis

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestConvIndex holds the index to a map through its growth, with keys that
// differ in one field only, IPv4 and IPv6.
func TestConvIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x convIndex
	want := make(map[Key]uint32)
	var keys []Key
	for i := range 5000 {
		var k Key
		switch i % 4 {
		case 0: // IPv4, few addresses: many keys differ by port only
			k = KeyOf(ip4(r.IntN(8)), ip4(r.IntN(8)), 6, uint16(r.IntN(2000)))
		case 1:
			k = KeyOf(ip4(r.IntN(1<<20)), ip4(3), uint8(r.IntN(3)), 443)
		case 2: // IPv6, differing in the high word only
			k.Src[0], k.Src[1], k.Dst[15] = byte(r.IntN(256)), byte(r.IntN(256)), 1
			k.Proto, k.DPort = 17, 53
		default:
			k = keys[r.IntN(len(keys))] // already there
		}
		keys = append(keys, k)
		if _, ok := want[k]; ok {
			continue
		}
		if _, ok := x.get(&k); ok {
			t.Fatalf("key %d: found before it was put", i)
		}
		want[k] = uint32(len(want))
		x.put(&k, want[k])
	}
	if x.n != len(want) {
		t.Fatalf("n %d, want %d", x.n, len(want))
	}
	for _, k := range keys {
		if got, ok := x.get(&k); !ok || got != want[k] {
			t.Fatalf("get(%v) = %d, %v; want %d", k, got, ok, want[k])
		}
	}
	for _, k := range []Key{KeyOf(ip4(1), ip4(2), 6, 65535), {Proto: 99}} {
		if _, ok := x.get(&k); ok {
			t.Errorf("get(%v) found a key never put", k)
		}
	}
}

func ip4(n int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)})
}
