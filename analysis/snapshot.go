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

	// From the inventory, when the workspace has one: VM names and groups.
	SrcVM, DstVM         string
	SrcGroups, DstGroups []string

	First, Last time.Time // zero when no line had a time
	Hosts       []string  // reporting hosts, sorted
	// Unauthenticated is set when every line of it was received over UDP,
	// whose sender address anyone can forge (trust.go).
	Unauthenticated bool
	Hourly          []Hour   // sessions started per hour, in time order
	Samples         []string // the first raw lines, as evidence
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
func (m *Model) Conversations() []Conversation { return m.Table().Conversations() }

// Table returns the model's conversations as a table, sorted as
// Conversations is, with directions relative to the declared monitored set
// or else to the one learned from the logs. It holds the sample lines.
func (m *Model) Table() *Table {
	m.mu.Lock()
	n := 0
	for i := range m.shards {
		n += len(m.shards[i].convList)
	}
	b := NewTableBuilder(m.ruleTagNames(), n, nil)
	for i := range m.shards {
		sh := &m.shards[i]
		for _, c := range sh.convList {
			st := sh.state(c, false)
			st.Samples = slices.Clone(st.Samples) // the table may keep them
			b.Add(&st, 0, len(st.Samples))
		}
	}
	m.mu.Unlock()
	mon := b.Learned()
	if len(m.opts.Monitored) > 0 {
		mon = NewMonitored(m.opts.Monitored, nil)
	}
	return b.Finish(mon, nil)
}

// Build turns states into sorted conversations, with directions from mon and
// untagged NSX rules ("rule X") named by the tag ruleTags gives them.
func Build(states []ConvState, mon *Monitored, ruleTags map[string]string) []Conversation {
	b := NewTableBuilder(ruleTags, len(states), nil)
	for i := range states {
		b.Add(&states[i], 0, len(states[i].Samples))
	}
	return b.Finish(mon, nil).Conversations()
}

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
func LearnEndpoints(c *ConvState, add func(netip.Addr)) {
	if c.Sides[ingest.DirOutbound].Sessions > 0 {
		add(c.Src)
	}
	if c.Sides[ingest.DirInbound].Sessions > 0 {
		add(c.Dst)
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
