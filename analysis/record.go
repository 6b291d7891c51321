package analysis

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// SessionRecord is one session as the model that tracked it saw it: the row
// a collector writes to a shared store. A conversation's state is the sum of
// the latest records of its sessions (ConvState.AddRecord), so a store
// holding the records of many collectors can compute the conversation table
// itself, exactly as one model reading every log would.
//
// A model's Records are those of the sessions that closed in it and of the
// open ones that changed: a session that never closes still counts, as it
// does in the model. The model that continues the open connections
// (Restore) writes them again only when they change or close, with a higher
// Version: the latest replaces the earlier ones, and two records with the
// same ID and Version are identical, so writing one twice (a retry after a
// crash) changes nothing.
type SessionRecord struct {
	ID      uint64 // per model, from 1, carried over by SetRecordSeq
	Version uint32 // lines applied, plus one when closed
	Closed  bool

	Host       string // reporting host
	Src, Dst   netip.Addr
	Proto      uint8
	DPort      uint16 // the conversation's port: the ICMP type, or 0 for ICMP without it
	SPort      uint16
	Side       ingest.Direction // of its lines: by the enforcement point of the destination (inbound), the source (outbound), or unknown
	Labels     []string         // the labels of its lines: Nutanix policies, NSX tags or "rule X"
	Vendors    uint8            // 1<<ingest.Vendor
	Actions    uint16           // 1<<ingest.Action
	Start      int64            // unix seconds of its first line (its hour counts it); 0 when unknown
	First      int64            // unix nanoseconds of its earliest and latest lines; 0 when no line had a time
	Last       int64
	Counts     [4]uint64 // orig pkts, orig bytes, reply pkts, reply bytes
	Unanswered bool
	Samples    []string // its lines that became evidence of the conversation in this model
}

// record is an open session's record and whether it changed in this model.
type record struct {
	SessionRecord
	dirty bool
}

// recorder holds the records of a shard: the sequence of its IDs and the
// records of the sessions closed in it. A shard's IDs are base + n*numShards
// + its index + 1, n = 0, 1, …: unique across shards, and the same whatever
// the number of goroutines.
type recorder struct {
	base   uint64 // the model's record sequence when the IDs restarted (SetRecordSeq)
	n      uint64 // IDs given since
	closed []SessionRecord
}

// newRecord starts the record of a session that starts with ev.
func (sh *shard) newRecord(k openKey, c *conv, ev *ingest.Event, now int64) *record {
	id := sh.recorder.base + sh.recorder.n*numShards + uint64(sh.idx) + 1
	sh.recorder.n++
	return &record{SessionRecord: SessionRecord{
		ID: id, Host: sh.strs.names[sh.points[k.point].host],
		Src: toAddr(c.key.src, c.v4), Dst: toAddr(c.key.dst, c.v4), Proto: c.key.proto, DPort: c.key.dport,
		SPort: k.sport, Side: ev.Direction, Start: now,
	}}
}

// lastID returns the shard's latest record ID, or its base.
func (r *recorder) lastID(idx int) uint64 {
	if r.n == 0 {
		return r.base
	}
	return r.base + (r.n-1)*numShards + uint64(idx) + 1
}

// noteRecord adds what line ev tells of its session, whose record is r and
// which belongs to c: sampled says c kept the line as evidence.
func (sh *shard) noteRecord(r *record, c *conv, ev *ingest.Event, sampled bool) {
	r.Version++
	r.dirty = true
	if !ev.Time.IsZero() {
		t := ev.Time.UnixNano()
		if r.First == 0 || t < r.First {
			r.First = t
		}
		r.Last = max(r.Last, t)
	}
	if ev.Action != ingest.ActionUnknown {
		r.Actions |= 1 << ev.Action
	}
	r.Vendors |= 1 << ev.Vendor
	if l := sh.strs.names[sh.label(ev)]; !slices.Contains(r.Labels, l) {
		r.Labels = append(r.Labels, l)
	}
	if sampled && len(c.samples) > 0 {
		r.Samples = append(r.Samples, c.samples[len(c.samples)-1])
	} else if sampled {
		r.Samples = append(r.Samples, string(ev.Raw)) // in Options.SampleFile
	}
}

// taken returns a copy of record r as it stands, with its session's
// counters and whether it is unanswered.
func taken(r *record, counts [4]uint64, unans bool) SessionRecord {
	out := r.SessionRecord
	out.Counts, out.Unanswered = counts, unans
	out.Labels, out.Samples = slices.Clone(out.Labels), slices.Clone(out.Samples)
	return out
}

// closeRecord keeps the final record of a session that is ending.
func (sh *shard) closeRecord(r *record, counts [4]uint64, unans bool) {
	r.Version++
	r.Closed = true
	sh.recorder.closed = append(sh.recorder.closed, taken(r, counts, unans))
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

// AddRecord adds the figures of session record r to c, which is r's
// conversation or empty (its key is then set). At most samples sample lines
// are kept. Adding the latest record of every session gives the state the
// model that tracked them holds.
func (c *ConvState) AddRecord(r *SessionRecord, samples int) {
	if c.Src == (netip.Addr{}) {
		c.Src, c.Dst, c.Proto, c.DPort = r.Src, r.Dst, r.Proto, r.DPort
	}
	d := r.Side
	if int(d) >= len(c.Sides) {
		d = ingest.DirUnknown
	}
	s := &c.Sides[d]
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
