package analysis

import (
	"sort"

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

type labelSide struct {
	id    uint32
	sides uint8 // 1<<Direction of the lines that carried it
}

type conv struct {
	key         convKey
	v4          bool
	sides       [3]SideState // by ingest.Direction: unknown, inbound, outbound
	first, last int64        // unix nanoseconds; 0 when no line had a time
	labels      []labelSide
	hosts       []uint32
	actions     uint16 // 1<<ingest.Action
	vendors     uint8  // 1<<ingest.Vendor
	origins     uint8  // how its lines arrived: Origin bits
	taken       uint8  // sample lines taken, also those a Drain handed
	samples     []string
	spilled     []sampleRef // with Options.SampleFile, instead of samples
}

func (c *conv) side(d ingest.Direction) *SideState {
	if int(d) >= len(c.sides) {
		d = ingest.DirUnknown
	}
	return &c.sides[d]
}

// observe records what every line adds, whatever its place in a session.
func (c *conv) observe(ev *ingest.Event, m *shard, host uint32) {
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
	c.origins |= origin(ev)
	c.addLabel(m.label(ev), ev.Direction)
	if int(c.taken) < m.opts.Samples {
		if m.spill != nil {
			c.spilled = append(c.spilled, m.spill.put(ev.Raw))
		} else {
			c.samples = append(c.samples, string(ev.Raw))
		}
		c.taken++
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
func (s *SideState) newSession(now int64) {
	s.Sessions++
	if now != 0 {
		s.Hourly = addHour(s.Hourly, int32(now/3600), 1)
	}
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
