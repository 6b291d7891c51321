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
// States it holds no second copy of the model. fn must neither keep nor
// change the state, whose lists are the model's. The model is locked
// meanwhile.
func (m *Model) EachState(fn func(*ConvState) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.eachState(func(st *ConvState, _ *shard, _ int) error { return fn(st) })
}

// eachState is EachState, also handing each conversation's shard and index
// in it; the caller holds m.mu.
func (m *Model) eachState(fn func(st *ConvState, sh *shard, i int) error) error {
	type ref struct {
		c  *conv
		sh *shard
		i  int
	}
	var convs []ref
	for i := range m.shards {
		sh := &m.shards[i]
		for j, c := range sh.convList {
			convs = append(convs, ref{c, sh, j})
		}
	}
	slices.SortFunc(convs, func(a, b ref) int {
		return cmp.Or(bytes.Compare(a.c.key.src[:], b.c.key.src[:]), bytes.Compare(a.c.key.dst[:], b.c.key.dst[:]),
			cmp.Compare(a.c.key.proto, b.c.key.proto), cmp.Compare(a.c.key.dport, b.c.key.dport))
	})
	for _, r := range convs {
		st := r.sh.state(r.c, false)
		if err := fn(&st, r.sh, r.i); err != nil {
			return err
		}
	}
	return m.spill.failed()
}

// States returns a copy of the raw state of every conversation, unordered.
func (m *Model) States() []ConvState {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i := range m.shards {
		n += len(m.shards[i].convList)
	}
	out := make([]ConvState, 0, n)
	for i := range m.shards {
		sh := &m.shards[i]
		for _, c := range sh.convList {
			out = append(out, sh.state(c, true))
		}
	}
	return out
}

// state returns c's state; its samples and hourly counts are the model's
// own unless copied (clone).
func (sh *shard) state(c *conv, clone bool) ConvState {
	st := ConvState{
		Src: toAddr(c.key.src, c.v4), Dst: toAddr(c.key.dst, c.v4),
		Proto: c.key.proto, DPort: c.key.dport,
		First: c.first, Last: c.last, Actions: c.actions, Vendors: c.vendors, Origins: c.origins,
		Samples: c.samples,
	}
	if len(c.spilled) > 0 {
		st.Samples = sh.spill.get(c.spilled)
	}
	st.Sides = c.sides
	if clone {
		st.Samples = slices.Clone(st.Samples)
		for i := range st.Sides {
			st.Sides[i].Hourly = slices.Clone(c.sides[i].Hourly)
		}
	}
	for _, l := range c.labels {
		st.Labels = append(st.Labels, LabelState{Name: sh.strs.names[l.id], Sides: l.sides})
	}
	for _, h := range c.hosts {
		st.Hosts = append(st.Hosts, sh.strs.names[h])
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

// ruleTagNames returns RuleTags: the tag of the latest line, of all shards,
// that showed one on the rule.
func (m *Model) ruleTagNames() map[string]string {
	type tagAt struct {
		tag string
		at  int64
	}
	latest := make(map[string]tagAt)
	for i := range m.shards {
		sh := &m.shards[i]
		for j := range sh.labels {
			sh.flushLabel(&sh.labels[j])
		}
		for rule, t := range sh.ruleTags {
			name, tag := sh.strs.names[rule], sh.strs.names[t.tag]
			if old, ok := latest[name]; !ok || t.at > old.at || (t.at == old.at && tag > old.tag) {
				latest[name] = tagAt{tag, t.at}
			}
		}
	}
	out := make(map[string]string, len(latest))
	for rule, t := range latest {
		out[rule] = t.tag
	}
	return out
}

// SessionState is one tracked (still open) session, so that an import can
// continue where the previous one stopped: a connection whose lines straddle
// two files counts once. Sessions of one key that overlap (NSX) are one
// SessionState each.
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

// Sessions returns the tracked sessions and each host's clock.
func (m *Model) Sessions() ([]SessionState, map[string]int64) {
	var out []SessionState
	clocks, _ := m.EachSession(func(st *SessionState) error {
		out = append(out, *st)
		return nil
	})
	return out, clocks
}

// EachSession calls fn with every tracked session, one at a time (fn must
// not keep it), and returns each host's clock: Sessions without a copy of
// every session. The model is locked meanwhile.
func (m *Model) EachSession(fn func(*SessionState) error) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	clocks := make(map[string]int64)
	for i := range m.shards {
		sh := &m.shards[i]
		for id, t := range sh.clocks {
			if name := sh.strs.names[id]; t != 0 && t > clocks[name] {
				clocks[name] = t
			}
		}
		var err error
		sh.open.each(func(k openKey, v *openVal) {
			if err == nil {
				err = sh.eachSession(k, v, fn)
			}
		})
		if err != nil {
			return clocks, err
		}
	}
	return clocks, nil
}

// eachSession calls fn with the sessions open on key k.
func (sh *shard) eachSession(k openKey, v *openVal, fn func(*SessionState) error) error {
	c, p := sh.convList[v.conv], &sh.points[k.point]
	st := SessionState{
		Src: toAddr(c.key.src, c.v4), Dst: toAddr(c.key.dst, c.v4),
		Host: sh.strs.names[p.host], Group: sh.strs.names[p.group],
		SPort: k.sport, DPort: k.dport, Proto: p.proto, Side: p.side, ConvDPort: c.key.dport,
		Last: sh.lastOf(k, v), Seen: unpackSeen(v.seen), Unanswered: v.flags&fUnans != 0,
		Matched: v.flags&fMatched != 0, HasCounters: v.flags&fCounted != 0,
	}
	rs := sh.recs[k]
	for i := 0; i < int(v.n); i++ {
		st.Record = nil
		if i < len(rs) {
			r := taken(rs[i], st.Last, st.Unanswered)
			st.Record = &r
		}
		if err := fn(&st); err != nil {
			return err
		}
	}
	return nil
}

// Restore loads tracked sessions and host clocks saved by Sessions into
// an empty model, before new events are added.
func (m *Model) Restore(sessions []SessionState, clocks map[string]int64) {
	m.RestoreClocks(clocks)
	for i := range sessions {
		m.RestoreSession(&sessions[i])
	}
}

// RestoreClocks loads host clocks saved by Sessions or EachSession.
func (m *Model) RestoreClocks(clocks map[string]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.shards {
		sh := &m.shards[i]
		for host, t := range clocks {
			c := sh.hostClock(sh.strs.id(host))
			*c = max(*c, t)
		}
	}
}

// RestoreSession loads one tracked session saved by Sessions or
// EachSession, before new events are added: sessions of one key add up.
func (m *Model) RestoreSession(st *SessionState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	src, dst := st.Src.As16(), st.Dst.As16()
	sh := &m.shards[shardOfAddrs(src, dst, st.Proto)]
	ck := convKey{src: src, dst: dst, proto: st.Proto, dport: st.ConvDPort}
	ci, ok := sh.convs[ck]
	if !ok {
		ci = uint32(len(sh.convList))
		sh.convList = append(sh.convList, &conv{key: ck, v4: st.Src.Is4()})
		sh.convs[ck] = ci
	}
	// Nutanix connections are never opened by match lines.
	k, p := sh.keyOf(src, dst, st.SPort, st.DPort, !st.Matched)
	p.host, p.group, p.side, p.proto = sh.strs.id(st.Host), sh.strs.id(st.Group), st.Side, st.Proto
	k.point = sh.pointID(p)
	v := sh.open.get(k)
	if v == nil {
		v = sh.open.put(k)
		*v = openVal{conv: ci, seen: packSeen(st.Seen)}
		sh.setLast(k, v, st.Last)
		for f, on := range map[uint8]bool{fUnans: st.Unanswered, fMatched: st.Matched, fCounted: st.HasCounters} {
			if on {
				v.flags |= f
			}
		}
	}
	v.seen = max(v.seen, packSeen(st.Seen))
	if v.n < math.MaxUint16 {
		v.n++
		sh.openSessions++
	}
	if st.Record != nil && sh.recs != nil { // continued, as taken already
		r := &record{SessionRecord: *st.Record}
		r.Labels, r.Samples = slices.Clone(st.Record.Labels), slices.Clone(st.Record.Samples)
		sh.recs[k] = append(sh.recs[k], r)
	}
	sh.sweepAt = max(sh.sweepAt, min(2*sh.open.len(), sh.maxOpen))
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
