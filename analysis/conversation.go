package analysis

import (
	"sort"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// sideStats are a conversation's figures as seen from one side: by the
// enforcement point of its destination (inbound), of its source (outbound),
// or from lines that do not say (unknown).
type sideStats struct {
	sessions   uint64
	unanswered uint64
	counts     [4]uint64 // orig pkts, orig bytes, reply pkts, reply bytes
	hourly     []hourCount
}

type hourCount struct {
	hour int32 // hours since the Unix epoch
	n    uint32
}

type labelSide struct {
	id    uint32
	sides uint8 // 1<<Direction of the lines that carried it
}

type conv struct {
	key         convKey
	v4          bool
	sides       [3]sideStats // by ingest.Direction: unknown, inbound, outbound
	first, last int64        // unix nanoseconds; 0 when no line had a time
	labels      []labelSide
	hosts       []uint32
	actions     uint16 // 1<<ingest.Action
	vendors     uint8  // 1<<ingest.Vendor
	samples     []string
}

func (c *conv) side(d ingest.Direction) *sideStats {
	if int(d) >= len(c.sides) {
		d = ingest.DirUnknown
	}
	return &c.sides[d]
}

// observe records what every line adds, whatever its place in a session.
func (c *conv) observe(ev *ingest.Event, m *Model, host uint32) {
	if !ev.Time.IsZero() {
		t := ev.Time.UnixNano()
		if c.first == 0 || t < c.first {
			c.first = t
		}
		if t > c.last {
			c.last = t
		}
	}
	if ev.Host != "" && !containsID(c.hosts, host) {
		c.hosts = append(c.hosts, host)
	}
	if ev.Action != ingest.ActionUnknown {
		c.actions |= 1 << ev.Action
	}
	c.vendors |= 1 << ev.Vendor
	c.addLabel(m.label(ev), ev.Direction)
	if len(c.samples) < m.opts.Samples {
		c.samples = append(c.samples, string(ev.Raw))
	}
}

func (c *conv) addLabel(id uint32, d ingest.Direction) {
	for i := range c.labels {
		if c.labels[i].id == id {
			c.labels[i].sides |= 1 << d
			return
		}
	}
	c.labels = append(c.labels, labelSide{id: id, sides: 1 << d})
}

func containsID(ids []uint32, id uint32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// newSession counts a session that started at unix second now (0: unknown).
func (s *sideStats) newSession(now int64) {
	s.sessions++
	if now == 0 {
		return
	}
	h := int32(now / 3600)
	n := len(s.hourly)
	if n > 0 && s.hourly[n-1].hour == h {
		s.hourly[n-1].n++
		return
	}
	if n == 0 || s.hourly[n-1].hour < h {
		s.hourly = append(s.hourly, hourCount{h, 1})
		return
	}
	i := sort.Search(n, func(i int) bool { return s.hourly[i].hour >= h })
	if s.hourly[i].hour == h {
		s.hourly[i].n++
		return
	}
	s.hourly = append(s.hourly, hourCount{})
	copy(s.hourly[i+1:], s.hourly[i:])
	s.hourly[i] = hourCount{h, 1}
}

// addCounters moves a session's cumulative counters to cur, adding the growth
// to the side's totals.
func (c *conv) addCounters(d ingest.Direction, s *session, cur [4]uint64) {
	side := c.side(d)
	for i := range cur {
		if cur[i] > s.last[i] {
			side.counts[i] += cur[i] - s.last[i]
		}
	}
	s.last, s.hasCount = cur, true
	c.markUnanswered(d, s, cur[2] == 0)
}

// markUnanswered sets whether a session is, so far, unanswered.
func (c *conv) markUnanswered(d ingest.Direction, s *session, unans bool) {
	if unans == s.unans {
		return
	}
	side := c.side(d)
	if unans {
		side.unanswered++
	} else {
		side.unanswered--
	}
	s.unans = unans
}
