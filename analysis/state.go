package analysis

import (
	"bytes"
	"cmp"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// ConvState is a conversation's raw figures, before its sides are combined:
// the form that can be stored and merged. Merging the states of two imports
// gives the state of importing both.
type ConvState struct {
	Src, Dst    netip.Addr
	Proto       uint8
	DPort       uint16
	Sides       [3]SideState // by ingest.Direction: unknown, inbound, outbound
	First, Last int64        // unix nanoseconds; 0 when no line had a time
	Labels      []LabelState
	Hosts       []string
	Actions     uint16 // 1<<ingest.Action
	Vendors     uint8  // 1<<ingest.Vendor
	Origins     uint8  // how its lines arrived: OriginAuthenticated, OriginUnauthenticated
	Samples     []string
}

// LabelState is a tag (or "rule X") and the sides of the lines that carried it.
type LabelState struct {
	Name  string
	Sides uint8 // 1<<ingest.Direction
}

// Empty reports whether c holds nothing (a conversation only known from a
// connection restored from an earlier import, that saw no new line).
func (c *ConvState) Empty() bool {
	for i := range c.Sides {
		if c.Sides[i].Sessions != 0 || c.Sides[i].Unanswered != 0 || c.Sides[i].Counts != [4]uint64{} {
			return false
		}
	}
	return c.First == 0 && c.Last == 0 && len(c.Labels) == 0
}

// Merge adds o to c. Both must be the same conversation. At most samples
// sample lines are kept.
func (c *ConvState) Merge(o *ConvState, samples int) {
	for i := range c.Sides {
		a, b := &c.Sides[i], &o.Sides[i]
		a.Sessions += b.Sessions
		a.Unanswered += b.Unanswered
		for j := range a.Counts {
			a.Counts[j] += b.Counts[j]
		}
		for _, h := range b.Hourly {
			a.Hourly = addHour(a.Hourly, h.Hour, h.N)
		}
	}
	if o.First != 0 && (c.First == 0 || o.First < c.First) {
		c.First = o.First
	}
	c.Last = max(c.Last, o.Last)
	for _, l := range o.Labels {
		if i := slices.IndexFunc(c.Labels, func(x LabelState) bool { return x.Name == l.Name }); i >= 0 {
			c.Labels[i].Sides |= l.Sides
		} else {
			c.Labels = append(c.Labels, l)
		}
	}
	for _, h := range o.Hosts {
		if !slices.Contains(c.Hosts, h) {
			c.Hosts = append(c.Hosts, h)
		}
	}
	c.Actions |= o.Actions
	c.Vendors |= o.Vendors
	c.Origins |= o.Origins
	for _, s := range o.Samples {
		if len(c.Samples) < samples {
			c.Samples = append(c.Samples, s)
		}
	}
}

// EachState calls fn with the state of every conversation, in key order
// (source, destination, protocol, port as stored), one at a time: unlike
// States it holds no second copy of the model. fn must not keep the state.
// The model is locked meanwhile.
func (m *Model) EachState(fn func(*ConvState) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	convs := make([]*conv, 0, len(m.convs))
	for _, c := range m.convs {
		convs = append(convs, c)
	}
	slices.SortFunc(convs, func(a, b *conv) int {
		return cmp.Or(bytes.Compare(a.key.src[:], b.key.src[:]), bytes.Compare(a.key.dst[:], b.key.dst[:]),
			cmp.Compare(a.key.proto, b.key.proto), cmp.Compare(a.key.dport, b.key.dport))
	})
	for _, c := range convs {
		st := m.state(c)
		if err := fn(&st); err != nil {
			return err
		}
	}
	return nil
}

// States returns a copy of the raw state of every conversation, unordered.
func (m *Model) States() []ConvState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ConvState, 0, len(m.convs))
	for _, c := range m.convs {
		out = append(out, m.state(c))
	}
	return out
}

func (m *Model) state(c *conv) ConvState {
	st := ConvState{
		Src: toAddr(c.key.src, c.v4), Dst: toAddr(c.key.dst, c.v4),
		Proto: c.key.proto, DPort: c.key.dport,
		First: c.first, Last: c.last, Actions: c.actions, Vendors: c.vendors, Origins: c.origins,
		Samples: slices.Clone(c.samples),
	}
	for i := range c.sides {
		st.Sides[i] = c.sides[i]
		st.Sides[i].Hourly = slices.Clone(c.sides[i].Hourly)
	}
	for _, l := range c.labels {
		st.Labels = append(st.Labels, LabelState{Name: m.strs.names[l.id], Sides: l.sides})
	}
	for _, h := range c.hosts {
		st.Hosts = append(st.Hosts, m.strs.names[h])
	}
	return st
}

// RuleTags returns, for each NSX "rule X" label, the tag lines of that rule
// carried, so untagged TERM lines can join their group.
func (m *Model) RuleTags() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ruleTagNames()
}

func (m *Model) ruleTagNames() map[string]string {
	out := make(map[string]string, len(m.ruleTags))
	for rule, tag := range m.ruleTags {
		out[m.strs.names[rule]] = m.strs.names[tag]
	}
	return out
}

// SessionState is one tracked (still open) connection, so that an import can
// continue where the previous one stopped: a connection whose lines straddle
// two files counts once.
type SessionState struct {
	Src, Dst     netip.Addr
	Host, Group  string // reporting host; Nutanix policy UUID
	SPort, DPort uint16
	Proto        uint8
	Side         ingest.Direction
	ConvDPort    uint16    // the conversation's port (an ICMP type, or 0)
	Last         [4]uint64 // cumulative counters seen so far
	Seen         int64     // unix seconds, by its host's clock
	Unanswered   bool
	Matched      bool // NSX: opened by a match line
	HasCounters  bool
	Record       *SessionRecord // its record so far, with Options.Records
}

// Sessions returns the tracked connections and each host's clock.
func (m *Model) Sessions() ([]SessionState, map[string]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SessionState, 0, len(m.open))
	for k, s := range m.open {
		st := SessionState{
			Src: toAddr(k.src, s.conv.v4), Dst: toAddr(k.dst, s.conv.v4),
			Host: m.strs.names[k.host], Group: m.strs.names[k.group],
			SPort: k.sport, DPort: k.dport, Proto: k.proto, Side: k.side, ConvDPort: s.conv.key.dport,
			Last: s.last, Seen: s.seen, Unanswered: s.unans, Matched: s.matched, HasCounters: s.hasCount,
		}
		if s.rec != nil {
			r := taken(s)
			st.Record = &r
		}
		out = append(out, st)
	}
	clocks := make(map[string]int64, len(m.clocks))
	for id, t := range m.clocks {
		if t != 0 {
			clocks[m.strs.names[id]] = t
		}
	}
	return out, clocks
}

// Restore loads tracked connections and host clocks saved by Sessions into
// an empty model, before new events are added.
func (m *Model) Restore(sessions []SessionState, clocks map[string]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for host, t := range clocks {
		id := m.strs.id(host)
		for int(id) >= len(m.clocks) {
			m.clocks = append(m.clocks, 0)
		}
		m.clocks[id] = max(m.clocks[id], t)
	}
	for _, st := range sessions {
		ck := convKey{src: st.Src.As16(), dst: st.Dst.As16(), proto: st.Proto, dport: st.ConvDPort}
		c := m.convs[ck]
		if c == nil {
			c = &conv{key: ck, v4: st.Src.Is4()}
			m.convs[ck] = c
		}
		k := sessKey{src: ck.src, dst: ck.dst, host: m.strs.id(st.Host), group: m.strs.id(st.Group),
			sport: st.SPort, dport: st.DPort, proto: st.Proto, side: st.Side}
		s := &session{conv: c, last: st.Last, seen: st.Seen, host: k.host,
			unans: st.Unanswered, matched: st.Matched, hasCount: st.HasCounters}
		if st.Record != nil { // continued, as taken already
			s.rec = &record{SessionRecord: *st.Record}
			s.rec.Labels, s.rec.Samples = slices.Clone(st.Record.Labels), slices.Clone(st.Record.Samples)
		}
		m.open[k] = s
	}
	m.sweepAt = max(m.sweepAt, min(2*len(m.open), m.opts.MaxOpen))
}

func toAddr(a addr, v4 bool) netip.Addr {
	ip := netip.AddrFrom16(a)
	if v4 {
		return ip.Unmap()
	}
	return ip
}

// Window returns c restricted to the sessions that started in [since, until)
// (a zero bound is open), and false when none did. Sessions without a time
// are outside any bounded window. Counters are per session, not per hour, so
// they stay whole; unanswered sessions are capped at the sessions kept.
func (c *ConvState) Window(since, until time.Time) (ConvState, bool) {
	if since.IsZero() && until.IsZero() {
		return *c, true
	}
	lo, hi := int32(math.MinInt32), int32(math.MaxInt32)
	if !since.IsZero() {
		lo = int32(since.Unix() / 3600)
	}
	if !until.IsZero() {
		hi = int32((until.Unix() - 1) / 3600)
	}
	out := *c
	any := false
	for i := range out.Sides {
		s := &out.Sides[i]
		s.Hourly = nil
		s.Sessions = 0
		for _, h := range c.Sides[i].Hourly {
			if h.Hour >= lo && h.Hour <= hi {
				s.Hourly = append(s.Hourly, h)
				s.Sessions += uint64(h.N)
			}
		}
		s.Unanswered = min(s.Unanswered, int64(s.Sessions))
		any = any || s.Sessions > 0
	}
	return out, any
}
