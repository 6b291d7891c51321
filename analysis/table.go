package analysis

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/flowsleuth/flowsleuth/ingest"
)

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
func (t *Table) CompareRows(i, j int) int { return compareRows(&t.rows[t.at(i)], &t.rows[t.at(j)]) }

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
	adviseHugeArray(t.rows)
	adviseHugeArray(t.hours)
	return &TableBuilder{t: t, ruleTags: ruleTags, tagIdx: map[string]uint32{"": 0}, hostIdx: map[string]uint32{"": 0},
		actIdx: map[uint16]uint32{0: 0}, keep: loader == nil}
}

// Add adds the conversation of st; key is its key in the store and
// samples its number of sample lines (with a loader: st.Samples may be
// left out). Without a loader the table keeps st.Samples (not a copy); the
// builder copies nothing else of st, which may be reused.
func (b *TableBuilder) Add(st *ConvState, key int64, samples int) {
	b.AddNumbered(st, key, samples, b.TagSet(st.Labels), b.HostSet(st.Hosts))
}

// AddNumbered is Add of a conversation whose labels and reporting hosts
// the caller has numbered with TagSet and HostSet; st.Labels and st.Hosts
// are not read. A reader of many conversations that share few lists (the
// workspace) numbers each distinct list once instead of once a row.
func (b *TableBuilder) AddNumbered(st *ConvState, key int64, samples int, tagSet, hostSet uint32) {
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
	r.tags, r.hosts = tagSet, hostSet
	r.acts = b.actSet(st.Actions)
	r.vendors = st.Vendors
	if b.keep {
		r.key = -1
		if len(st.Samples) > 0 {
			r.key = int64(len(b.t.samples))
			b.t.samples = append(b.t.samples, st.Samples)
		}
	}
	if len(b.t.rows) == cap(b.t.rows) { // more rows than the size given: append moves them
		adviseNormalArray(b.t.rows)
	}
	b.t.rows = append(b.t.rows, r)
}

// mergeHours appends the hourly counts of the sides, taking hour by hour
// the largest count of the sides, and returns where they are.
func (b *TableBuilder) mergeHours(sides *[3]SideState) (at, n uint32) {
	b.reserveHours(len(sides[0].Hourly) + len(sides[1].Hourly) + len(sides[2].Hourly))
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

// reserveHours makes room for need more hourly counts. When the list
// must grow, the rows added so far predict its length for the table's size
// (a twentieth more, at most twice the room it had): appending grew it a
// quarter at a time, copying the list seven times on a workspace of four
// hours a conversation (144 MB allocated for a 40 MB list).
func (b *TableBuilder) reserveHours(need int) {
	h := b.t.hours
	if len(h)+need <= cap(h) {
		return
	}
	rows := len(b.t.rows) + 1
	est := int(float64(len(h)+need) / float64(rows) * float64(max(cap(b.t.rows), rows)) * 1.05)
	est = max(min(est, 2*cap(h)), cap(h)+cap(h)/4, len(h)+need)
	grown := make([]HourCount, len(h), est)
	adviseHugeArray(grown)
	adviseNormalArray(h) // garbage now
	copy(grown, h)
	b.t.hours = grown
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

// TagSet returns the number of the set of tags of labels (for
// AddNumbered), numbering it if it is new.
func (b *TableBuilder) TagSet(labels []LabelState) uint32 {
	key := b.buf[:0]
	for _, l := range labels {
		key = binary.AppendUvarint(key, uint64(len(l.Name)))
		key = append(append(key, l.Name...), l.Sides)
	}
	b.buf = key
	return intern(b.tagIdx, key, &b.t.tagSets, func() []Tag { return tags(labels, b.ruleTags) })
}

// HostSet returns the number of the set of reporting hosts of hosts (for
// AddNumbered), numbering it if it is new.
func (b *TableBuilder) HostSet(hosts []string) uint32 {
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

// Abandon drops the table being built, when Finish was not called (a
// read that failed): its arrays, which asked for huge pages, no longer
// ask. The builder is spent.
func (b *TableBuilder) Abandon() {
	if b.t != nil {
		adviseNormalArray(b.t.rows)
		adviseNormalArray(b.t.hours)
		b.t = nil
	}
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
	adviseNormalArray(t.rows)
	adviseNormalArray(t.hours)
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
			var seen memberCache
			for i := p * len(t.rows) / parts; i < (p+1)*len(t.rows)/parts; i++ {
				r := &t.rows[i]
				r.dir = direction(seen.contains(mon, r.src, r.flags&flagSrc4 != 0), seen.contains(mon, r.dst, r.flags&flagDst4 != 0))
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
