package analysis

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Table is the working form of a set of conversations: what synthesis, the
// policy check, the exports and the app's views read, and what rules and
// review items point into by row number.
//
// Each conversation is one fixed-size row without pointers (addresses,
// figures, times, the numbers of interned lists), so a million of them take
// about 150 MB and cost the garbage collector nothing to scan. Tag lists,
// host lists and inventory names are interned, once per distinct list;
// hourly counts are kept back to back in one array; sample lines stay
// where they are (in the workspace) and are read when asked for
// (SampleLoader). Conversation is the form of one row for people and
// tests: Conv and Detail make it.
//
// A Table is immutable once built and safe for concurrent use.
type Table struct {
	rows     []tableRow
	hours    []HourCount       // every row's hourly counts, back to back
	tagSets  [][]Tag           // by row.tags; set 0 is nil
	hostSets [][]string        // by row.hosts; set 0 is nil
	actSets  [][]ingest.Action // by row.acts; set 0 is nil
	inv      []VMLabel         // by row.srcInv and row.dstInv; 0 is none
	samples  [][]string        // without a loader: by row.key
	loader   SampleLoader      // reads the samples of stored rows by key

	errMu sync.Mutex
	err   error // the first error of the loader
}

// tableRow is one conversation. Addresses are 128-bit numbers; flags say which
// are IPv4.
type tableRow struct {
	src, dst                ip128
	sessions, unanswered    uint64
	origPkts, origBytes     uint64
	replyPkts, replyBytes   uint64
	first, last             int64 // unix nanoseconds; 0 when no line had a time
	key                     int64 // the store's key (with a loader), else the index of the samples; -1 none
	hourAt, hourN           uint32
	tags, hosts, acts       uint32
	srcInv, dstInv          uint32
	dport                   uint16
	proto                   uint8
	dir                     ingest.Direction
	vendors, flags, learned uint8
}

// Row flags, and the row's number of sample lines (at most 3, which is
// all evidence takes) in the two highest bits.
const (
	flagSrc4 uint8 = 1 << iota
	flagDst4
	flagUnauthenticated
	sampleShift = 6
)

// withSamples sets the number of sample lines of a row's flags.
func withSamples(flags uint8, n int) uint8 { return flags | uint8(min(n, 3))<<sampleShift }

// sampleCount is the number of sample lines a row has (at most 3).
func (r *tableRow) sampleCount() int { return int(r.flags >> sampleShift) }

// ip128 is an address as a number, most significant half first.
type ip128 struct{ hi, lo uint64 }

// addrKey is an address as a map key: without the pointer netip.Addr holds.
type addrKey struct {
	ip  ip128
	is4 bool
}

func keyOf(a netip.Addr) addrKey { return addrKey{toIP128(a), a.Is4()} }

func toIP128(a netip.Addr) ip128 {
	b := a.As16()
	return ip128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (ip ip128) addr(is4 bool) netip.Addr {
	if is4 {
		v := uint32(ip.lo)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return netip.AddrFrom16(ip.bytes())
}

// compareIP orders addresses as netip.Addr.Compare does: IPv4 first.
func compareIP(a, b ip128, a4, b4 bool) int {
	switch {
	case a4 != b4:
		if a4 {
			return -1
		}
		return 1
	case a.hi != b.hi:
		return cmp.Compare(a.hi, b.hi)
	}
	return cmp.Compare(a.lo, b.lo)
}

// VMLabel is what the inventory says of an address: its VM and groups.
type VMLabel struct {
	VM     string
	Groups []string
}

// SampleLoader reads the sample lines of stored conversations by key, in
// the order of keys (nil for a key it does not hold).
type SampleLoader interface {
	Samples(keys []int64) ([][]string, error)
}

// Len returns the number of rows.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.rows)
}

// Src returns the source address of row i.
func (t *Table) Src(i int) netip.Addr {
	r := &t.rows[i]
	return r.src.addr(r.flags&flagSrc4 != 0)
}

// Dst returns the destination address of row i.
func (t *Table) Dst(i int) netip.Addr {
	r := &t.rows[i]
	return r.dst.addr(r.flags&flagDst4 != 0)
}

// Proto returns the protocol of row i.
func (t *Table) Proto(i int) uint8 { return t.rows[i].proto }

// DPort returns the destination port (ICMP: the type) of row i.
func (t *Table) DPort(i int) uint16 { return t.rows[i].dport }

// Direction returns the direction of row i relative to the monitored set.
func (t *Table) Direction(i int) ingest.Direction { return t.rows[i].dir }

// ServicePort returns the port that identifies row i's service: its
// destination port, or 0 for ICMP, whose types are one service (as
// ServicePort of a conversation).
func (t *Table) ServicePort(i int) uint16 {
	r := &t.rows[i]
	if r.proto == ingest.ProtoICMP || r.proto == ingest.ProtoICMPv6 {
		return 0
	}
	return r.dport
}

// Sessions returns the sessions of row i.
func (t *Table) Sessions(i int) uint64 { return t.rows[i].sessions }

// Bytes returns the bytes of row i in both directions.
func (t *Table) Bytes(i int) uint64 { return t.rows[i].origBytes + t.rows[i].replyBytes }

// Suspect reports whether no session of row i was ever answered.
func (t *Table) Suspect(i int) bool {
	r := &t.rows[i]
	return r.sessions > 0 && r.unanswered >= r.sessions
}

// First returns when row i was first seen (zero when unknown).
func (t *Table) First(i int) time.Time { return unixTime(t.rows[i].first) }

// Last returns when row i was last seen (zero when unknown).
func (t *Table) Last(i int) time.Time { return unixTime(t.rows[i].last) }

// FirstNano returns when row i was first seen in unix nanoseconds (0 when unknown).
func (t *Table) FirstNano(i int) int64 { return t.rows[i].first }

// LastNano returns when row i was last seen in unix nanoseconds (0 when unknown).
func (t *Table) LastNano(i int) int64 { return t.rows[i].last }

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Tags returns the tags of row i, shared: read them, never change them.
func (t *Table) Tags(i int) []Tag { return t.tagSets[t.rows[i].tags] }

// TagSet returns the number of row i's list of tags: rows with the same
// number have the same tags (TagSetOf lists them).
func (t *Table) TagSet(i int) int { return int(t.rows[i].tags) }

// TagSets returns the number of distinct lists of tags (TagSet < TagSets).
func (t *Table) TagSets() int { return len(t.tagSets) }

// TagSetOf returns list n of tags, shared.
func (t *Table) TagSetOf(n int) []Tag { return t.tagSets[n] }

// Hosts returns the reporting hosts of row i, sorted and shared.
func (t *Table) Hosts(i int) []string { return t.hostSets[t.rows[i].hosts] }

// HostSet returns the number of row i's list of hosts (HostSetOf lists them).
func (t *Table) HostSet(i int) int { return int(t.rows[i].hosts) }

// HostSets returns the number of distinct lists of hosts.
func (t *Table) HostSets() int { return len(t.hostSets) }

// HostSetOf returns list n of hosts, shared.
func (t *Table) HostSetOf(n int) []string { return t.hostSets[n] }

// Actions returns the verdicts seen on row i, in enum order, shared.
func (t *Table) Actions(i int) []ingest.Action { return t.actSets[t.rows[i].acts] }

// ActionSet returns the number of row i's list of verdicts (ActionSetOf
// lists them).
func (t *Table) ActionSet(i int) int { return int(t.rows[i].acts) }

// ActionSets returns the number of distinct lists of verdicts.
func (t *Table) ActionSets() int { return len(t.actSets) }

// ActionSetOf returns list n of verdicts, shared.
func (t *Table) ActionSetOf(n int) []ingest.Action { return t.actSets[n] }

// SrcIP and DstIP return row i's addresses as 128-bit numbers (most
// significant half first) and whether each is IPv4: sort keys without
// making netip.Addr values.
func (t *Table) SrcIP(i int) (hi, lo uint64, is4 bool) {
	r := &t.rows[i]
	return r.src.hi, r.src.lo, r.flags&flagSrc4 != 0
}

// DstIP is SrcIP of the destination.
func (t *Table) DstIP(i int) (hi, lo uint64, is4 bool) {
	r := &t.rows[i]
	return r.dst.hi, r.dst.lo, r.flags&flagDst4 != 0
}

// SrcLabel returns the number of the inventory's label of row i's source
// (0: none; VMLabelOf names it); DstLabel, of its destination.
func (t *Table) SrcLabel(i int) int { return int(t.rows[i].srcInv) }

// DstLabel is SrcLabel of the destination.
func (t *Table) DstLabel(i int) int { return int(t.rows[i].dstInv) }

// VMLabels returns the number of inventory labels (label numbers are below it).
func (t *Table) VMLabels() int { return len(t.inv) }

// VMLabelOf returns inventory label n (0: the empty label), shared.
func (t *Table) VMLabelOf(n int) VMLabel { return t.inv[n] }

// HourCounts returns the hourly session counts of row i, in time order,
// shared.
func (t *Table) HourCounts(i int) []HourCount {
	r := &t.rows[i]
	return t.hours[r.hourAt : r.hourAt+r.hourN : r.hourAt+r.hourN]
}

// Hourly returns the sessions started per hour of row i, in time order
// (nil when none).
func (t *Table) Hourly(i int) []Hour {
	hs := t.HourCounts(i)
	if len(hs) == 0 {
		return nil
	}
	out := make([]Hour, len(hs))
	for j, h := range hs {
		out[j] = Hour{Start: time.Unix(int64(h.Hour)*3600, 0).UTC(), Sessions: uint64(h.N)}
	}
	return out
}

// Conv returns row i as a Conversation without its hourly counts and
// sample lines (Detail has them). Its lists are shared with the table:
// read them, never change them.
func (t *Table) Conv(i int) Conversation {
	r := &t.rows[i]
	src, dst := t.inv[r.srcInv], t.inv[r.dstInv]
	c := Conversation{
		Src: r.src.addr(r.flags&flagSrc4 != 0), Dst: r.dst.addr(r.flags&flagDst4 != 0),
		Proto: r.proto, DPort: r.dport, Direction: r.dir,
		Tags: t.tagSets[r.tags], Actions: t.actSets[r.acts], Vendors: vendorSets[r.vendors],
		Sessions: r.sessions, Unanswered: r.unanswered, OrigPkts: r.origPkts, OrigBytes: r.origBytes,
		ReplyPkts: r.replyPkts, ReplyBytes: r.replyBytes,
		SrcVM: src.VM, DstVM: dst.VM, SrcGroups: src.Groups, DstGroups: dst.Groups,
		Hosts: t.hostSets[r.hosts], Unauthenticated: r.flags&flagUnauthenticated != 0,
	}
	if r.first != 0 {
		c.First, c.Last = unixTime(r.first), unixTime(r.last)
	}
	return c
}

// Detail returns row i as a Conversation with its hourly counts and sample
// lines. A sample that cannot be read is left out, and Err says why.
func (t *Table) Detail(i int) Conversation {
	c := t.Conv(i)
	c.Hourly = t.Hourly(i)
	c.Samples = t.Samples(i)
	return c
}

// Conversations returns every row as Detail does.
func (t *Table) Conversations() []Conversation {
	out := make([]Conversation, t.Len())
	samples := t.SamplesOf(t.All())
	for i := range out {
		out[i] = t.Conv(i)
		out[i].Hourly = t.Hourly(i)
		out[i].Samples = samples[i]
	}
	return out
}

// All returns the numbers of every row, in order.
func (t *Table) All() []int32 {
	out := make([]int32, t.Len())
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// Samples returns the sample lines of row i (nil when it has none, or
// when they cannot be read: then Err says why).
func (t *Table) Samples(i int) []string { return t.SamplesOf([]int32{int32(i)})[0] }

// SamplesOf returns the sample lines of the given rows, in their order:
// one read of the store for all of them.
func (t *Table) SamplesOf(rows []int32) [][]string {
	out := make([][]string, len(rows))
	if len(rows) == 0 {
		return out
	}
	if t.loader == nil {
		for j, i := range rows {
			if k := t.rows[i].key; k >= 0 && int(k) < len(t.samples) {
				out[j] = t.samples[k]
			}
		}
		return out
	}
	keys := make([]int64, len(rows))
	for j, i := range rows {
		keys[j] = t.rows[i].key
	}
	got, err := t.loader.Samples(keys)
	if err != nil {
		t.setErr(err)
		return out
	}
	copy(out, got)
	return out
}

// Err returns the first error met reading sample lines, or nil.
func (t *Table) Err() error {
	if t == nil {
		return nil
	}
	t.errMu.Lock()
	defer t.errMu.Unlock()
	return t.err
}

func (t *Table) setErr(err error) {
	t.errMu.Lock()
	if t.err == nil {
		t.err = fmt.Errorf("read sample lines: %w", err)
	}
	t.errMu.Unlock()
}

// compareRows orders rows as Compare orders conversations. It returns at
// the first key that differs (cmp.Or would compare every key): sorting a
// million rows calls it twenty million times.
func compareRows(a, b *tableRow) int {
	if a.dir != b.dir {
		return cmp.Compare(dirRank[a.dir], dirRank[b.dir])
	}
	if c := compareIP(a.src, b.src, a.flags&flagSrc4 != 0, b.flags&flagSrc4 != 0); c != 0 {
		return c
	}
	return compareTail(a, b)
}

// compareTail compares rows by destination, protocol and port.
func compareTail(a, b *tableRow) int {
	if c := compareIP(a.dst, b.dst, a.flags&flagDst4 != 0, b.flags&flagDst4 != 0); c != 0 {
		return c
	}
	if a.proto != b.proto {
		return cmp.Compare(a.proto, b.proto)
	}
	return cmp.Compare(a.dport, b.dport)
}

// CompareRows compares rows i and j as Compare compares conversations.
func (t *Table) CompareRows(i, j int) int { return compareRows(&t.rows[i], &t.rows[j]) }

// vendorSets lists the vendors of every vendor bit set.
var vendorSets = func() (out [256][]ingest.Vendor) {
	for m := range out {
		for v := ingest.Vendor(1); v < 8; v++ {
			if m&(1<<v) != 0 {
				out[m] = append(out[m], v)
			}
		}
	}
	return out
}()

// TableBuilder makes a Table of conversation states, one at a time: the
// workspace decodes its records into it, a Model hands it its states.
type TableBuilder struct {
	t        *Table
	ruleTags map[string]string
	tagIdx   map[string]uint32 // by label list (labelKey)
	hostIdx  map[string]uint32 // by host list
	actIdx   map[uint16]uint32
	keep     bool // the samples are kept in memory
	buf      []byte
}

// NewTableBuilder returns a builder for about size conversations whose
// untagged NSX rules ("rule X") are named by the tag ruleTags gives them.
// With loader, rows keep the keys Add is given and samples are read from
// it; without, the samples Add is given are kept.
func NewTableBuilder(ruleTags map[string]string, size int, loader SampleLoader) *TableBuilder {
	t := &Table{rows: make([]tableRow, 0, size), hours: make([]HourCount, 0, size),
		tagSets: [][]Tag{nil}, hostSets: [][]string{nil}, actSets: [][]ingest.Action{nil}, inv: []VMLabel{{}},
		loader: loader}
	return &TableBuilder{t: t, ruleTags: ruleTags, tagIdx: map[string]uint32{"": 0}, hostIdx: map[string]uint32{"": 0},
		actIdx: map[uint16]uint32{0: 0}, keep: loader == nil}
}

// Add adds the conversation of st; key is its key in the store and
// samples its number of sample lines (with a loader: st.Samples may be
// left out). Without a loader the table keeps st.Samples (not a copy); the
// builder copies nothing else of st, which may be reused.
func (b *TableBuilder) Add(st *ConvState, key int64, samples int) {
	r := tableRow{src: toIP128(st.Src), dst: toIP128(st.Dst), proto: st.Proto, dport: st.DPort, key: key}
	if st.Src.Is4() {
		r.flags |= flagSrc4
	}
	if st.Dst.Is4() {
		r.flags |= flagDst4
	}
	if st.Origins == OriginUnauthenticated {
		r.flags |= flagUnauthenticated
	}
	r.flags = withSamples(r.flags, samples)
	if st.Sides[ingest.DirOutbound].Sessions > 0 {
		r.learned |= 1
	}
	if st.Sides[ingest.DirInbound].Sessions > 0 {
		r.learned |= 2
	}
	var unans int64
	for i := range st.Sides {
		s := &st.Sides[i]
		r.sessions = max(r.sessions, s.Sessions)
		unans = max(unans, s.Unanswered)
		r.origPkts = max(r.origPkts, s.Counts[0])
		r.origBytes = max(r.origBytes, s.Counts[1])
		r.replyPkts = max(r.replyPkts, s.Counts[2])
		r.replyBytes = max(r.replyBytes, s.Counts[3])
	}
	r.unanswered = uint64(unans)
	r.hourAt, r.hourN = b.mergeHours(&st.Sides)
	if st.First != 0 {
		r.first, r.last = st.First, st.Last
	}
	r.tags = b.tagSet(st.Labels)
	r.hosts = b.hostSet(st.Hosts)
	r.acts = b.actSet(st.Actions)
	r.vendors = st.Vendors
	if b.keep {
		r.key = -1
		if len(st.Samples) > 0 {
			r.key = int64(len(b.t.samples))
			b.t.samples = append(b.t.samples, st.Samples)
		}
	}
	b.t.rows = append(b.t.rows, r)
}

// mergeHours appends the hourly counts of the sides, taking hour by hour
// the largest count of the sides, and returns where they are.
func (b *TableBuilder) mergeHours(sides *[3]SideState) (at, n uint32) {
	at = uint32(len(b.t.hours))
	for i := range sides {
		if !ascending(sides[i].Hourly) {
			return at, b.mergeUnordered(sides)
		}
	}
	var next [3]int
	for {
		h, any := int32(0), false
		for i := range sides {
			if hs := sides[i].Hourly; next[i] < len(hs) && (!any || hs[next[i]].Hour < h) {
				h, any = hs[next[i]].Hour, true
			}
		}
		if !any {
			break
		}
		var most uint32
		for i := range sides {
			if hs := sides[i].Hourly; next[i] < len(hs) && hs[next[i]].Hour == h {
				most = max(most, hs[next[i]].N)
				next[i]++
			}
		}
		b.t.hours = append(b.t.hours, HourCount{h, most})
	}
	return at, uint32(len(b.t.hours)) - at
}

// mergeUnordered is mergeHours for lists not in strict time order (never
// written by FlowSleuth).
func (b *TableBuilder) mergeUnordered(sides *[3]SideState) uint32 {
	byHour := make(map[int32]uint32)
	for i := range sides {
		for _, h := range sides[i].Hourly {
			byHour[h.Hour] = max(byHour[h.Hour], h.N)
		}
	}
	n := len(b.t.hours)
	for h, c := range byHour {
		b.t.hours = append(b.t.hours, HourCount{h, c})
	}
	slices.SortFunc(b.t.hours[n:], func(x, y HourCount) int { return cmp.Compare(x.Hour, y.Hour) })
	return uint32(len(byHour))
}

func ascending(hs []HourCount) bool {
	for i := 1; i < len(hs); i++ {
		if hs[i].Hour <= hs[i-1].Hour {
			return false
		}
	}
	return true
}

// tagSet interns the tags of a list of labels.
func (b *TableBuilder) tagSet(labels []LabelState) uint32 {
	key := b.buf[:0]
	for _, l := range labels {
		key = binary.AppendUvarint(key, uint64(len(l.Name)))
		key = append(append(key, l.Name...), l.Sides)
	}
	b.buf = key
	return intern(b.tagIdx, key, &b.t.tagSets, func() []Tag { return tags(labels, b.ruleTags) })
}

// hostSet interns a list of hosts, sorted.
func (b *TableBuilder) hostSet(hosts []string) uint32 {
	key := b.buf[:0]
	for _, h := range hosts {
		key = binary.AppendUvarint(key, uint64(len(h)))
		key = append(key, h...)
	}
	b.buf = key
	return intern(b.hostIdx, key, &b.t.hostSets, func() []string {
		set := slices.Clone(hosts)
		slices.Sort(set)
		return set
	})
}

// actSet interns the actions of a set of action bits.
func (b *TableBuilder) actSet(bits uint16) uint32 {
	if n, ok := b.actIdx[bits]; ok {
		return n
	}
	var set []ingest.Action
	for a := ingest.Action(1); a < 16; a++ {
		if bits&(1<<a) != 0 {
			set = append(set, a)
		}
	}
	n := uint32(len(b.t.actSets))
	b.t.actSets = append(b.t.actSets, set)
	b.actIdx[bits] = n
	return n
}

// Len returns the number of conversations added.
func (b *TableBuilder) Len() int { return len(b.t.rows) }

// Addrs calls fn with the source and destination of every conversation added.
func (b *TableBuilder) Addrs(fn func(netip.Addr)) {
	for i := range b.t.rows {
		fn(b.t.Src(i))
		fn(b.t.Dst(i))
	}
}

// Learned returns the set learned from the conversations added: the
// endpoints they show behind an enforcement point (LearnEndpoints).
func (b *TableBuilder) Learned() *Monitored {
	learned := make(map[addrKey]struct{})
	for i := range b.t.rows {
		r := &b.t.rows[i]
		if r.learned&1 != 0 {
			learned[addrKey{r.src, r.flags&flagSrc4 != 0}] = struct{}{}
		}
		if r.learned&2 != 0 {
			learned[addrKey{r.dst, r.flags&flagDst4 != 0}] = struct{}{}
		}
	}
	return &Monitored{learned: learned}
}

// Finish gives every row its direction relative to mon and the inventory's
// labels of its ends (vms may be nil), sorts the rows as Compare orders
// conversations, and returns the table. The builder is spent.
func (b *TableBuilder) Finish(mon *Monitored, vms map[netip.Addr]VMLabel) *Table {
	t := b.t
	b.t = nil
	labels := map[netip.Addr]uint32{}
	label := func(a netip.Addr) uint32 {
		l, ok := vms[a]
		if !ok {
			return 0
		}
		n, ok := labels[a]
		if !ok {
			n = uint32(len(t.inv))
			t.inv = append(t.inv, l)
			labels[a] = n
		}
		return n
	}
	if len(vms) > 0 {
		for i := range t.rows {
			t.rows[i].srcInv, t.rows[i].dstInv = label(t.Src(i)), label(t.Dst(i))
		}
	}
	// The monitored set's lookups are most of the work: on every core.
	parts := min(runtime.GOMAXPROCS(0), 1+len(t.rows)/65536)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p * len(t.rows) / parts; i < (p+1)*len(t.rows)/parts; i++ {
				r := &t.rows[i]
				r.dir = direction(mon.containsIP(r.src, r.flags&flagSrc4 != 0), mon.containsIP(r.dst, r.flags&flagDst4 != 0))
			}
		}()
	}
	wg.Wait()
	sort.Sort(byKey(t.rows))
	return t
}

// byKey sorts rows in place as Compare orders conversations, comparing
// them where they are (slices.SortFunc would copy two rows a comparison).
type byKey []tableRow

func (s byKey) Len() int           { return len(s) }
func (s byKey) Less(i, j int) bool { return compareRows(&s[i], &s[j]) < 0 }
func (s byKey) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

// NewTable returns a table of conversations, in their order, keeping their
// sample lines. Hourly counts are kept per whole hour (a Start within an
// hour counts for that hour) and at most math.MaxUint32 sessions each.
func NewTable(convs []Conversation) *Table {
	b := NewTableBuilder(nil, len(convs), nil)
	t := b.t
	tagIdx := map[string]uint32{}
	invIdx := map[string]uint32{}
	var key []byte
	for i := range convs {
		c := &convs[i]
		r := tableRow{src: toIP128(c.Src), dst: toIP128(c.Dst), proto: c.Proto, dport: c.DPort, dir: c.Direction,
			sessions: c.Sessions, unanswered: c.Unanswered, origPkts: c.OrigPkts, origBytes: c.OrigBytes,
			replyPkts: c.ReplyPkts, replyBytes: c.ReplyBytes, key: -1}
		if c.Src.Is4() {
			r.flags |= flagSrc4
		}
		if c.Dst.Is4() {
			r.flags |= flagDst4
		}
		if c.Unauthenticated {
			r.flags |= flagUnauthenticated
		}
		r.flags = withSamples(r.flags, len(c.Samples))
		if !c.First.IsZero() {
			r.first = c.First.UnixNano()
			if !c.Last.IsZero() {
				r.last = c.Last.UnixNano()
			}
		}
		r.hourAt = uint32(len(t.hours))
		for _, h := range c.Hourly {
			t.hours = append(t.hours, HourCount{Hour: int32(floorDiv(h.Start.Unix(), 3600)),
				N: uint32(min(h.Sessions, math.MaxUint32))})
		}
		r.hourN = uint32(len(c.Hourly))
		key = key[:0]
		for _, tg := range c.Tags {
			key = binary.AppendUvarint(key, uint64(len(tg.Name)))
			key = append(append(key, tg.Name...), byte(tg.Direction))
		}
		if len(c.Tags) > 0 {
			r.tags = intern(tagIdx, key, &t.tagSets, func() []Tag { return slices.Clone(c.Tags) })
		}
		r.hosts = b.hostSet(c.Hosts)
		var bits uint16
		for _, a := range c.Actions {
			bits |= 1 << a
		}
		r.acts = b.actSet(bits)
		for _, v := range c.Vendors {
			r.vendors |= 1 << v
		}
		r.srcInv = internLabel(invIdx, &t.inv, c.SrcVM, c.SrcGroups)
		r.dstInv = internLabel(invIdx, &t.inv, c.DstVM, c.DstGroups)
		if len(c.Samples) > 0 {
			r.key = int64(len(t.samples))
			t.samples = append(t.samples, c.Samples)
		}
		t.rows = append(t.rows, r)
	}
	return t
}

// internLabel returns the number of an inventory label (0: none).
func internLabel(idx map[string]uint32, inv *[]VMLabel, vm string, groups []string) uint32 {
	if vm == "" && groups == nil {
		return 0
	}
	key := make([]byte, 0, 64)
	key = binary.AppendUvarint(key, uint64(len(vm)))
	key = append(key, vm...)
	for _, g := range groups {
		key = binary.AppendUvarint(key, uint64(len(g)))
		key = append(key, g...)
	}
	if groups != nil && len(groups) == 0 {
		key = append(key, 0xff) // an empty list, kept apart from none
	}
	if n, ok := idx[string(key)]; ok {
		return n
	}
	n := uint32(len(*inv))
	*inv = append(*inv, VMLabel{vm, groups})
	idx[string(key)] = n
	return n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
