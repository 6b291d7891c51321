package analysis

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// A bucket holds the conversations of one direction, protocol and port
// between a fixed side (a group, or an address that is never generalised)
// and a peer side whose addresses may be collapsed.
type bucketKey struct {
	dir   ingest.Direction
	proto uint8
	port  uint16
	fixed string // key of the fixed side(s)
	peer  int8   // -1: both sides fixed; 0: the destination is the peer; 1: the source is
}

type bucket struct {
	key      bucketKey
	src, dst Endpoint // the fixed sides
	peers    map[netip.Addr]struct{}
	convs    []*Conversation
}

// side returns the endpoint an address stands for: its group, or itself.
func side(a netip.Addr, names map[netip.Addr]string) Endpoint {
	if g := names[a]; g != "" {
		return Endpoint{Name: g, Kind: KindGroup, Group: g}
	}
	p := netip.PrefixFrom(a, a.BitLen())
	return Endpoint{Name: a.String(), Kind: KindAddresses, Prefixes: []netip.Prefix{p}}
}

func endpointKey(e Endpoint) string {
	switch e.Kind {
	case KindGroup:
		return "g:" + e.Group
	case KindAny:
		return "any"
	}
	parts := make([]string, len(e.Prefixes))
	for i, p := range e.Prefixes {
		parts[i] = p.String()
	}
	return "a:" + strings.Join(parts, ",")
}

// newBucket files c: the peer side is the one outside the monitored set
// that is a plain address (outbound: the destination; inbound and unknown:
// the source; intra: none).
func newBucket(c *Conversation, names map[netip.Addr]string) (bucketKey, *bucket) {
	src, dst := side(c.Src, names), side(c.Dst, names)
	port := c.DPort
	if !hasPorts(c.Proto) {
		port = 0 // ICMP and portless protocols merge
	}
	k := bucketKey{dir: c.Direction, proto: c.Proto, port: port, peer: -1}
	switch {
	case c.Direction == ingest.DirOutbound && dst.Kind == KindAddresses:
		k.peer, k.fixed = 0, endpointKey(src)
	case (c.Direction == ingest.DirInbound || c.Direction == ingest.DirUnknown) && src.Kind == KindAddresses:
		k.peer, k.fixed = 1, endpointKey(dst)
	default:
		k.fixed = endpointKey(src) + "|" + endpointKey(dst)
	}
	return k, &bucket{key: k, src: src, dst: dst, peers: make(map[netip.Addr]struct{})}
}

func (b *bucket) add(c *Conversation) {
	b.convs = append(b.convs, c)
	switch b.key.peer {
	case 0:
		b.peers[c.Dst] = struct{}{}
	case 1:
		b.peers[c.Src] = struct{}{}
	}
}

// endpoints returns the rule's two sides, the peer side generalised.
func (b *bucket) endpoints(k Knobs) (src, dst Endpoint) {
	src, dst = b.src, b.dst
	switch b.key.peer {
	case 0:
		dst = generalise(b.peers, k)
	case 1:
		src = generalise(b.peers, k)
	}
	return src, dst
}

// generalise turns a set of peer addresses into an endpoint: Any above
// k.AnyPeers peers; else each /24 (IPv4) or /64 (IPv6) with at least
// k.CollapseMin peers becomes the smallest prefix holding them when they
// fill at least k.CollapseCoverage percent of it; other peers stay single.
func generalise(peers map[netip.Addr]struct{}, k Knobs) Endpoint {
	if len(peers) > k.AnyPeers {
		return Endpoint{Name: "Any", Kind: KindAny}
	}
	byNet := make(map[netip.Prefix][]netip.Addr)
	for a := range peers {
		bits := 24
		if a.Is6() {
			bits = 64
		}
		n, _ := a.Prefix(bits)
		byNet[n] = append(byNet[n], a)
	}
	var out []netip.Prefix
	for _, addrs := range byNet {
		if p, ok := collapse(addrs, k); ok {
			out = append(out, p)
			continue
		}
		for _, a := range addrs {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	slices.SortFunc(out, comparePrefix)
	names := make([]string, len(out))
	for i, p := range out {
		names[i] = strings.TrimSuffix(strings.TrimSuffix(p.String(), "/32"), "/128")
	}
	return Endpoint{Name: strings.Join(names, ", "), Kind: KindAddresses, Prefixes: out}
}

// collapse returns the smallest prefix holding addrs if the rule allows it.
func collapse(addrs []netip.Addr, k Knobs) (netip.Prefix, bool) {
	if len(addrs) < k.CollapseMin {
		return netip.Prefix{}, false
	}
	bits := addrs[0].BitLen()
	for ; bits > 0; bits-- {
		p, _ := addrs[0].Prefix(bits)
		if allIn(p, addrs) {
			break
		}
	}
	p, _ := addrs[0].Prefix(bits)
	size := math.Pow(2, float64(addrs[0].BitLen()-bits))
	if float64(len(addrs))*100/size < k.CollapseCoverage {
		return netip.Prefix{}, false
	}
	return p, true
}

func allIn(p netip.Prefix, addrs []netip.Addr) bool {
	for _, a := range addrs {
		if !p.Contains(a) {
			return false
		}
	}
	return true
}

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// ruleID is stable across re-synthesis: it hashes what identifies the rule.
func ruleID(dir ingest.Direction, src, dst Endpoint, proto uint8) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%s|%d", dir, endpointKey(src), endpointKey(dst), proto)))
	return "r-" + hex.EncodeToString(h[:5])
}

// addPort adds a seen port, joining runs of consecutive ports into ranges.
func addPort(rs []PortRange, p uint16) []PortRange {
	i, _ := slices.BinarySearchFunc(rs, p, func(r PortRange, p uint16) int { return cmp.Compare(r.From, p) })
	if i > 0 && rs[i-1].To >= p {
		return rs // already inside
	}
	rs = slices.Insert(rs, i, PortRange{p, p})
	if i+1 < len(rs) && rs[i+1].From == p+1 {
		rs[i].To = rs[i+1].To
		rs = slices.Delete(rs, i+1, i+2)
	}
	if i > 0 && rs[i-1].To+1 == p {
		rs[i-1].To = rs[i].To
		rs = slices.Delete(rs, i, i+1)
	}
	return rs
}
