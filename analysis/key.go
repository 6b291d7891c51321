package analysis

import (
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

// Key returns the key of c.
func (c *ConvState) Key() Key { return KeyOf(c.Src, c.Dst, c.Proto, c.DPort) }

// Key returns the key of row i.
func (t *Table) Key(i int) Key {
	r := &t.rows[i]
	return Key{Src: r.src.bytes(), Dst: r.dst.bytes(), Proto: r.proto, DPort: r.dport}
}

// bytes returns ip in the 16-byte form of netip.Addr.As16.
func (ip ip128) bytes() (b [16]byte) {
	binary.BigEndian.PutUint64(b[:8], ip.hi)
	binary.BigEndian.PutUint64(b[8:], ip.lo)
	return b
}
