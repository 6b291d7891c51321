package summary

import (
	"cmp"
	"encoding/binary"
	"iter"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis/services"
)

// Count is a value under a label: a service ("DNS (53/udp)") or a peer.
type Count struct {
	Label string
	Proto uint8      // services: the protocol
	Port  uint16     // services: the destination port (0 for ICMP)
	Peer  netip.Addr // peers: the address
	Value uint64
}

// svcKey is a protocol and a service port, as proto<<16 | port: a map
// keyed by a number is hashed faster than one keyed by a struct.
type svcKey uint32

func (k svcKey) proto() uint8                    { return uint8(k >> 16) }
func (k svcKey) port() uint16                    { return uint16(k) }
func serviceKey(proto uint8, port uint16) svcKey { return svcKey(proto)<<16 | svcKey(port) }

func serviceCounts(sums iter.Seq2[uint32, uint64], n int) []Count {
	var t topCounts
	for key, v := range sums {
		if t.wants(n, v) {
			k := svcKey(key)
			t.add(n, Count{Label: services.Label(k.proto(), k.port()), Proto: k.proto(), Port: k.port(), Value: v})
		}
	}
	return t.sorted()
}

// peerCounts keeps the top n peers of a tag from its sessions by peer:
// IPv4 addresses keyed by their 32 bits (v4), the others by address.
func peerCounts(v4 iter.Seq2[uint32, uint64], other map[netip.Addr]uint64, n int) []Count {
	var t topCounts
	var text [len("255.255.255.255")]byte
	for ip, v := range v4 {
		if t.wants(n, v) {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], ip)
			a := netip.AddrFrom4(b)
			// A tag may have a million peers of one or two sessions, each
			// a tie with the smallest kept, which its label decides:
			// written here first, it is made a string only when kept.
			if t.tiesLast(n, v) && string(a.AppendTo(text[:0])) > t.cs[n-1].Label {
				continue
			}
			t.add(n, Count{Label: a.String(), Peer: a, Value: v})
		}
	}
	for a, v := range other {
		if t.wants(n, v) {
			t.add(n, Count{Label: a.String(), Peer: a, Value: v})
		}
	}
	return t.sorted()
}

// topCounts keeps the n largest counts (n <= 0: all), ties by label,
// without holding every count: a tag may have a million peers.
type topCounts struct{ cs []Count }

func moreThan(a, b *Count) bool {
	return a.Value > b.Value || a.Value == b.Value && a.Label < b.Label
}

// wants reports whether a count of value v may be among the n largest
// (its label decides a tie with the smallest kept).
func (t *topCounts) wants(n int, v uint64) bool {
	return n <= 0 || len(t.cs) < n || v >= t.cs[len(t.cs)-1].Value
}

// tiesLast reports whether a count of value v would tie with the
// smallest of the n kept, all n being kept.
func (t *topCounts) tiesLast(n int, v uint64) bool {
	return n > 0 && len(t.cs) == n && v == t.cs[n-1].Value
}

// add inserts c in order, dropping the smallest beyond n.
func (t *topCounts) add(n int, c Count) {
	if n <= 0 {
		t.cs = append(t.cs, c)
		return
	}
	i := len(t.cs)
	for i > 0 && moreThan(&c, &t.cs[i-1]) {
		i--
	}
	if i == n {
		return
	}
	t.cs = slices.Insert(t.cs, i, c)
	if len(t.cs) > n {
		t.cs = t.cs[:n]
	}
}

// sorted returns the counts kept, largest first (ties by label).
func (t *topCounts) sorted() []Count {
	slices.SortFunc(t.cs, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Label, b.Label))
	})
	if t.cs == nil {
		return []Count{}
	}
	return t.cs
}
