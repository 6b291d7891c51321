// Package analysis turns firewall events into sessions and conversations.
//
// A session is one connection as one enforcement point saw it: a Nutanix
// conntrack entry ([New] … [Update] … [Destroy], counters cumulative) or an
// NSX vNIC filter's match and TERM lines. A conversation is every session
// with the same source, destination, protocol and destination port.
//
// The same connection is often logged twice: at the sender's and at the
// receiver's enforcement point (NSX OUT and IN filters, Nutanix OUTBOUND and
// INBOUND). Sessions are therefore kept per side, and a conversation's
// figures are the larger of its sides: order-independent, so files from
// different hosts can be imported in any order, and bounded in memory.
package analysis

import (
	"net/netip"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Defaults for Options.
const (
	DefaultIdleTimeout = 24 * time.Hour
	DefaultMaxOpen     = 1 << 20
	DefaultSamples     = 3
)

// Options configure a Model. The zero value is valid.
type Options struct {
	// Monitored declares the protected set (the category or security
	// groups). Empty: it is learned from the logs (the side each line was
	// logged on).
	Monitored []netip.Prefix
	// IdleTimeout drops the state of a connection not logged for this long
	// (by that host's clock). A connection seen again later counts anew.
	IdleTimeout time.Duration
	// MaxOpen caps the connections tracked at once; the least recently
	// seen are dropped first.
	MaxOpen int
	// Samples is how many raw lines each conversation keeps as evidence.
	Samples int
	// Records keeps a SessionRecord of every session for a shared store
	// (TakeRecords). Off by default: it costs memory per open connection.
	Records bool
}

type addr = [16]byte

type convKey struct {
	src, dst addr
	dport    uint16
	proto    uint8
}

type sessKey struct {
	src, dst     addr
	host, group  uint32
	sport, dport uint16
	proto        uint8
	side         ingest.Direction
}

type session struct {
	conv     *conv
	last     [4]uint64 // orig pkts, orig bytes, reply pkts, reply bytes
	seen     int64     // unix seconds, by its host's clock
	host     uint32
	unans    bool // counted in its side's Unanswered
	matched  bool // NSX: a match line opened it
	hasCount bool
	rec      *record // with Options.Records
}

// Model aggregates events into conversations. It is safe for concurrent use:
// writers serialise on a mutex, and Conversations returns copies.
type Model struct {
	mu       sync.Mutex
	opts     Options
	strs     stringTable
	convs    map[convKey]*conv
	open     map[sessKey]*session
	spare    []*session        // forgotten sessions, reused by startSession
	clocks   []int64           // per host id: the latest event time it logged (unix s)
	ruleTags map[uint32]uint32 // NSX "rule X" label → tag seen on the same rule
	ruleIDs  map[ruleRef]uint32
	labels   [64]labelCache
	sweepAt  int
	events   int64
	sessions int64
	expired  int64
	recs     recorder // with Options.Records
}

type ruleRef struct{ set, id string }

// NewModel returns an empty Model.
func NewModel(opts Options) *Model {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxOpen <= 0 {
		opts.MaxOpen = DefaultMaxOpen
	}
	if opts.Samples <= 0 {
		opts.Samples = DefaultSamples
	}
	return &Model{
		opts:     opts,
		strs:     newStringTable(),
		convs:    make(map[convKey]*conv),
		open:     make(map[sessKey]*session),
		ruleTags: make(map[uint32]uint32),
		ruleIDs:  make(map[ruleRef]uint32),
		sweepAt:  min(1<<16, opts.MaxOpen),
	}
}

// Add records one event.
func (m *Model) Add(ev *ingest.Event) {
	m.mu.Lock()
	m.add(ev)
	m.mu.Unlock()
}

// AddBatch records events in order, taking the lock once.
func (m *Model) AddBatch(evs []ingest.Event) {
	m.mu.Lock()
	for i := range evs {
		m.add(&evs[i])
	}
	m.mu.Unlock()
}

func (m *Model) add(ev *ingest.Event) {
	if !ev.Src.IsValid() || !ev.Dst.IsValid() {
		return
	}
	m.events++
	now := int64(0)
	host := m.strs.id(ev.Host)
	for int(host) >= len(m.clocks) {
		m.clocks = append(m.clocks, 0)
	}
	if !ev.Time.IsZero() {
		now = ev.Time.Unix()
		m.clocks[host] = max(m.clocks[host], now)
	}
	var group uint32
	if ev.Vendor == ingest.Nutanix {
		group = m.strs.id(ev.PolicyID)
	}
	k := sessKey{src: ev.Src.As16(), dst: ev.Dst.As16(), host: host, group: group,
		sport: ev.SPort, dport: ev.DPort, proto: ev.Proto, side: ev.Direction}
	s := m.open[k]
	if s != nil && now != 0 && now-s.seen > int64(m.opts.IdleTimeout/time.Second) {
		m.forget(k, s) // idle too long: a new connection on the same ports
		m.expired++
		s = nil
	}
	var c *conv
	if s != nil {
		c = s.conv
	} else {
		c = m.conversation(ev)
	}
	sampled := len(c.samples)
	c.observe(ev, m, host)
	var ended bool
	if ev.Vendor == ingest.Nutanix {
		s, ended = m.nutanix(k, s, c, ev, now)
	} else {
		s, ended = m.nsx(k, s, c, ev, now)
	}
	if s.rec != nil {
		m.noteLine(s, c, ev, len(c.samples) > sampled)
	}
	switch {
	case ended:
		m.forget(k, s)
	case now > s.seen:
		s.seen = now
	}
	if len(m.open) >= m.sweepAt {
		m.sweep()
	}
}

// nutanix applies a hit-log line to its session, which it returns with
// whether the line ended it. Counters are cumulative per connection: only
// their growth is added. A [New] line, or counters that went down, start a
// new session; [Destroy] ends it.
func (m *Model) nutanix(k sessKey, s *session, c *conv, ev *ingest.Event, now int64) (*session, bool) {
	cur := [4]uint64{ev.OrigPkts, ev.OrigBytes, ev.ReplyPkts, ev.ReplyBytes}
	if s != nil && ev.HasCounters && s.hasCount && shrank(s.last, cur) {
		if now != 0 && now < s.seen {
			return s, false // an older report of the same connection (files read out of order)
		}
		s = nil // the counters restarted: a new connection on the same ports
	}
	if s != nil && ev.Kind == ingest.KindNew {
		s = nil
	}
	if s == nil {
		s = m.startSession(k, c, ev, now)
	}
	if ev.HasCounters {
		c.addCounters(ev.Direction, s, cur)
	} else if !s.hasCount {
		c.markUnanswered(ev.Direction, s, blocked(ev.Action))
	}
	return s, ev.Kind == ingest.KindDestroy
}

// nsx applies a match or TERM line to its session, which it returns with
// whether the line ended it. A match line opens a session at its filter; a
// TERM line closes it with the counters. A second match for an open session
// is another session (NSX logs every dropped packet, for one).
func (m *Model) nsx(k sessKey, s *session, c *conv, ev *ingest.Event, now int64) (*session, bool) {
	if ev.Kind == ingest.KindMatch {
		s = m.startSession(k, c, ev, now)
		s.matched = true
		c.markUnanswered(ev.Direction, s, blocked(ev.Action))
		return s, false
	}
	if s == nil || !s.matched {
		s = m.startSession(k, c, ev, now)
	}
	if ev.HasCounters {
		c.addCounters(ev.Direction, s, [4]uint64{ev.OrigPkts, ev.OrigBytes, ev.ReplyPkts, ev.ReplyBytes})
	}
	return s, true
}

func (m *Model) startSession(k sessKey, c *conv, ev *ingest.Event, now int64) *session {
	m.sessions++
	if old := m.open[k]; old != nil && old.rec != nil {
		m.closeRecord(old) // replaced: a new connection on the same ports
	}
	var s *session
	if n := len(m.spare); n > 0 { // recycled: connections are short-lived
		s, m.spare = m.spare[n-1], m.spare[:n-1]
		*s = session{conv: c, host: k.host, seen: now}
	} else {
		s = &session{conv: c, host: k.host, seen: now}
	}
	m.open[k] = s
	c.side(ev.Direction).newSession(now)
	if m.opts.Records {
		s.rec = m.newRecord(k, c, ev, now)
	}
	return s
}

// forget drops the state of connection k and keeps s for reuse.
func (m *Model) forget(k sessKey, s *session) {
	if s.rec != nil {
		m.closeRecord(s)
	}
	delete(m.open, k)
	if len(m.spare) < 4096 {
		m.spare = append(m.spare, s)
	}
}

func shrank(prev, cur [4]uint64) bool {
	for i := range prev {
		if cur[i] < prev[i] {
			return true
		}
	}
	return false
}

func blocked(a ingest.Action) bool { return a == ingest.ActionDrop || a == ingest.ActionReject }

// sweep forgets connections idle for longer than the timeout, by the clock of
// the host that logged them, and the oldest ones when over MaxOpen.
func (m *Model) sweep() {
	idle := int64(m.opts.IdleTimeout / time.Second)
	for len(m.open) > 0 {
		for k, s := range m.open {
			if m.clocks[s.host]-s.seen > idle {
				m.forget(k, s)
				m.expired++
			}
		}
		if len(m.open) < m.opts.MaxOpen*3/4 || idle == 0 {
			break
		}
		idle /= 2 // still too many: drop the older half of what is left
	}
	m.sweepAt = max(2*len(m.open), 1<<16)
	if m.sweepAt > m.opts.MaxOpen {
		m.sweepAt = m.opts.MaxOpen
	}
}

func (m *Model) conversation(ev *ingest.Event) *conv {
	k := convKey{src: ev.Src.As16(), dst: ev.Dst.As16(), proto: ev.Proto, dport: ev.DPort}
	if ev.Proto == ingest.ProtoICMP || ev.Proto == ingest.ProtoICMPv6 {
		k.dport = 0
		if ev.HasICMP {
			k.dport = uint16(ev.ICMPType)
		}
	}
	c := m.convs[k]
	if c == nil {
		c = &conv{key: k, v4: ev.Src.Is4()}
		m.convs[k] = c
	}
	return c
}

// label returns the id of the tag an event belongs to, learning which NSX
// rules carry which tag so that untagged TERM lines join their group.
func (m *Model) label(ev *ingest.Event) uint32 {
	if ev.Vendor == ingest.Nutanix {
		return m.strs.id(ev.Policy)
	}
	slot := &m.labels[(int(ingest.QuickHash(ev.Rule))+len(ev.Tag))%len(m.labels)]
	if slot.set == ev.RuleSet && slot.rule == ev.Rule && slot.tag == ev.Tag && slot.rule != "" {
		return slot.id
	}
	id := m.nsxLabel(ev)
	*slot = labelCache{set: ev.RuleSet, rule: ev.Rule, tag: ev.Tag, id: id}
	return id
}

// labelCache remembers the label of a recent (rule set, rule, tag).
type labelCache struct {
	set, rule, tag string
	id             uint32
}

func (m *Model) nsxLabel(ev *ingest.Event) uint32 {
	ref := ruleRef{ev.RuleSet, ev.Rule}
	rule, ok := m.ruleIDs[ref]
	if !ok {
		rule = m.strs.id(ingest.RuleLabel(ev.RuleSet, ev.Rule))
		m.ruleIDs[ref] = rule
	}
	if ev.Tag == "" {
		return rule
	}
	tag := m.strs.id(ev.Tag)
	m.ruleTags[rule] = tag
	return tag
}

// Stats is a summary of what a Model holds.
type Stats struct {
	Events        int64 // events added
	Sessions      int64 // sessions seen (each side of a twice-logged connection counts)
	Conversations int
	Open          int   // connections tracked right now
	Expired       int64 // connection states dropped by age or by MaxOpen
}

// Stats returns the Model's counters.
func (m *Model) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Events: m.events, Sessions: m.sessions, Conversations: len(m.convs),
		Open: len(m.open), Expired: m.expired}
}

// stringTable interns strings as small ids; id 0 is "".
type stringTable struct {
	names []string
	ids   map[string]uint32
	cache [256]uint32 // direct-mapped by quickHash: recently used ids
}

func newStringTable() stringTable {
	return stringTable{names: []string{""}, ids: map[string]uint32{"": 0}}
}

func (t *stringTable) id(s string) uint32 {
	if s == "" {
		return 0
	}
	// The parser shares one copy of each repeated string, so this comparison
	// mostly succeeds on pointer equality without reading the bytes.
	slot := &t.cache[ingest.QuickHash(s)]
	if t.names[*slot] == s {
		return *slot
	}
	id, ok := t.ids[s]
	if !ok {
		id = uint32(len(t.names))
		t.names = append(t.names, s)
		t.ids[s] = id
	}
	*slot = id
	return id
}
