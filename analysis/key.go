package analysis

import (
	"cmp"
	"encoding/binary"
	"net/netip"
)

// Key identifies a conversation: its source and destination in their 16-byte
// form (netip.Addr.As16: an IPv4 address IPv4-mapped), its protocol and its
// destination port (for ICMP, the type when known, else 0). It holds no
// pointer, so a map of a million keys hashes each as one block of memory and
// costs the garbage collector nothing to scan. The model, the workspace, the
// ClickHouse store and the app key conversations by it.
type Key struct {
	Src, Dst [16]byte
	DPort    uint16
	Proto    uint8
}

// KeyOf returns the key of the conversation from src to dst on proto and
// dport.
func KeyOf(src, dst netip.Addr, proto uint8, dport uint16) Key {
	return Key{Src: src.As16(), Dst: dst.As16(), Proto: proto, DPort: dport}
}

// bytes returns ip in the 16-byte form of netip.Addr.As16.
func (ip ip128) bytes() (b [16]byte) {
	binary.BigEndian.PutUint64(b[:8], ip.hi)
	binary.BigEndian.PutUint64(b[8:], ip.lo)
	return b
}

type addr = [16]byte

// ip128 is an address as a number, most significant half first.
type ip128 struct{ hi, lo uint64 }

// addrKey is an address as a map key: without the pointer netip.Addr holds.
type addrKey struct {
	ip  ip128
	is4 bool
}

func keyOf(a netip.Addr) addrKey { return addrKey{toIP128(a), a.Is4()} }

func toIP128(a netip.Addr) ip128 {
	b := a.As16()
	return ip128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (ip ip128) addr(is4 bool) netip.Addr {
	if is4 {
		v := uint32(ip.lo)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return netip.AddrFrom16(ip.bytes())
}

// compareIP orders addresses as netip.Addr.Compare does: IPv4 first.
func compareIP(a, b ip128, a4, b4 bool) int {
	switch {
	case a4 != b4:
		if a4 {
			return -1
		}
		return 1
	case a.hi != b.hi:
		return cmp.Compare(a.hi, b.hi)
	}
	return cmp.Compare(a.lo, b.lo)
}

func toAddr(a addr, v4 bool) netip.Addr {
	ip := netip.AddrFrom16(a)
	if v4 {
		return ip.Unmap()
	}
	return ip
}

// numShards is how many shards a Model has: a constant, so that results do
// not depend on the number of cores (the open connections' cap is per shard).
const numShards = 16
