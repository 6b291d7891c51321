package analysis

import (
	"math"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// SideState are a conversation's figures as seen from one side: by the
// enforcement point of its destination (inbound), of its source (outbound),
// or from lines that do not say (unknown). SideStates of the same side add up.
type SideState struct {
	Sessions   uint64
	Unanswered int64     // signed: a later import may answer a session counted unanswered
	Counts     [4]uint64 // orig pkts, orig bytes, reply pkts, reply bytes
	Hourly     []HourCount
}

// HourCount is the number of sessions that started in one hour.
type HourCount struct {
	Hour int32 // hours since the Unix epoch
	N    uint32
}

// addHour adds n sessions to hour h of a time-ordered list.
func addHour(hs []HourCount, h int32, n uint32) []HourCount {
	i := len(hs)
	if i > 0 && hs[i-1].Hour == h {
		hs[i-1].N += n
		return hs
	}
	if i == 0 || hs[i-1].Hour < h {
		return append(hs, HourCount{h, n})
	}
	i = sort.Search(i, func(i int) bool { return hs[i].Hour >= h })
	if hs[i].Hour == h {
		hs[i].N += n
		return hs
	}
	hs = append(hs, HourCount{})
	copy(hs[i+1:], hs[i:])
	hs[i] = HourCount{h, n}
	return hs
}

// ConvState is a conversation's raw figures, before its sides are combined:
// the form a Model adds lines to, and the form that is stored and merged
// (Merge, the one merge). Merging the states of two imports gives the state
// of importing both. Table is its working form, made by TableBuilder.
type ConvState struct {
	Src, Dst    netip.Addr
	Proto       uint8
	DPort       uint16
	Actions     uint16       // 1<<ingest.Action
	Vendors     uint8        // 1<<ingest.Vendor
	Origins     uint8        // how its lines arrived: OriginAuthenticated, OriginUnauthenticated
	Sides       [3]SideState // by ingest.Direction: unknown, inbound, outbound
	First, Last int64        // unix nanoseconds; 0 when no line had a time
	Labels      []LabelState
	Hosts       []string
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

// Key returns the key of c.
func (c *ConvState) Key() Key { return KeyOf(c.Src, c.Dst, c.Proto, c.DPort) }

// AddRecord adds the figures of session record r to c, which is r's
// conversation or empty (its key is then set). At most samples sample lines
// are kept. Adding the latest record of every session gives the state the
// model that tracked them holds.
func (c *ConvState) AddRecord(r *SessionRecord, samples int) {
	if c.Src == (netip.Addr{}) {
		c.Src, c.Dst, c.Proto, c.DPort = r.Src, r.Dst, r.Proto, r.DPort
	}
	s := c.side(r.Side)
	s.Sessions++
	if r.Unanswered {
		s.Unanswered++
	}
	for i, n := range r.Counts {
		s.Counts[i] += n
	}
	if r.Start != 0 {
		s.Hourly = addHour(s.Hourly, int32(r.Start/3600), 1)
	}
	if r.First != 0 && (c.First == 0 || r.First < c.First) {
		c.First = r.First
	}
	c.Last = max(c.Last, r.Last)
	for _, l := range r.Labels {
		if i := slices.IndexFunc(c.Labels, func(x LabelState) bool { return x.Name == l }); i >= 0 {
			c.Labels[i].Sides |= 1 << r.Side
		} else {
			c.Labels = append(c.Labels, LabelState{Name: l, Sides: 1 << r.Side})
		}
	}
	if r.Host != "" && !slices.Contains(c.Hosts, r.Host) {
		c.Hosts = append(c.Hosts, r.Host)
	}
	c.Actions |= r.Actions
	c.Vendors |= r.Vendors
	for _, l := range r.Samples {
		if len(c.Samples) < samples {
			c.Samples = append(c.Samples, l)
		}
	}
}

// Hour is the number of sessions that started in one hour.
type Hour struct {
	Start    time.Time
	Sessions uint64
}

// Tag is a group label and the direction of the conversation relative to
// that group alone.
type Tag struct {
	Name      string
	Direction ingest.Direction
}

// side returns the figures of side d (unknown for a direction that is not
// a side).
func (c *ConvState) side(d ingest.Direction) *SideState {
	return &c.Sides[sideIndex(d)]
}

// sideIndex returns the index in ConvState.Sides of direction d: unknown
// for a value past the three.
func sideIndex(d ingest.Direction) ingest.Direction {
	if int(d) >= len(ConvState{}.Sides) {
		return ingest.DirUnknown
	}
	return d
}

// clone returns a copy of c that shares no list with it.
func (c *ConvState) clone() ConvState {
	out := *c
	out.Labels, out.Hosts, out.Samples = slices.Clone(c.Labels), slices.Clone(c.Hosts), slices.Clone(c.Samples)
	for i := range out.Sides {
		out.Sides[i].Hourly = slices.Clone(c.Sides[i].Hourly)
	}
	return out
}
