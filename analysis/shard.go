package analysis

import (
	"encoding/binary"
	"math"
	"slices"
	"time"
	"unsafe"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// shard is one part of a Model: the conversations of some pairs of hosts,
// and their open connections in a table without pointers, so that a
// million of them cost tens of megabytes and nothing to the garbage
// collector's scans.
type shard struct {
	opts     *Options
	idx      int
	strs     stringTable
	names    []string   // the names of the Flows being added (ingest.Batch.Names)
	xlat     []nameXlat // per Name of names: its id in strs, when of this epoch
	epoch    uint32     // of names
	convs    convIndex
	blocks   [][]ConvState         // conversation i is blocks[i/convBlock][i%convBlock]
	nconv    int                   // conversations
	taken    []uint8               // per conversation: sample lines taken, also those a Drain handed
	hot      []convHot             // per conversation: what observe need not look for
	spill    *sampleFile           // with Options.SampleFile: the sample lines
	spilled  [][]sampleRef         // with Options.SampleFile: per conversation, where its lines are
	open     *table                // in Model.tables
	big      map[openKey][4]uint64 // counters of open connections that do not fit in 32 bits
	recs     map[openKey][]*record // with Options.Records: the records of a key's open sessions, oldest first
	points   Interner[point]
	pointMRU [64]uint32 // recently used point ids plus one, by hash
	v6       map[addr]uint32
	clocks   []int64           // per host id: the latest event time it logged (unix s)
	ruleTags map[uint32]ruleAt // NSX "rule X" label → the tag seen on the same rule
	ruleIDs  map[ruleRef]uint32
	labels   [64]labelCache
	sweepAt  int
	sweeps   int // how many times the table was swept
	maxOpen  int
	scratch  []uint32 // evict's

	hours       []uint64 // sessions started since foldHours: conversation<<32 | hour<<2 | side
	hourEntries int      // the entries of the conversations' Hourly lists, folded (HeldHours)

	openSessions int // sessions open: the sum of the keys' n
	events       int64
	sessions     int64
	expired      int64
	recorder     recorder // with Options.Records
}

type ruleRef struct{ set, id uint32 } // ids in strs

// nameXlat is the id in a shard's strs of a Name of the batch it adds.
type nameXlat struct{ id, epoch uint32 }

// ruleAt is the tag of a rule and the time of the latest line that showed it.
type ruleAt struct {
	tag uint32
	at  int64 // unix ns; 0: no time
}

// minSweep is how many open keys a shard holds before its first sweep.
const minSweep = 1 << 12

func (sh *shard) init(opts *Options, idx int, open *table) {
	open.free()
	*sh = shard{opts: opts, idx: idx, open: open, strs: newStringTable(),
		ruleTags: make(map[uint32]ruleAt),
		ruleIDs:  make(map[ruleRef]uint32), maxOpen: max(1, opts.MaxOpen/numShards)}
	sh.sweepAt = min(minSweep, sh.maxOpen)
	if opts.Records {
		sh.recs = make(map[openKey][]*record)
	}
}

// hostClock returns the slot of host's clock.
func (sh *shard) hostClock(host uint32) *int64 {
	for int(host) >= len(sh.clocks) {
		sh.clocks = append(sh.clocks, 0)
	}
	return &sh.clocks[host]
}

// add records one line, f, whose text is raw and whose names are names.
func (sh *shard) add(f *ingest.Flow, names []string, raw []byte) {
	sh.useNames(names)
	var p prep
	sh.prepare(&p, f, raw)
	sh.apply(&p)
}

// prefetchAhead is how many events ahead addAhead asks for an event's
// cache lines.
const prefetchAhead = 4

// addBatch records the lines idx of fs, in order; their RawOff index data,
// their Names names.
func (sh *shard) addBatch(fs []ingest.Flow, names []string, idx []int32, data []byte) {
	sh.useNames(names)
	sh.addAhead(fs, idx, data, len(sh.open.slots) >= farSlots)
}

// addAhead prepares each event keyAhead events before it applies it, and
// convAhead events before, looks its connection up and asks for the cache
// lines of its conversation (the open connection's, or else the one its
// key names in the map): prepare reads no state that apply changes (the
// interned ids and points only grow), and conversations only grow while a
// batch is applied (Drain holds the Model's lock), so the key computed
// early is the key apply would compute and a conversation found early is
// the one apply would find. The conversation's miss, a line's largest
// (360 bytes, read and written by every line), then overlaps the work on
// the lines before. A table of farSlots slots or more is past the
// processor's caches: with far, the event's table slot is asked for at
// once too. (For a smaller table that asking costs more than it saves:
// NSX sessions end with their TERM line, and its tables stay small.)
func (sh *shard) addAhead(fs []ingest.Flow, idx []int32, data []byte, far bool) {
	var ring [keyAhead]prep // ring[j%keyAhead]: line j prepared
	for j := 0; j < min(prefetchAhead, len(idx)); j++ {
		prefetchFlow(unsafe.Pointer(&fs[idx[j]]))
	}
	for j := 0; j < len(idx)+keyAhead; j++ {
		p := &ring[j%keyAhead]
		if j >= keyAhead {
			sh.apply(p)
		}
		if m := j - convAhead; m >= 0 && m < len(idx) {
			sh.prefetchConv(&ring[m%keyAhead])
		}
		if j >= len(idx) {
			continue
		}
		if j+prefetchAhead < len(idx) {
			prefetchFlow(unsafe.Pointer(&fs[idx[j+prefetchAhead]]))
		}
		f := &fs[idx[j]]
		sh.prepare(p, f, data[f.RawOff:f.RawOff+f.RawLen])
		if far {
			sh.open.prefetch(p.k)
		}
		sh.convs.prefetch(&p.ck)
	}
}

// The depths of addAhead's look-ahead, in events.
const (
	keyAhead  = 8
	convAhead = keyAhead / 2
)

// prep is a line with its connection's key and, when addAhead looked them
// up, its connection's slot in the table or else its conversation's index
// in the map (each plus one; 0: not looked up, or not found).
type prep struct {
	f        *ingest.Flow
	raw      []byte
	k        openKey
	host     uint32
	src, dst addr
	ci       uint32
	at       int32 // where prefetchConv found the connection in the table, plus one; 0: not found
	ck       Key   // the conversation's
}

// prefetchConv asks for the cache lines of the conversation of p's
// connection, or else of the one its key names, and keeps in p where it
// found the connection, or else the conversation's index, for apply (which
// looks the connection up again only if a line between moved it).
func (sh *shard) prefetchConv(p *prep) {
	var ci uint32
	if v, at := sh.open.peek(p.k); v != nil {
		ci, p.at = v.ci, int32(at)
	} else {
		i, ok := sh.convs.get(&p.ck)
		if !ok {
			return
		}
		ci, p.ci = i, i+1
	}
	c := unsafe.Pointer(sh.conv(ci))
	prefetch(c)
	prefetch(unsafe.Add(c, 192)) // ConvState is 360 bytes: six lines
	prefetchLine(unsafe.Pointer(&sh.hot[ci]))
}

// useNames makes names the table of the Names of the lines added next.
func (sh *shard) useNames(names []string) {
	sh.names = names
	if sh.epoch++; sh.epoch == 0 {
		clear(sh.xlat)
		sh.epoch = 1
	}
	if len(sh.xlat) < len(names) {
		sh.xlat = append(sh.xlat, make([]nameXlat, len(names)-len(sh.xlat))...)
	}
}

// nameID returns the id in strs of name n of the lines being added: a
// batch's lines repeat a few names, each looked up once per batch.
func (sh *shard) nameID(n ingest.Name) uint32 {
	x := &sh.xlat[n]
	if x.epoch != sh.epoch {
		*x = nameXlat{id: sh.strs.id(sh.names[n]), epoch: sh.epoch}
	}
	return x.id
}

// prepare fills p with line f, whose text is raw, in place: a prep built
// apart and returned was copied through the stack in parts, and each
// larger load of what a smaller store had just written stalled.
func (sh *shard) prepare(p *prep, f *ingest.Flow, raw []byte) {
	p.f, p.raw, p.ci, p.at = f, raw, 0, 0
	p.host = sh.nameID(f.Host)
	p.src, p.dst = f.Src, f.Dst
	nutanix := f.Vendor == ingest.Nutanix
	pt := sh.keyOf(&p.k, &p.src, &p.dst, f.SPort, f.DPort, nutanix)
	pt.host, pt.side, pt.proto = p.host, f.Direction, f.Proto
	if nutanix {
		pt.group = sh.nameID(f.Set)
	}
	p.k.point = sh.pointID(pt)
	sh.convKeyOf(&p.ck, f, &p.src, &p.dst)
}

func (sh *shard) apply(p *prep) {
	f := p.f
	sh.events++
	now := int64(0)
	if f.Bits&ingest.FlowTime != 0 {
		now = f.Sec
		clock := sh.hostClock(p.host)
		*clock = max(*clock, now)
	}
	var s step // zeroed in place and filled: a literal was built apart and copied
	s.k, s.f, s.raw, s.now = p.k, f, p.raw, now
	if s.vp = sh.open.getAt(p.k, int(p.at)); s.vp != nil {
		s.v, s.ok = *s.vp, true
		if now != 0 && now-unpackSeen(s.v.seen) > sh.timeout(p.k.point, s.v.flags) {
			sh.drop(p.k, &s.v) // idle too long: a new connection on the same ports
			sh.expired++
			s.vp, s.ok = nil, false
		}
	}
	if !s.ok {
		ci := p.ci - 1
		if p.ci == 0 {
			ci = sh.conversation(&p.ck, f.Bits&ingest.FlowSrc4 != 0)
		}
		s.v = openVal{ci: ci}
	}
	s.c = sh.conv(s.v.ci)
	sh.observe(s.v.ci, s.c, f, p.host)
	s.sampled = sh.sample(s.v.ci, s.c, p.raw)
	if f.Vendor == ingest.Nutanix {
		sh.nutanix(&s)
	} else {
		sh.nsx(&s)
	}
	if sh.open.len() >= sh.sweepAt {
		sh.sweep()
	}
}

// store writes the state of s's connection back to the table.
func (sh *shard) store(s *step) {
	if s.vp == nil {
		s.vp = sh.open.put(s.k)
	}
	// Field by field: a copy of the whole value read back in 16 bytes what
	// the line had just written in fewer, and waited for those stores.
	vp, v := s.vp, &s.v
	vp.ci, vp.seen, vp.n, vp.flags = v.ci, v.seen, v.n, v.flags
	vp.last[0], vp.last[1], vp.last[2], vp.last[3] = v.last[0], v.last[1], v.last[2], v.last[3]
}

// remove deletes s's connection from the table.
func (sh *shard) remove(s *step) {
	if s.vp != nil {
		sh.open.delVal(s.vp)
		s.vp = nil
	}
}

// step is one line being applied to its connection.
type step struct {
	k       openKey
	v       openVal
	vp      *openVal // its slot in the table, when there is one
	ok      bool     // v is the connection's state (else it starts now)
	c       *ConvState
	f       *ingest.Flow
	raw     []byte // f's line
	now     int64
	sampled bool // c kept the line as evidence
}

// keyOf sets k to the key of a connection but its point, and returns the
// point's address flags.
func (sh *shard) keyOf(k *openKey, src, dst *addr, sport, dport uint16, nutanix bool) point {
	k.sport, k.dport = sport, dport
	var p point
	if nutanix {
		p.flags |= pNutanix
	}
	var v6 bool
	if k.src, v6 = sh.addrID(src); v6 {
		p.flags |= pSrc6
	}
	if k.dst, v6 = sh.addrID(dst); v6 {
		p.flags |= pDst6
	}
	return p
}

// addrID returns an IPv4 address as its 32 bits, an IPv6 one as its id in
// the shard (true).
func (sh *shard) addrID(a *addr) (uint32, bool) {
	if binary.LittleEndian.Uint64(a[:8]) == 0 && binary.LittleEndian.Uint32(a[8:12]) == 0xffff0000 {
		return binary.BigEndian.Uint32(a[12:]), false
	}
	if sh.v6 == nil {
		sh.v6 = make(map[addr]uint32)
	}
	id, ok := sh.v6[*a]
	if !ok {
		id = uint32(len(sh.v6))
		sh.v6[*a] = id
	}
	return id, true
}

func (sh *shard) pointID(p point) uint32 {
	slot := &sh.pointMRU[(p.host*0x9e3779b1^p.group*0x85ebca77^uint32(p.side)<<9^uint32(p.proto)<<1^uint32(p.flags))&63]
	if *slot != 0 && sh.points.vals[*slot-1] == p {
		return *slot - 1
	}
	id := sh.points.ID(p)
	*slot = id + 1
	return id
}

// timeout returns, in seconds, how long a connection of point p in state
// flags may go unlogged.
func (sh *shard) timeout(p uint32, flags uint8) int64 {
	if sh.opts.IdleTimeout > 0 {
		return int64(sh.opts.IdleTimeout / time.Second)
	}
	pt := &sh.points.vals[p]
	return timerSecs(pt.flags&pNutanix != 0, pt.proto, flags&fUnans != 0) + int64(Grace/time.Second)
}

// convKeyOf sets k to the key of f's conversation.
func (sh *shard) convKeyOf(k *Key, f *ingest.Flow, src, dst *addr) {
	k.Src, k.Dst, k.Proto, k.DPort = *src, *dst, f.Proto, f.DPort
	if f.Proto == ingest.ProtoICMP || f.Proto == ingest.ProtoICMPv6 {
		k.DPort = 0
		if f.Bits&ingest.FlowICMP != 0 {
			k.DPort = uint16(f.ICMPType)
		}
	}
}

// conversation returns the index of the conversation of key k (its
// addresses IPv4 when v4), made if new.
func (sh *shard) conversation(k *Key, v4 bool) uint32 {
	if i, ok := sh.convs.get(k); ok {
		return i
	}
	return sh.newConv(*k, v4)
}

// nutanix applies a hit-log line to its connection. Counters are cumulative
// per connection: only their growth is added. A [New] line, or counters that
// went down, start a new session; [Destroy] ends it.
func (sh *shard) nutanix(s *step) {
	f := s.f
	cur := &f.Counts
	counted := f.Bits&ingest.FlowCounters != 0
	if s.ok && counted && s.v.flags&fCounted != 0 && sh.shrank(&s.k, &s.v, cur) {
		if s.now != 0 && s.now < unpackSeen(s.v.seen) {
			sh.noteOpen(s) // an older report of the same connection (files read out of order)
			return
		}
		sh.end(s.k, &s.v) // the counters restarted: a new connection on the same ports
		s.ok = false
	}
	if s.ok && f.Kind == ingest.KindNew {
		sh.end(s.k, &s.v)
		s.ok = false
	}
	if !s.ok {
		s.v = openVal{ci: s.v.ci, n: 1}
		sh.openSessions++
		if r := sh.start(s.k, s.v.ci, s.c, f, s.now); r != nil {
			sh.recs[s.k] = []*record{r}
		}
	}
	side := s.c.side(f.Direction)
	if counted {
		sh.addCounters(&s.k, &s.v, side, cur)
	} else if s.v.flags&fCounted == 0 {
		markUnanswered(side, &s.v, blocked(f.Action))
	}
	sh.noteOpen(s)
	if f.Kind == ingest.KindDestroy {
		sh.end(s.k, &s.v)
		sh.remove(s)
		return
	}
	s.v.seen = max(s.v.seen, packSeen(s.now))
	sh.store(s)
}

// nsx applies a match or TERM line. Each match line opens a session at its
// filter, and each TERM line closes one open session of its key, the oldest
// (with its counters), or else is a session of its own: two pings at once
// between the same hosts are two sessions. A match whose packet was dropped
// is a whole session: the firewall keeps no state for it, and no TERM
// follows (NSX logs every dropped packet).
func (sh *shard) nsx(s *step) {
	f := s.f
	side := s.c.side(f.Direction)
	if f.Kind == ingest.KindMatch {
		r := sh.start(s.k, s.v.ci, s.c, f, s.now)
		if blocked(f.Action) {
			side.Unanswered++
			if r != nil {
				sh.noteRecord(r, s)
				sh.closeRecord(r, [4]uint64{}, true)
			}
			return
		}
		if !s.ok {
			s.v = openVal{ci: s.v.ci, flags: fMatched}
		}
		if s.v.n < math.MaxUint16 {
			s.v.n++
			sh.openSessions++
		}
		s.v.seen = max(s.v.seen, packSeen(s.now))
		sh.store(s)
		if r != nil {
			sh.noteRecord(r, s)
			sh.recs[s.k] = append(sh.recs[s.k], r)
		}
		return
	}
	var r *record
	if s.ok && s.v.n > 0 {
		if rs := sh.recs[s.k]; len(rs) > 0 {
			r = rs[0]
			sh.recs[s.k] = rs[1:]
		}
		s.v.n--
		sh.openSessions--
		if s.v.n == 0 {
			sh.remove(s)
			delete(sh.recs, s.k)
		} else {
			sh.store(s)
		}
	} else {
		r = sh.start(s.k, s.v.ci, s.c, f, s.now) // a TERM without its match
	}
	var cur [4]uint64
	unans := false
	if f.Bits&ingest.FlowCounters != 0 {
		cur = f.Counts
		for i := range cur {
			side.Counts[i] += cur[i]
		}
		unans = cur[2] == 0
	}
	if unans {
		side.Unanswered++
	}
	if r != nil {
		sh.noteRecord(r, s)
		sh.closeRecord(r, cur, unans)
	}
}

// start counts a session of conversation ci (c) that starts with line f
// and returns its record (nil without Options.Records).
func (sh *shard) start(k openKey, ci uint32, c *ConvState, f *ingest.Flow, now int64) *record {
	sh.sessions++
	d := sideIndex(f.Direction)
	c.Sides[d].Sessions++
	if now != 0 && !sh.opts.NoHourly {
		sh.hours = append(sh.hours, uint64(ci)<<32|uint64(uint32(now/3600))<<2|uint64(d))
		if len(sh.hours) >= hourLog {
			sh.foldHours()
		}
	}
	if sh.recs == nil {
		return nil
	}
	return sh.newRecord(k, c, f, now)
}

// noteOpen adds line s to the record of the open session it belongs to.
func (sh *shard) noteOpen(s *step) {
	if rs := sh.recs[s.k]; len(rs) > 0 {
		sh.noteRecord(rs[0], s)
	}
}

// end closes the sessions open on key k (their records with their
// counters) and clears v; the caller deletes or replaces k.
func (sh *shard) end(k openKey, v *openVal) {
	if rs := sh.recs[k]; len(rs) > 0 {
		last := sh.lastOf(k, v)
		for _, r := range rs {
			sh.closeRecord(r, last, v.flags&fUnans != 0)
		}
		delete(sh.recs, k)
	}
	if v.flags&fBig != 0 {
		delete(sh.big, k)
	}
	sh.openSessions -= int(v.n)
	*v = openVal{ci: v.ci}
}

// drop forgets connection k.
func (sh *shard) drop(k openKey, v *openVal) {
	sh.end(k, v)
	sh.open.del(k)
}

// lastOf returns the cumulative counters of connection k.
func (sh *shard) lastOf(k openKey, v *openVal) [4]uint64 {
	var last [4]uint64
	sh.lastInto(&k, v, &last)
	return last
}

// lastInto sets *last to the cumulative counters of connection k. The
// line's path passes its arrays and key by pointer: copies of them went
// through the stack in parts, each read back whole before the parts
// reached the cache (a stall).
func (sh *shard) lastInto(k *openKey, v *openVal, last *[4]uint64) {
	if v.flags&fBig != 0 {
		*last = sh.big[*k]
		return
	}
	last[0], last[1], last[2], last[3] = uint64(v.last[0]), uint64(v.last[1]), uint64(v.last[2]), uint64(v.last[3])
}

// setLast stores the cumulative counters of connection k.
func (sh *shard) setLast(k *openKey, v *openVal, cur *[4]uint64) {
	if cur[0]|cur[1]|cur[2]|cur[3] <= math.MaxUint32 {
		v.last = [4]uint32{uint32(cur[0]), uint32(cur[1]), uint32(cur[2]), uint32(cur[3])}
		if v.flags&fBig != 0 {
			delete(sh.big, *k)
			v.flags &^= fBig
		}
		return
	}
	if sh.big == nil {
		sh.big = make(map[openKey][4]uint64)
	}
	sh.big[*k] = *cur
	v.last = [4]uint32{}
	v.flags |= fBig
}

// addCounters moves a connection's cumulative counters to cur, adding the
// growth to its side's totals.
func (sh *shard) addCounters(k *openKey, v *openVal, side *SideState, cur *[4]uint64) {
	var last [4]uint64
	sh.lastInto(k, v, &last)
	for i := range cur {
		if cur[i] > last[i] {
			side.Counts[i] += cur[i] - last[i]
		}
	}
	sh.setLast(k, v, cur)
	v.flags |= fCounted
	markUnanswered(side, v, cur[2] == 0)
}

// markUnanswered sets whether a connection is, so far, unanswered.
func markUnanswered(side *SideState, v *openVal, unans bool) {
	if unans == (v.flags&fUnans != 0) {
		return
	}
	if unans {
		side.Unanswered++
		v.flags |= fUnans
	} else {
		side.Unanswered--
		v.flags &^= fUnans
	}
}

// shrank reports whether a counter of connection k went below its last.
func (sh *shard) shrank(k *openKey, v *openVal, cur *[4]uint64) bool {
	var last [4]uint64
	sh.lastInto(k, v, &last)
	for i := range last {
		if cur[i] < last[i] {
			return true
		}
	}
	return false
}

func blocked(a ingest.Action) bool { return a == ingest.ActionDrop || a == ingest.ActionReject }

// sweep forgets connections idle for longer than their timeout, by the
// clock of the host that logged them, then the least recently seen ones
// while the shard holds more than its share of MaxOpen.
//
// Each sweep reads the whole table, so the next waits until the table has
// grown by an eighth of the cap at least: a sweep that leaves it fuller
// than that evicts down to three quarters. Evicting only a full table, a
// table at the cap that lost a few timed-out connections to each sweep
// was read again after as few lines: the next day of the short Nutanix
// lines (a million connections restored, most of them TCP, idle for 5
// days before they time out) swept 157 times instead of 37, a tenth of
// its CPU time.
func (sh *shard) sweep() {
	sh.sweeps++
	sh.open.deleteIf(func(k openKey, v *openVal) bool {
		if sh.clocks[sh.points.vals[k.point].host]-unpackSeen(v.seen) <= sh.timeout(k.point, v.flags) {
			return false
		}
		sh.end(k, v)
		sh.expired++
		return true
	})
	if sh.open.len() >= sh.maxOpen-sh.maxOpen/8 {
		sh.evict(sh.maxOpen * 3 / 4)
	}
	sh.sweepAt = min(max(2*sh.open.len(), minSweep), sh.maxOpen)
}

// evict forgets the least recently seen connections until at most keep are
// left: all those seen at or before a cut-off time, so that which go does
// not depend on the table's order.
func (sh *shard) evict(keep int) {
	seen := sh.scratch[:0]
	sh.open.each(func(_ openKey, v *openVal) { seen = append(seen, v.seen) })
	cut := nth(seen, len(seen)-keep-1)
	sh.scratch = seen
	sh.open.deleteIf(func(k openKey, v *openVal) bool {
		if v.seen > cut {
			return false
		}
		sh.end(k, v)
		sh.expired++
		return true
	})
}

// label returns the id of the tag a line belongs to, learning which NSX
// rules carry which tag so that untagged TERM lines join their group.
func (sh *shard) label(f *ingest.Flow) uint32 {
	if f.Vendor == ingest.Nutanix {
		return sh.nameID(f.Rule)
	}
	set, rule, tag := sh.nameID(f.Set), sh.nameID(f.Rule), sh.nameID(f.Tag)
	slot := &sh.labels[(rule*0x9E3779B1+tag*0x85EBCA77)>>26] // by the ids: 64 slots
	if slot.set == set && slot.rule == rule && slot.tag == tag && slot.rule != 0 {
		if tag != 0 && f.Bits&ingest.FlowTime != 0 {
			slot.at = max(slot.at, f.UnixNano())
		}
		return slot.id
	}
	sh.flushLabel(slot)
	ruleID, id := sh.nsxLabel(f, ruleRef{set, rule}, tag)
	*slot = labelCache{set: set, rule: rule, tag: tag, ruleID: ruleID, id: id}
	return id
}

// labelCache remembers the label of a recent (rule set, rule, tag), and the
// latest time a line showed that tag on that rule since ruleTags last did.
type labelCache struct {
	set, rule, tag uint32 // ids in strs (0: "")
	ruleID, id     uint32
	at             int64
}

// flushLabel records in ruleTags the latest time slot's tag was seen on its
// rule: the latest line's tag is the rule's.
func (sh *shard) flushLabel(slot *labelCache) {
	if slot.tag != 0 && slot.at != 0 {
		sh.tagRule(slot.ruleID, slot.id, slot.at)
		slot.at = 0
	}
}

func (sh *shard) tagRule(rule, tag uint32, at int64) {
	if old, ok := sh.ruleTags[rule]; !ok || at >= old.at {
		sh.ruleTags[rule] = ruleAt{tag, at}
	}
}

// nsxLabel returns the ids of f's "rule X" label and of its label; ref is
// f's set and rule, tag its tag (ids in strs).
func (sh *shard) nsxLabel(f *ingest.Flow, ref ruleRef, tag uint32) (rule, label uint32) {
	rule, ok := sh.ruleIDs[ref]
	if !ok {
		rule = sh.strs.id(ingest.RuleLabel(sh.names[f.Set], sh.names[f.Rule]))
		sh.ruleIDs[ref] = rule
	}
	if tag == 0 {
		return rule, rule
	}
	at := int64(0)
	if f.Bits&ingest.FlowTime != 0 {
		at = f.UnixNano()
	}
	sh.tagRule(rule, tag, at)
	return rule, tag
}

// convBlock is how many conversations a shard allocates at once, in 32 KiB
// (the largest size class): one allocation for many, no rounding up to a
// size class each, and no list of pointers to them. ConvState's small
// fields come first, so that it packs into 360 bytes.
const convBlock = int(32 << 10 / unsafe.Sizeof(ConvState{}))

// conv returns conversation i.
func (sh *shard) conv(i uint32) *ConvState { return &sh.blocks[int(i)/convBlock][int(i)%convBlock] }

// eachConv calls fn with every conversation and its index, in the order
// they came.
func (sh *shard) eachConv(fn func(i uint32, c *ConvState)) {
	sh.foldHours()
	for bi, b := range sh.blocks {
		for j := range b {
			fn(uint32(bi*convBlock+j), &b[j])
		}
	}
}

// newConv adds the conversation of key k (its addresses IPv4 when v4) and
// returns its index.
func (sh *shard) newConv(k Key, v4 bool) uint32 {
	if sh.nconv%convBlock == 0 {
		sh.blocks = append(sh.blocks, make([]ConvState, 0, convBlock))
	}
	b := &sh.blocks[len(sh.blocks)-1]
	*b = append(*b, ConvState{Src: toAddr(k.Src, v4), Dst: toAddr(k.Dst, v4), Proto: k.Proto, DPort: k.DPort})
	i := uint32(sh.nconv)
	sh.nconv++
	sh.convs.put(&k, i)
	taken := uint8(0)
	if sh.opts.Sated != nil && sh.opts.Sated(k) {
		taken = uint8(min(max(sh.opts.Samples, 0), 255)) // sample takes no more
	}
	sh.taken = append(sh.taken, taken)
	sh.hot = append(sh.hot, convHot{})
	if sh.spill != nil {
		sh.spilled = append(sh.spilled, nil)
	}
	return i
}

// sample keeps raw as a sample line of conversation i (c) unless it has
// taken Options.Samples already, in c or in Options.SampleFile, and reports
// whether it did.
func (sh *shard) sample(i uint32, c *ConvState, raw []byte) bool {
	if int(sh.taken[i]) >= sh.opts.Samples {
		return false
	}
	sh.taken[i]++
	if sh.spill != nil {
		sh.spilled[i] = append(sh.spilled[i], sh.spill.put(sh.idx, raw))
	} else {
		c.Samples = append(c.Samples, string(raw))
	}
	return true
}

// withSamples returns conversation i (c) as it is handed over: c itself, or
// with Options.SampleFile a copy holding the sample lines read back.
func (sh *shard) withSamples(i uint32, c *ConvState) *ConvState {
	if sh.spill == nil || len(sh.spilled[i]) == 0 {
		return c
	}
	st := *c
	st.Samples = sh.spill.get(sh.spilled[i])
	return &st
}

// observe records in c what every line adds, whatever its place in a
// session. Host and label names are the shard's interned copies, so that
// comparing them mostly compares pointers.
func (sh *shard) observe(ci uint32, c *ConvState, f *ingest.Flow, host uint32) {
	if f.Bits&ingest.FlowTime != 0 {
		t := f.UnixNano()
		if c.First == 0 || t < c.First {
			c.First = t
		}
		if t > c.Last {
			c.Last = t
		}
	}
	hot := &sh.hot[ci]
	if f.Host != 0 && hot.host != host+1 {
		if hot.host2 != host+1 {
			if h := sh.strs.Value(host); !slices.Contains(c.Hosts, h) {
				c.Hosts = append(c.Hosts, h)
			}
		}
		hot.host, hot.host2 = host+1, hot.host
	}
	if f.Action != ingest.ActionUnknown {
		c.Actions |= 1 << f.Action
	}
	c.Vendors |= 1 << f.Vendor
	c.Origins |= origin(f)
	label, side := sh.label(f), uint8(1)<<f.Direction
	if hot.label != label+1 && hot.label2 == label+1 {
		hot.label, hot.label2, hot.sides, hot.sides2 = hot.label2, hot.label, hot.sides2, hot.sides
	}
	if hot.label != label+1 || hot.sides&side == 0 {
		addLabel(c, sh.strs.Value(label), f.Direction)
		if hot.label != label+1 {
			hot.label2, hot.sides2 = hot.label, hot.sides
			hot.label, hot.sides = label+1, 0
		}
		hot.sides |= side
	}
}

// convHot is what a conversation's lists are known to hold already, so that
// the line after a line of the same host or label (most lines) need not
// read them: each list is a slice of its own, a cache miss away.
type convHot struct {
	host  uint32 // a host in the conversation's Hosts, its id in strs plus one; 0: none
	host2 uint32 // another: an NSX session's lines alternate between two hosts' vNICs
	label uint32 // a label in its Labels, its id plus one; 0: none
	sides uint8  // sides that label has at least
	// the label before: an NSX session's IN and OUT lines often carry two
	label2 uint32
	sides2 uint8
}

// addLabel notes that a line on side d carried label name.
func addLabel(c *ConvState, name string, d ingest.Direction) {
	for i := range c.Labels {
		if c.Labels[i].Name == name {
			c.Labels[i].Sides |= 1 << d
			return
		}
	}
	c.Labels = append(c.Labels, LabelState{Name: name, Sides: 1 << d})
}

// newRecord starts the record of a session that starts with line f.
func (sh *shard) newRecord(k openKey, c *ConvState, f *ingest.Flow, now int64) *record {
	id := sh.recorder.base + sh.recorder.n*numShards + uint64(sh.idx) + 1
	sh.recorder.n++
	return &record{SessionRecord: SessionRecord{
		ID: id, Host: sh.strs.Value(sh.points.vals[k.point].host),
		Src: c.Src, Dst: c.Dst, Proto: c.Proto, DPort: c.DPort,
		SPort: k.sport, Side: f.Direction, Start: now,
	}}
}

// noteRecord adds what line s tells of its session, whose record is r:
// s.sampled says the conversation kept the line as evidence.
func (sh *shard) noteRecord(r *record, s *step) {
	f, c := s.f, s.c
	r.Version++
	r.dirty = true
	if f.Bits&ingest.FlowTime != 0 {
		t := f.UnixNano()
		if r.First == 0 || t < r.First {
			r.First = t
		}
		r.Last = max(r.Last, t)
	}
	if f.Action != ingest.ActionUnknown {
		r.Actions |= 1 << f.Action
	}
	r.Vendors |= 1 << f.Vendor
	if l := sh.strs.Value(sh.label(f)); !slices.Contains(r.Labels, l) {
		r.Labels = append(r.Labels, l)
	}
	if s.sampled && len(c.Samples) > 0 {
		r.Samples = append(r.Samples, c.Samples[len(c.Samples)-1])
	} else if s.sampled {
		r.Samples = append(r.Samples, string(s.raw)) // in Options.SampleFile
	}
}

// closeRecord keeps the final record of a session that is ending.
func (sh *shard) closeRecord(r *record, counts [4]uint64, unans bool) {
	r.Version++
	r.Closed = true
	sh.recorder.closed = append(sh.recorder.closed, taken(r, counts, unans))
}

// shardOfFlow returns the shard of a Model that line f belongs to: by its
// source, destination and protocol. It is safe for concurrent use, for
// ingest.WithShards.
func shardOfFlow(f *ingest.Flow) int { return shardOfAddrs(f.Src, f.Dst, f.Proto) }

func shardOfAddrs(s, d addr, proto uint8) int {
	h := binary.LittleEndian.Uint64(s[8:]) ^ binary.LittleEndian.Uint64(s[:8])*0xff51afd7ed558ccd
	h ^= (binary.LittleEndian.Uint64(d[8:]) ^ binary.LittleEndian.Uint64(d[:8])*0xc4ceb9fe1a85ec53) * 0x9e3779b97f4a7c15
	h ^= uint64(proto)
	h *= 0x9e3779b97f4a7c15
	return int(h >> 60) // numShards = 16
}

// hourLog is how many session starts a shard notes before it adds them to
// their sides' Hourly lists (foldHours): 128 KiB a shard. A variable for
// tests.
var hourLog = 1 << 14

// foldHours adds the sessions started since it last ran to their sides'
// Hourly lists. Each list is a cache miss away from its conversation: on
// the line that started the session, the miss held the line up; here, in
// a loop that does nothing else, each side and list is asked for a few
// sessions ahead. (Sorted first, the sessions of a side and hour became
// one addition, but the sort cost more than it saved.) A shard folds
// before anything reads the lists: everything that reads conversations
// goes through eachConv, a drain too (which hands them over before it
// moves them: the noted hours name them by their indices).
func (sh *shard) foldHours() {
	hs := sh.hours
	for i, e := range hs {
		if k := i + foldAhead; k < len(hs) {
			prefetchLine(unsafe.Pointer(&sh.hourSide(hs[k]).Hourly))
		}
		if k := i + foldAhead/2; k < len(hs) {
			if l := sh.hourSide(hs[k]).Hourly; len(l) > 0 {
				prefetchLine(unsafe.Pointer(&l[len(l)-1]))
			}
		}
		s := sh.hourSide(e)
		n := len(s.Hourly)
		s.Hourly = addHour(s.Hourly, int32(uint32(e)>>2), 1)
		sh.hourEntries += len(s.Hourly) - n
	}
	sh.hours = hs[:0]
}

// foldAhead is how many sessions ahead foldHours asks for their sides.
const foldAhead = 16

// hourSide returns the side of a session noted in shard.hours.
func (sh *shard) hourSide(e uint64) *SideState { return &sh.conv(uint32(e >> 32)).Sides[e&3] }
