package analysis

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Conversation is the traffic from one source to one destination on one
// protocol and destination port (for ICMP, the type when known, else 0).
type Conversation struct {
	Src, Dst netip.Addr
	Proto    uint8
	DPort    uint16

	// Direction is relative to the monitored set: INBOUND when only the
	// destination is in it, OUTBOUND when only the source is, INTRA when
	// both are, UNKNOWN when neither is known to be.
	Direction ingest.Direction
	Tags      []Tag           // policies (Nutanix) or rule tags (NSX), by name
	Actions   []ingest.Action // verdicts seen, in enum order
	Vendors   []ingest.Vendor

	Sessions   uint64
	Unanswered uint64 // sessions whose destination never answered (or that were dropped)
	OrigPkts   uint64 // source → destination
	OrigBytes  uint64
	ReplyPkts  uint64 // destination → source
	ReplyBytes uint64

	First, Last time.Time // zero when no line had a time
	Hosts       []string  // reporting hosts, sorted
	Hourly      []Hour    // sessions started per hour, in time order
	Samples     []string  // the first raw lines, as evidence
}

// Tag is a group label and the direction of the conversation relative to
// that group alone.
type Tag struct {
	Name      string
	Direction ingest.Direction
}

// Hour is the number of sessions that started in one hour.
type Hour struct {
	Start    time.Time
	Sessions uint64
}

// Packets returns the packets in both directions.
func (c *Conversation) Packets() uint64 { return c.OrigPkts + c.ReplyPkts }

// Bytes returns the bytes in both directions.
func (c *Conversation) Bytes() uint64 { return c.OrigBytes + c.ReplyBytes }

// Suspect reports whether no session of the conversation was ever answered,
// the mark of a scan or of traffic to nowhere.
func (c *Conversation) Suspect() bool { return c.Sessions > 0 && c.Unanswered >= c.Sessions }

// TagNames returns the names of c's tags.
func (c *Conversation) TagNames() []string {
	out := make([]string, len(c.Tags))
	for i, t := range c.Tags {
		out[i] = t.Name
	}
	return out
}

// Conversations returns a copy of every conversation, sorted by direction
// (INBOUND, OUTBOUND, INTRA, UNKNOWN), source, destination, protocol and port.
func (m *Model) Conversations() []Conversation {
	m.mu.Lock()
	defer m.mu.Unlock()
	inSet := m.monitoredFunc()
	out := make([]Conversation, 0, len(m.convs))
	for _, c := range m.convs {
		out = append(out, m.export(c, inSet))
	}
	slices.SortFunc(out, Compare)
	return out
}

// Compare orders conversations as Conversations returns them.
func Compare(a, b Conversation) int {
	return cmp.Or(
		cmp.Compare(dirRank[a.Direction], dirRank[b.Direction]),
		a.Src.Compare(b.Src),
		a.Dst.Compare(b.Dst),
		cmp.Compare(a.Proto, b.Proto),
		cmp.Compare(a.DPort, b.DPort),
	)
}

var dirRank = [...]int{ingest.DirInbound: 0, ingest.DirOutbound: 1, ingest.DirIntra: 2, ingest.DirUnknown: 3}

// monitoredFunc returns the membership test of the monitored set: the
// declared prefixes, or else every endpoint that some line showed behind an
// enforcement point (the source of an outbound line, the destination of an
// inbound one).
func (m *Model) monitoredFunc() func(addr) bool {
	if len(m.opts.Monitored) > 0 {
		return func(a addr) bool {
			ip := netip.AddrFrom16(a).Unmap()
			for _, p := range m.opts.Monitored {
				if p.Contains(ip) {
					return true
				}
			}
			return false
		}
	}
	learned := make(map[addr]struct{})
	for _, c := range m.convs {
		if c.sides[ingest.DirOutbound].sessions > 0 {
			learned[c.key.src] = struct{}{}
		}
		if c.sides[ingest.DirInbound].sessions > 0 {
			learned[c.key.dst] = struct{}{}
		}
	}
	return func(a addr) bool { _, ok := learned[a]; return ok }
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

func (m *Model) export(c *conv, inSet func(addr) bool) Conversation {
	out := Conversation{
		Src:       toAddr(c.key.src, c.v4),
		Dst:       toAddr(c.key.dst, c.v4),
		Proto:     c.key.proto,
		DPort:     c.key.dport,
		Direction: direction(inSet(c.key.src), inSet(c.key.dst)),
		Samples:   slices.Clone(c.samples),
	}
	for i := range c.sides {
		s := &c.sides[i]
		out.Sessions = max(out.Sessions, s.sessions)
		out.Unanswered = max(out.Unanswered, s.unanswered)
		out.OrigPkts = max(out.OrigPkts, s.counts[0])
		out.OrigBytes = max(out.OrigBytes, s.counts[1])
		out.ReplyPkts = max(out.ReplyPkts, s.counts[2])
		out.ReplyBytes = max(out.ReplyBytes, s.counts[3])
	}
	out.Hourly = mergeHourly(&c.sides)
	if c.first != 0 {
		out.First, out.Last = time.Unix(0, c.first).UTC(), time.Unix(0, c.last).UTC()
	}
	for _, h := range c.hosts {
		out.Hosts = append(out.Hosts, m.strs.names[h])
	}
	slices.Sort(out.Hosts)
	for a := ingest.Action(1); a < 16; a++ {
		if c.actions&(1<<a) != 0 {
			out.Actions = append(out.Actions, a)
		}
	}
	for v := ingest.Vendor(1); v < 8; v++ {
		if c.vendors&(1<<v) != 0 {
			out.Vendors = append(out.Vendors, v)
		}
	}
	out.Tags = m.tags(c)
	return out
}

// tags names c's labels, folding untagged NSX rules into their tag.
func (m *Model) tags(c *conv) []Tag {
	sides := make(map[string]uint8, len(c.labels))
	for _, l := range c.labels {
		id := l.id
		if tag, ok := m.ruleTags[id]; ok {
			id = tag
		}
		if name := m.strs.names[id]; name != "" {
			sides[name] |= l.sides
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

// mergeHourly takes, hour by hour, the largest count of the sides.
func mergeHourly(sides *[3]sideStats) []Hour {
	byHour := make(map[int32]uint64)
	for i := range sides {
		for _, h := range sides[i].hourly {
			byHour[h.hour] = max(byHour[h.hour], uint64(h.n))
		}
	}
	out := make([]Hour, 0, len(byHour))
	for h, n := range byHour {
		out = append(out, Hour{Start: time.Unix(int64(h)*3600, 0).UTC(), Sessions: n})
	}
	slices.SortFunc(out, func(a, b Hour) int { return a.Start.Compare(b.Start) })
	return out
}

func toAddr(a addr, v4 bool) netip.Addr {
	ip := netip.AddrFrom16(a)
	if v4 {
		return ip.Unmap()
	}
	return ip
}
