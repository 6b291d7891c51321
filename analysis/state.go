package analysis

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"sync"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// EachState calls fn with the state of every conversation, in key order
// (source, destination, protocol, port as stored), one at a time: unlike
// States it holds no second copy of the model. fn must neither keep nor
// change the state, whose lists are the model's. The model is locked
// meanwhile.
func (m *Model) EachState(fn func(*ConvState) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.eachState(func(st *ConvState, _ *shard, _ uint32) error { return fn(st) })
}

// convRef is a conversation, its shard and its index there.
type convRef struct {
	c  *ConvState
	i  uint32
	sh uint8
}

// eachState is EachState, also handing each conversation's shard and index
// in it; the caller holds m.mu.
func (m *Model) eachState(fn func(st *ConvState, sh *shard, i uint32) error) error {
	convs := m.sortedConvs(1) // EachStateAndSession's sessions take the second core
	window := func(w int) []convRef { return convs[w:min(w+sampleWindow, len(convs))] }
	// The lines of a window are read into one of two buffers, in turn: fn
	// keeps none, and the next window's are read while fn handles this
	// one's. A string each window was a tenth of a commit's garbage.
	var bufs [2][]byte
	buf := func(w int) *[]byte { return &bufs[w/sampleWindow%2] }
	var next <-chan [][]string
	if len(convs) > 0 {
		next = m.samplesOf(window(0), buf(0))
	}
	var st ConvState // a state with its sample lines: fn keeps none, so one for all
	for w := 0; w < len(convs); w += sampleWindow {
		samples := <-next
		if next = nil; w+sampleWindow < len(convs) {
			next = m.samplesOf(window(w+sampleWindow), buf(w+sampleWindow))
		}
		for k, r := range window(w) {
			sh := &m.shards[r.sh]
			c := r.c
			if samples != nil && samples[k] != nil {
				st = *c
				st.Samples = samples[k]
				c = &st
			}
			if err := fn(c, sh, r.i); err != nil {
				if next != nil {
					<-next
				}
				return err
			}
		}
	}
	return m.spill.failed()
}

// sampleWindow is how many conversations' sample lines eachState reads
// from Options.SampleFile at once, in the file's order (sampleFile.getAll):
// about 1 KB each.
const sampleWindow = 4096

// sortedConvs returns every conversation, in key order; the caller holds m.mu.
// The keys are read once, beside the references, and sorted there: compared
// in their states, scattered over the shards' tables, each comparison
// missed the cache twice, and a commit's sort of 42,000 took 40-58 ms;
// sortedConvs now takes 11-16 ms, the sort (sortKeyed) 1.5-3 of them. The
// sorted elements hold no pointer: a commit sorts while the collector
// marks, when every move of a pointer went through its write barrier (15
// ms of a commit's CPU). The shards' hours are folded and their keys read
// on workers goroutines: a drain has the second core to itself (the
// pipeline waits), a commit's sessions take it (EachStateAndSession).
func (m *Model) sortedConvs(workers int) []convRef {
	var from [numShards + 1]int // where each shard's keys go in keyed
	for i := range m.shards {
		from[i+1] = from[i] + m.shards[i].nconv
	}
	keyed := make([]keyedRef, from[numShards])
	eachShard(workers, func(s int) {
		part := keyed[from[s]:from[s+1]]
		m.shards[s].eachConv(func(i uint32, c *ConvState) { part[i] = keyedRef{SortKeyOf(c), i, uint8(s)} })
	})
	sortKeyed(keyed)
	convs := make([]convRef, len(keyed))
	for i, r := range keyed {
		convs[i] = convRef{m.shards[r.sh].conv(r.i), r.i, r.sh}
	}
	return convs
}

// eachShard calls fn with the index of every shard, on workers goroutines
// (shards w, w+workers, … on the w-th), and returns when all are done.
func eachShard(workers int, fn func(s int)) {
	if workers <= 1 {
		for s := range numShards {
			fn(s)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for s := w; s < numShards; s += workers {
				fn(s)
			}
		})
	}
	wg.Wait()
}

// samplesOf starts reading the sample lines of win's conversations from
// Options.SampleFile into *reuse (sampleFile.getAll), on a goroutine of its
// own, and returns where they will be sent: nil lines without a file, or on
// an error. The caller holds m.mu, receives them, and uses *reuse for
// nothing else until it is done with them. A state's consumer (a
// workspace's commit, on one core) then waits for its lines less: reading
// them was an eighth of the commit's CPU on 42,000 conversations.
func (m *Model) samplesOf(win []convRef, reuse *[]byte) <-chan [][]string {
	out := make(chan [][]string, 1)
	if m.spill == nil {
		out <- nil
		return out
	}
	refs := make([]SampleRefs, len(win))
	for k, r := range win {
		refs[k] = m.shards[r.sh].spilled[r.i]
	}
	go func() { out <- m.spill.getAll(refs, reuse) }()
	return out
}

// States returns a copy of the raw state of every conversation, unordered.
func (m *Model) States() []ConvState {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i := range m.shards {
		n += m.shards[i].nconv
	}
	out := make([]ConvState, 0, n)
	for i := range m.shards {
		sh := &m.shards[i]
		sh.eachConv(func(j uint32, c *ConvState) { out = append(out, sh.withSamples(j, c).clone()) })
	}
	return out
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
			name, tag := sh.strs.Value(rule), sh.strs.Value(t.tag)
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
	return m.eachSession(fn)
}

// EachStateAndSession is EachState and EachSession at once, the model
// locked for both: sessions is called on a goroutine of its own, beside
// states, so that a consumer encoding both (a workspace's commit) keeps a
// second core busy while states wait for their sample lines. It returns
// the clocks and the first error of states, else of sessions.
func (m *Model) EachStateAndSession(states func(*ConvState) error, sessions func(*SessionState) error) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var clocks map[string]int64
	var serr error
	var wg sync.WaitGroup
	wg.Go(func() { clocks, serr = m.eachSession(sessions) })
	err := m.eachState(func(st *ConvState, _ *shard, _ uint32) error { return states(st) })
	wg.Wait()
	return clocks, cmp.Or(err, serr)
}

// eachSession is EachSession; the caller holds m.mu.
func (m *Model) eachSession(fn func(*SessionState) error) (map[string]int64, error) {
	clocks := make(map[string]int64)
	for i := range m.shards {
		sh := &m.shards[i]
		for id, t := range sh.clocks {
			if name := sh.strs.Value(uint32(id)); t != 0 && t > clocks[name] {
				clocks[name] = t
			}
		}
		var err error
		var st SessionState // one for all: fn does not keep it, and one each was 100 MB of garbage for 1.3 M
		sh.open.each(func(k openKey, v *openVal) {
			if err == nil {
				err = sh.eachSession(k, v, &st, fn)
			}
		})
		if err != nil {
			return clocks, err
		}
	}
	return clocks, nil
}

// Restore loads tracked sessions and host clocks saved by Sessions into
// an empty model, before new events are added.
func (m *Model) Restore(sessions []SessionState, clocks map[string]int64) {
	m.RestoreClocks(clocks)
	m.RestoreSessions(sessions)
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

// restoreBatch is how many sessions RestoreSessions places before it fills
// their slots.
const restoreBatch = 128

// restoring is where a session goes: its shard, its key in the shard's
// table of open connections and its conversation.
type restoring struct {
	sh *shard
	k  openKey
	ci uint32
}

// RestoreSessions loads tracked sessions saved by EachSession or Sessions,
// in order, before new events are added: sessions of one key add up. It
// places restoreBatch sessions (their conversations and keys), asking for
// each key's slot of the table as it goes, then fills the slots: a table of
// a million connections is larger than the processor's caches, and each
// slot looked for at once waited for memory (900,000 sessions, restored
// one at a time into a table grown a quarter at a time, took 1.5 s).
func (m *Model) RestoreSessions(sts []SessionState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var at [restoreBatch]restoring
	for lo := 0; lo < len(sts); lo += restoreBatch {
		batch := sts[lo:min(lo+restoreBatch, len(sts))]
		for i := range batch {
			at[i] = m.place(&batch[i])
		}
		for i := range batch {
			at[i].sh.restore(&at[i], &batch[i])
		}
	}
}

// place returns where st goes, making its conversation if it is new, and
// asks for the cache line of its slot.
func (m *Model) place(st *SessionState) restoring {
	src, dst := st.Src.As16(), st.Dst.As16()
	sh := &m.shards[shardOfAddrs(src, dst, st.Proto)]
	ck := Key{Src: src, Dst: dst, Proto: st.Proto, DPort: st.ConvDPort}
	ci, ok := sh.convs.get(&ck)
	if !ok {
		ci = sh.newConv(ck, st.Src.Is4())
	}
	r := restoring{sh: sh, ci: ci}
	// Nutanix connections are never opened by match lines.
	p := sh.keyOf(&r.k, &src, &dst, st.SPort, st.DPort, !st.Matched)
	p.host, p.group, p.side, p.proto = sh.strs.id(st.Host), sh.strs.id(st.Group), st.Side, st.Proto
	r.k.point = sh.pointID(p)
	sh.open.prefetch(r.k)
	return r
}

// restore adds session st to the open connections, where place put it.
func (sh *shard) restore(r *restoring, st *SessionState) {
	k := r.k
	v := sh.open.get(k)
	if v == nil {
		v = sh.open.put(k)
		*v = openVal{ci: r.ci, seen: packSeen(st.Seen)}
		sh.setLast(&k, v, &st.Last)
		if st.Unanswered {
			v.flags |= fUnans
		}
		if st.Matched {
			v.flags |= fMatched
		}
		if st.HasCounters {
			v.flags |= fCounted
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

// Table returns the model's conversations as a table, sorted by direction
// (INBOUND, OUTBOUND, INTRA, UNKNOWN), source, destination, protocol and
// port, with directions relative to the declared monitored set
// or else to the one learned from the logs. It holds the sample lines.
func (m *Model) Table() *Table {
	m.mu.Lock()
	n := 0
	for i := range m.shards {
		n += m.shards[i].nconv
	}
	b := NewTableBuilder(m.ruleTagNames(), n, nil)
	for i := range m.shards {
		sh := &m.shards[i]
		sh.eachConv(func(j uint32, c *ConvState) {
			st := *sh.withSamples(j, c)
			st.Samples = slices.Clone(st.Samples) // the table keeps them
			b.Add(&st, 0, len(st.Samples))
		})
	}
	m.mu.Unlock()
	mon := b.Learned()
	if len(m.opts.Monitored) > 0 {
		mon = NewMonitored(m.opts.Monitored, nil)
	}
	return b.Finish(mon, nil)
}

// Records returns, by ID, the records of the sessions that closed since the
// model started and of the open sessions that changed: what a commit of the
// model's contribution writes. It changes nothing, so a failed commit can be
// retried. A model restored from Sessions continues the open sessions'
// records as written already. Without Options.Records it returns nothing.
func (m *Model) Records() []SessionRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SessionRecord
	for i := range m.shards {
		sh := &m.shards[i]
		out = append(out, sh.recorder.closed...)
		for k, rs := range sh.recs {
			var v openVal
			if vp := sh.open.get(k); vp != nil {
				v = *vp
			}
			for _, r := range rs {
				if r.dirty {
					out = append(out, taken(r, sh.lastOf(k, &v), v.flags&fUnans != 0))
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b SessionRecord) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Version, b.Version))
	})
	return out
}

// RecordSeq returns the ID of the model's latest session record: saved with
// the open connections, and given to SetRecordSeq of the model that
// continues them, so that IDs never repeat.
func (m *Model) RecordSeq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.recordSeq()
}

func (m *Model) recordSeq() uint64 {
	var seq uint64
	for i := range m.shards {
		seq = max(seq, m.shards[i].recorder.lastID(i))
	}
	return seq
}

// SetRecordSeq makes the model's next session records take IDs above seq.
func (m *Model) SetRecordSeq(seq uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq <= m.recordSeq() {
		return
	}
	for i := range m.shards {
		m.shards[i].recorder.base, m.shards[i].recorder.n = seq, 0
	}
}

// ClosedRecords returns how many records of closed sessions the model holds.
func (m *Model) ClosedRecords() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i := range m.shards {
		n += len(m.shards[i].recorder.closed)
	}
	return n
}

// TakeClosedRecords removes and returns the records of the sessions closed
// so far: a long import writes them out as it goes, so that its memory does
// not grow with the file. Records then returns only the later ones.
func (m *Model) TakeClosedRecords() []SessionRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SessionRecord
	for i := range m.shards {
		out = append(out, m.shards[i].recorder.closed...)
		m.shards[i].recorder.closed = nil
	}
	return out
}

// Recording reports whether the model keeps session records (Options.Records).
func (m *Model) Recording() bool { return m.opts.Records }

// eachSession calls fn with the sessions open on key k, each in st.
func (sh *shard) eachSession(k openKey, v *openVal, st *SessionState, fn func(*SessionState) error) error {
	c, p := sh.conv(v.ci), &sh.points.vals[k.point]
	*st = SessionState{
		Src: c.Src, Dst: c.Dst,
		Host: sh.strs.Value(p.host), Group: sh.strs.Value(p.group),
		SPort: k.sport, DPort: k.dport, Proto: p.proto, Side: p.side, ConvDPort: c.DPort,
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
		if err := fn(st); err != nil {
			return err
		}
	}
	return nil
}
