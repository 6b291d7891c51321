package workspace

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Stored states are compact binary records: a version byte, then varints
// and length-prefixed strings. Decoding checks every length, so a damaged
// record is an error, never a panic.

// codecVersion is the version of tracking records and of conversation
// records whose lines all arrived authenticated (all records before
// Origins); codecOrigins, that of a conversation record followed by its
// Origins byte, written when some of its lines came over UDP. Both end
// with the sample lines before the Origins byte; schema 5 moved the lines
// of stored ones out (splitStored). codecSplit, the version written since:
// the Origins byte, then the sample lines' count and the lines, last.
const (
	codecVersion = 1
	codecOrigins = 2
	codecSplit   = 3
)

var errBadRecord = errors.New("bad stored record")

type enc struct{ b []byte }

func (e *enc) u(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) s(v string)  { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) byte(v byte) { e.b = append(e.b, v) }
func (e *enc) addr(a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		e.byte(4)
		e.b = append(e.b, v[:]...)
		return
	}
	v := a.As16()
	e.byte(16)
	e.b = append(e.b, v[:]...)
}

type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() { d.err = errBadRecord; d.b = nil }

func (d *dec) u() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) s() string {
	n := d.u()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

// count reads a list length, refusing one longer than the bytes left could hold.
func (d *dec) count() int {
	n := d.u()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *dec) addr() netip.Addr {
	switch n := d.byte(); {
	case n == 4 && len(d.b) >= 4:
		a := netip.AddrFrom4([4]byte(d.b[:4]))
		d.b = d.b[4:]
		return a
	case n == 16 && len(d.b) >= 16:
		a := netip.AddrFrom16([16]byte(d.b[:16]))
		d.b = d.b[16:]
		return a
	}
	d.fail()
	return netip.Addr{}
}

// encodeState appends the record of c to b.
func encodeState(b []byte, c *analysis.ConvState) []byte {
	b, _ = encodeSplit(b, c)
	return b
}

// encodeSplit appends the record of c to b, and returns where its sample
// lines start: a record of version codecSplit ends with them, after their
// count, so that a stored conversation keeps its record up to there
// (state) and its lines in a row of their own (conversation_samples).
func encodeSplit(b []byte, c *analysis.ConvState) ([]byte, int) {
	return encodeHeld(b, c, 0)
}

// encodeHeld is encodeSplit for a conversation that has held sample lines
// stored, not in c, before c.Samples: its count says held+len(c.Samples)
// and its lines are c.Samples.
func encodeHeld(b []byte, c *analysis.ConvState, held int) ([]byte, int) {
	e := enc{b}
	e.byte(codecSplit)
	e.addr(c.Src)
	e.addr(c.Dst)
	e.byte(c.Proto)
	e.u(uint64(c.DPort))
	for i := range c.Sides {
		s := &c.Sides[i]
		e.u(s.Sessions)
		e.i(s.Unanswered)
		for _, n := range s.Counts {
			e.u(n)
		}
		e.u(uint64(len(s.Hourly)))
		prev := int32(0)
		for _, h := range s.Hourly {
			e.i(int64(h.Hour - prev)) // hours ascend: small deltas
			e.u(uint64(h.N))
			prev = h.Hour
		}
	}
	e.i(c.First)
	e.i(c.Last)
	e.u(uint64(len(c.Labels)))
	for _, l := range c.Labels {
		e.s(l.Name)
		e.byte(l.Sides)
	}
	e.u(uint64(len(c.Hosts)))
	for _, h := range c.Hosts {
		e.s(h)
	}
	e.u(uint64(c.Actions))
	e.byte(c.Vendors)
	// As versions 1 and 2 read: authenticated unless some line was not.
	origins := c.Origins
	if origins&analysis.OriginUnauthenticated == 0 {
		origins = analysis.OriginAuthenticated
	}
	e.byte(origins)
	e.u(uint64(held + len(c.Samples)))
	split := len(e.b)
	for _, s := range c.Samples {
		e.s(s)
	}
	return e.b, split
}

// recordKey reads the key of a record written by encodeState, which
// starts with it, and nothing after it.
func recordKey(b []byte) (analysis.Key, error) {
	d := dec{b: b}
	var c analysis.ConvState
	if _, ok := d.head(&c); !ok || d.err != nil {
		return analysis.Key{}, errBadRecord
	}
	return c.Key(), nil
}

// head reads a record's version and key, the key into c, and reports
// whether the version is one the decoder knows.
func (d *dec) head(c *analysis.ConvState) (version byte, ok bool) {
	version = d.byte()
	if version != codecVersion && version != codecOrigins && version != codecSplit {
		return version, false
	}
	c.Src, c.Dst = d.addr(), d.addr()
	c.Proto = d.byte()
	c.DPort = uint16(d.u())
	return version, true
}

// decodeState reads a record written by encodeState.
func decodeState(b []byte) (analysis.ConvState, error) { return decodeStateLines(b, true) }

// decodeStateLines is decodeState, its sample lines read only when lines
// holds.
func decodeStateLines(b []byte, lines bool) (analysis.ConvState, error) {
	var c analysis.ConvState
	if _, err := decodeStateInto(b, &c, nil, lines); err != nil {
		return analysis.ConvState{}, err
	}
	return c, nil
}

// strCache shares the strings decoded from many records: tags and hosts
// repeat from one conversation to the next.
type strCache map[string]string

// cs reads a string through cache (nil: a new string each time).
func (d *dec) cs(cache strCache) string {
	n := d.u()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	b := d.b[:n]
	d.b = d.b[n:]
	if cache == nil {
		return string(b)
	}
	if s, ok := cache[string(b)]; ok {
		return s
	}
	s := string(b)
	cache[s] = s
	return s
}

// skip passes over a string.
func (d *dec) skip() {
	if n := d.u(); n > uint64(len(d.b)) {
		d.fail()
	} else {
		d.b = d.b[n:]
	}
}

// decodeStateInto reads a record written by encodeState into c, reusing
// c's lists (the hourly counts, labels and hosts of the previous record c
// held are overwritten). Strings come from cache when it is not nil; the
// sample lines are read when samples is set, else checked and left out
// (c.Samples nil). It returns the record's number of sample lines.
func decodeStateInto(b []byte, c *analysis.ConvState, cache strCache, samples bool) (int, error) {
	return decodeRecord(b, c, cache, samples, nil)
}

// recordLists are the bytes of a record's labels and of its reporting
// hosts, each list with its count: the same list is the same bytes; and
// the record's bytes after them (tail).
type recordLists struct{ labels, hosts, tail []byte }

// decodeRecord is decodeStateInto; with lists, the labels and hosts are
// checked and left out (c.Labels and c.Hosts nil), and lists says where
// they are in b (decodeLabels and decodeHosts read them).
func decodeRecord(b []byte, c *analysis.ConvState, cache strCache, samples bool, lists *recordLists) (int, error) {
	d := dec{b: b}
	version, ok := d.head(c)
	if !ok {
		return 0, errBadRecord
	}
	for i := range c.Sides {
		d.sideInto(&c.Sides[i])
	}
	c.First, c.Last = d.i(), d.i()
	if lists != nil {
		lists.labels = d.span((*dec).label)
		lists.hosts = d.span((*dec).skip)
		lists.tail = d.b
		c.Labels, c.Hosts = nil, nil
	} else {
		d.labelsInto(c, cache)
		d.hostsInto(c, cache)
	}
	c.Actions = uint16(d.u())
	c.Vendors = d.byte()
	c.Origins = analysis.OriginAuthenticated
	if version == codecSplit {
		c.Origins = d.byte()
	}
	c.Samples = nil
	var lines int
	if version == codecSplit {
		// A stored record ends at the count: its lines are in
		// conversation_samples.
		n := d.u()
		lines = int(min(n, 1<<31))
		if len(d.b) > 0 {
			if n > uint64(len(d.b)) {
				d.fail()
			}
			d.lines(c, lines, samples)
		}
	} else {
		lines = d.count()
		d.lines(c, lines, samples)
	}
	if version == codecOrigins {
		c.Origins = d.byte()
	}
	if d.err != nil || len(d.b) != 0 {
		return 0, errBadRecord
	}
	return lines, nil
}

// lines reads n sample lines into c when samples is set, else checks and
// passes over them.
func (d *dec) lines(c *analysis.ConvState, n int, samples bool) {
	for ; n > 0 && d.err == nil; n-- {
		if samples {
			c.Samples = append(c.Samples, d.s())
		} else {
			d.skip()
		}
	}
}

// sideInto reads one side's figures and hourly counts into s, reusing its
// list.
func (d *dec) sideInto(s *analysis.SideState) {
	s.Sessions = d.u()
	s.Unanswered = d.i()
	for j := range s.Counts {
		s.Counts[j] = d.u()
	}
	n := d.count()
	// Kept when empty, the next record's may fill it; grown to n at once:
	// grown by appends, the lists were a sixth of a next day's commit's
	// garbage. n is at most the bytes left (count).
	s.Hourly = slices.Grow(s.Hourly[:0], n)
	prev := int32(0)
	for ; n > 0 && d.err == nil; n-- {
		prev += int32(d.i())
		s.Hourly = append(s.Hourly, analysis.HourCount{Hour: prev, N: uint32(d.u())})
	}
}

// labelsInto reads the labels into c, reusing its list.
func (d *dec) labelsInto(c *analysis.ConvState, cache strCache) {
	c.Labels = c.Labels[:0]
	for n := d.count(); n > 0 && d.err == nil; n-- {
		c.Labels = append(c.Labels, analysis.LabelState{Name: d.cs(cache), Sides: d.byte()})
	}
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
}

// hostsInto reads the reporting hosts into c, reusing its list.
func (d *dec) hostsInto(c *analysis.ConvState, cache strCache) {
	c.Hosts = c.Hosts[:0]
	for n := d.count(); n > 0 && d.err == nil; n-- {
		c.Hosts = append(c.Hosts, d.cs(cache))
	}
	if len(c.Hosts) == 0 {
		c.Hosts = nil
	}
}

// label passes over a label: its name and sides.
func (d *dec) label() {
	d.skip()
	d.byte()
}

// span passes over a list whose items item passes over, checking it as
// reading it would, and returns its bytes, count included.
func (d *dec) span(item func(*dec)) []byte {
	start := d.b
	for n := d.count(); n > 0 && d.err == nil; n-- {
		item(d)
	}
	if d.err != nil {
		return nil
	}
	return start[:len(start)-len(d.b)]
}

// decodeLabels reads the labels of a list decodeRecord found; decodeHosts,
// the hosts. The bytes were checked already.
func decodeLabels(b []byte, cache strCache) []analysis.LabelState {
	var c analysis.ConvState
	(&dec{b: b}).labelsInto(&c, cache)
	return c.Labels
}

// decodeHosts is decodeLabels of a list of hosts.
func decodeHosts(b []byte, cache strCache) []string {
	var c analysis.ConvState
	(&dec{b: b}).hostsInto(&c, cache)
	return c.Hosts
}

// trackingVersion is the last version of tracking rows that held every
// open connection (tracking.go writes trackingChunked since).
const trackingVersion = 2

// tracked is what decodeTracking reads.
type tracked struct {
	sessions  []analysis.SessionState
	clocks    map[string]int64
	recordSeq uint64
}

// decodeTracking reads a tracking row of version 1 or 2.
func decodeTracking(b []byte) (tracked, error) {
	d := dec{b: b}
	v := d.byte()
	if v != 1 && v != trackingVersion {
		return tracked{}, errBadRecord
	}
	tr := tracked{clocks: make(map[string]int64)}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		h := d.s()
		tr.clocks[h] = d.i()
	}
	if v >= 2 {
		tr.recordSeq = d.u()
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		s := analysis.SessionState{Src: d.addr(), Dst: d.addr(), Host: d.s(), Group: d.s(),
			SPort: uint16(d.u()), DPort: uint16(d.u()), Proto: d.byte(), Side: ingest.Direction(d.byte()),
			ConvDPort: uint16(d.u())}
		for i := range s.Last {
			s.Last[i] = d.u()
		}
		s.Seen = d.i()
		f := d.byte()
		s.Unanswered, s.Matched, s.HasCounters = f&1 != 0, f&2 != 0, f&4 != 0
		if f&8 != 0 && v >= 2 {
			r := d.record()
			s.Record = &r
		}
		tr.sessions = append(tr.sessions, s)
	}
	if d.err != nil || len(d.b) != 0 {
		return tracked{}, errBadRecord
	}
	return tr, nil
}

func (e *enc) record(r *analysis.SessionRecord) {
	e.u(r.ID)
	e.u(uint64(r.Version))
	var flags byte
	if r.Closed {
		flags |= 1
	}
	if r.Unanswered {
		flags |= 2
	}
	e.byte(flags)
	e.s(r.Host)
	e.addr(r.Src)
	e.addr(r.Dst)
	e.byte(r.Proto)
	e.u(uint64(r.DPort))
	e.u(uint64(r.SPort))
	e.byte(byte(r.Side))
	e.u(uint64(len(r.Labels)))
	for _, l := range r.Labels {
		e.s(l)
	}
	e.byte(r.Vendors)
	e.u(uint64(r.Actions))
	e.i(r.Start)
	e.i(r.First)
	e.i(r.Last)
	for _, n := range r.Counts {
		e.u(n)
	}
	e.u(uint64(len(r.Samples)))
	for _, s := range r.Samples {
		e.s(s)
	}
}

func (d *dec) record() analysis.SessionRecord {
	r := analysis.SessionRecord{ID: d.u(), Version: uint32(d.u())}
	flags := d.byte()
	r.Closed, r.Unanswered = flags&1 != 0, flags&2 != 0
	r.Host = d.s()
	r.Src, r.Dst = d.addr(), d.addr()
	r.Proto = d.byte()
	r.DPort, r.SPort = uint16(d.u()), uint16(d.u())
	r.Side = ingest.Direction(d.byte())
	for n := d.count(); n > 0 && d.err == nil; n-- {
		r.Labels = append(r.Labels, d.s())
	}
	r.Vendors = d.byte()
	r.Actions = uint16(d.u())
	r.Start, r.First, r.Last = d.i(), d.i(), d.i()
	for i := range r.Counts {
		r.Counts[i] = d.u()
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		r.Samples = append(r.Samples, d.s())
	}
	return r
}
