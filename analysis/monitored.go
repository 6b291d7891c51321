package analysis

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// dirRank orders directions as conversations are: INBOUND, OUTBOUND,
// INTRA, UNKNOWN (then by source, destination, protocol and port).
var dirRank = [...]int{ingest.DirInbound: 0, ingest.DirOutbound: 1, ingest.DirIntra: 2, ingest.DirUnknown: 3}

// Monitored is the protected set that directions are relative to: declared
// prefixes, or else every endpoint that some line showed behind an
// enforcement point (the source of an outbound line, the destination of an
// inbound one).
type Monitored struct {
	prefixes []netip.Prefix
	learned  map[addrKey]struct{} // without netip.Addr's pointer: cheaper to hash and to collect
}

// NewMonitoredOf returns the learned set restricted to what contains says of
// the given addresses: for a few conversations drawn from a large store,
// without loading every learned endpoint.
func NewMonitoredOf(addrs []netip.Addr, contains func(netip.Addr) bool) *Monitored {
	learned := make(map[addrKey]struct{})
	for _, a := range addrs {
		if contains(a) {
			learned[keyOf(a)] = struct{}{}
		}
	}
	return &Monitored{learned: learned}
}

// NewMonitored returns the declared set if prefixes is not empty, else the
// set learned from states.
func NewMonitored(prefixes []netip.Prefix, states []ConvState) *Monitored {
	if len(prefixes) > 0 {
		return &Monitored{prefixes: prefixes}
	}
	learned := make(map[addrKey]struct{})
	for i := range states {
		LearnEndpoints(&states[i], func(a netip.Addr) { learned[keyOf(a)] = struct{}{} })
	}
	return &Monitored{learned: learned}
}

// NewLearnedMonitored returns a learned set given as its members.
func NewLearnedMonitored(addrs []netip.Addr) *Monitored {
	learned := make(map[addrKey]struct{}, len(addrs))
	for _, a := range addrs {
		learned[keyOf(a)] = struct{}{}
	}
	return &Monitored{learned: learned}
}

// LearnEndpoints calls add with the endpoints c shows behind an enforcement point.
func LearnEndpoints(c *ConvState, add func(netip.Addr)) { LearnEndpointsBySide(c, add, add) }

// LearnEndpointsBySide is LearnEndpoints with c's source handed to src and
// its destination to dst: a caller that walks states in key order (SortKey,
// the source first) gets their sources in order.
func LearnEndpointsBySide(c *ConvState, src, dst func(netip.Addr)) {
	if c.Sides[ingest.DirOutbound].Sessions > 0 {
		src(c.Src)
	}
	if c.Sides[ingest.DirInbound].Sessions > 0 {
		dst(c.Dst)
	}
}

// Contains reports whether a is in the set.
func (s *Monitored) Contains(a netip.Addr) bool {
	if s.prefixes != nil {
		for _, p := range s.prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return s.containsIP(toIP128(a), a.Is4())
}

// containsIP is Contains of an address given as a number.
func (s *Monitored) containsIP(ip ip128, is4 bool) bool {
	if s.prefixes != nil {
		return s.Contains(ip.addr(is4))
	}
	_, ok := s.learned[addrKey{ip, is4}]
	return ok
}

// memberCache remembers the answers of a set's lookups of the addresses
// seen last, by a hash of the address: an address is an end of many
// conversations (a server of thousands of clients), and a look-up in a
// million-address learned set misses the processor's caches. The zero value
// is empty.
type memberCache struct {
	slots [1024]struct {
		key      addrKey
		in, used bool
	}
}

// contains is s.containsIP(ip, is4) through the cache.
func (c *memberCache) contains(s *Monitored, ip ip128, is4 bool) bool {
	h := (ip.lo ^ ip.hi*0x9e3779b97f4a7c15) * 0x9e3779b97f4a7c15
	slot := &c.slots[h>>(64-10)]
	if k := (addrKey{ip, is4}); !slot.used || slot.key != k {
		slot.key, slot.in, slot.used = k, s.containsIP(ip, is4), true
	}
	return slot.in
}

func direction(src, dst bool) ingest.Direction {
	switch {
	case src && dst:
		return ingest.DirIntra
	case src:
		return ingest.DirOutbound
	case dst:
		return ingest.DirInbound
	}
	return ingest.DirUnknown
}

// tags names labels, folding untagged NSX rules into their tag.
func tags(labels []LabelState, ruleTags map[string]string) []Tag {
	sides := make(map[string]uint8, len(labels))
	for _, l := range labels {
		name := l.Name
		if tag, ok := ruleTags[name]; ok {
			name = tag
		}
		if name != "" {
			sides[name] |= l.Sides
		}
	}
	out := make([]Tag, 0, len(sides))
	for name, s := range sides {
		in, outb := s&(1<<ingest.DirInbound) != 0, s&(1<<ingest.DirOutbound) != 0
		out = append(out, Tag{Name: name, Direction: direction(outb, in)})
	}
	slices.SortFunc(out, func(a, b Tag) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
