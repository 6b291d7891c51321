package analysis

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Table is the read form of a set of conversations (ConvState is the
// working and stored one): what synthesis, the policy check, the exports
// and the app's views read, and what rules and review items point into by
// row number.
//
// Each conversation is one fixed-size row without pointers (addresses,
// figures, times, the numbers of interned lists), so a million of them take
// about 150 MB and cost the garbage collector nothing to scan. Tag lists,
// host lists and inventory names are interned, once per distinct list;
// hourly counts are kept back to back in one array; sample lines stay
// where they are (in the workspace) and are read when asked for
// (SampleLoader). A row is read through accessors, one field at a time:
// there is no copy of a row (analysistest spells one out for tests). A
// window of a table (Window) is a view of its rows, not a copy.
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

	// A window of another table (window.go) shares its rows: sel numbers
	// them in rows, win holds their hours and sessions in the window.
	sel []int32
	win []windowRow

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
	if t.sel != nil {
		return len(t.sel)
	}
	return len(t.rows)
}

// Src returns the source address of row i.
func (t *Table) Src(i int) netip.Addr {
	r := &t.rows[t.at(i)]
	return r.src.addr(r.flags&flagSrc4 != 0)
}

// Dst returns the destination address of row i.
func (t *Table) Dst(i int) netip.Addr {
	r := &t.rows[t.at(i)]
	return r.dst.addr(r.flags&flagDst4 != 0)
}

// Proto returns the protocol of row i.
func (t *Table) Proto(i int) uint8 { return t.rows[t.at(i)].proto }

// DPort returns the destination port (ICMP: the type) of row i.
func (t *Table) DPort(i int) uint16 { return t.rows[t.at(i)].dport }

// Direction returns the direction of row i relative to the monitored set.
func (t *Table) Direction(i int) ingest.Direction { return t.rows[t.at(i)].dir }

// ServicePort returns the port that identifies row i's service: its
// destination port, or 0 for ICMP, whose types are one service (as
// services.Port of a conversation).
func (t *Table) ServicePort(i int) uint16 {
	r := &t.rows[t.at(i)]
	if r.proto == ingest.ProtoICMP || r.proto == ingest.ProtoICMPv6 {
		return 0
	}
	return r.dport
}

// Sessions returns the sessions of row i.
func (t *Table) Sessions(i int) uint64 {
	if t.win != nil {
		return t.win[i].sessions
	}
	return t.rows[i].sessions // a table that is no window numbers its rows itself
}

// Bytes returns the bytes of row i in both directions.
func (t *Table) Bytes(i int) uint64 {
	r := &t.rows[t.at(i)]
	return r.origBytes + r.replyBytes
}

// Suspect reports whether no session of row i was ever answered.
func (t *Table) Suspect(i int) bool {
	s := t.Sessions(i)
	return s > 0 && t.Unanswered(i) >= s
}

// First returns when row i was first seen (zero when unknown).
func (t *Table) First(i int) time.Time { return unixTime(t.rows[t.at(i)].first) }

// Last returns when row i was last seen (zero when unknown).
func (t *Table) Last(i int) time.Time { return unixTime(t.rows[t.at(i)].last) }

// FirstNano returns when row i was first seen in unix nanoseconds (0 when unknown).
func (t *Table) FirstNano(i int) int64 { return t.rows[t.at(i)].first }

// LastNano returns when row i was last seen in unix nanoseconds (0 when unknown).
func (t *Table) LastNano(i int) int64 { return t.rows[t.at(i)].last }

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Tags returns the tags of row i, shared: read them, never change them.
func (t *Table) Tags(i int) []Tag { return t.tagSets[t.rows[t.at(i)].tags] }

// TagSet returns the number of row i's list of tags: rows with the same
// number have the same tags (TagSetOf lists them).
func (t *Table) TagSet(i int) int { return int(t.rows[t.at(i)].tags) }

// TagSets returns the number of distinct lists of tags (TagSet < TagSets).
func (t *Table) TagSets() int { return len(t.tagSets) }

// TagSetOf returns list n of tags, shared.
func (t *Table) TagSetOf(n int) []Tag { return t.tagSets[n] }

// Hosts returns the reporting hosts of row i, sorted and shared.
func (t *Table) Hosts(i int) []string { return t.hostSets[t.rows[t.at(i)].hosts] }

// HostSet returns the number of row i's list of hosts (HostSetOf lists them).
func (t *Table) HostSet(i int) int { return int(t.rows[t.at(i)].hosts) }

// HostSets returns the number of distinct lists of hosts.
func (t *Table) HostSets() int { return len(t.hostSets) }

// HostSetOf returns list n of hosts, shared.
func (t *Table) HostSetOf(n int) []string { return t.hostSets[n] }

// Actions returns the verdicts seen on row i, in enum order, shared.
func (t *Table) Actions(i int) []ingest.Action { return t.actSets[t.rows[t.at(i)].acts] }

// ActionSet returns the number of row i's list of verdicts (ActionSetOf
// lists them).
func (t *Table) ActionSet(i int) int { return int(t.rows[t.at(i)].acts) }

// ActionSets returns the number of distinct lists of verdicts.
func (t *Table) ActionSets() int { return len(t.actSets) }

// ActionSetOf returns list n of verdicts, shared.
func (t *Table) ActionSetOf(n int) []ingest.Action { return t.actSets[n] }

// SrcIP and DstIP return row i's addresses as 128-bit numbers (most
// significant half first) and whether each is IPv4: sort keys without
// making netip.Addr values.
func (t *Table) SrcIP(i int) (hi, lo uint64, is4 bool) {
	r := &t.rows[t.at(i)]
	return r.src.hi, r.src.lo, r.flags&flagSrc4 != 0
}

// DstIP is SrcIP of the destination.
func (t *Table) DstIP(i int) (hi, lo uint64, is4 bool) {
	r := &t.rows[t.at(i)]
	return r.dst.hi, r.dst.lo, r.flags&flagDst4 != 0
}

// SrcLabel returns the number of the inventory's label of row i's source
// (0: none; VMLabelOf names it); DstLabel, of its destination.
func (t *Table) SrcLabel(i int) int { return int(t.rows[t.at(i)].srcInv) }

// DstLabel is SrcLabel of the destination.
func (t *Table) DstLabel(i int) int { return int(t.rows[t.at(i)].dstInv) }

// VMLabels returns the number of inventory labels (label numbers are below it).
func (t *Table) VMLabels() int { return len(t.inv) }

// VMLabelOf returns inventory label n (0: the empty label), shared.
func (t *Table) VMLabelOf(n int) VMLabel { return t.inv[n] }

// HourCounts returns the hourly session counts of row i, in time order,
// shared.
func (t *Table) HourCounts(i int) []HourCount {
	at, n := t.hourRange(i)
	return t.hours[at : at+n : at+n]
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
			if k := t.rows[t.at(int(i))].key; k >= 0 && int(k) < len(t.samples) {
				out[j] = t.samples[k]
			}
		}
		return out
	}
	keys := make([]int64, len(rows))
	for j, i := range rows {
		keys[j] = t.rows[t.at(int(i))].key
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

// Key returns the key of row i.
func (t *Table) Key(i int) Key {
	r := &t.rows[t.at(i)]
	return Key{Src: r.src.bytes(), Dst: r.dst.bytes(), Proto: r.proto, DPort: r.dport}
}

// Reordered returns a table of t's rows in the order of rows (a row may be
// left out), sharing t's lists and samples: the order of a top list.
func (t *Table) Reordered(rows []int32) *Table {
	out := &Table{tagSets: t.tagSets, hostSets: t.hostSets, actSets: t.actSets, inv: t.inv,
		hours: t.hours, samples: t.samples, loader: t.loader, rows: make([]tableRow, len(rows))}
	for j, i := range rows {
		out.rows[j] = t.row(int(i))
	}
	return out
}

// ByBytes returns the numbers of t's rows, the most bytes first (rows
// with as many bytes in table order).
func (t *Table) ByBytes() []int32 {
	rows := t.All()
	slices.SortStableFunc(rows, func(a, b int32) int { return cmp.Compare(t.Bytes(int(b)), t.Bytes(int(a))) })
	return rows
}

// WithLabels returns t with the inventory's labels of its rows' ends (vms),
// in place of those it had, sharing t's other lists and samples: for a
// table read from elsewhere than the workspace that holds the inventory.
func (t *Table) WithLabels(vms map[netip.Addr]VMLabel) *Table {
	out := &Table{tagSets: t.tagSets, hostSets: t.hostSets, actSets: t.actSets, inv: []VMLabel{{}},
		hours: t.hours, samples: t.samples, loader: t.loader, rows: t.plainRows()}
	byAddr, byLabel := map[netip.Addr]uint32{}, map[string]uint32{}
	label := func(a netip.Addr) uint32 {
		n, ok := byAddr[a]
		if !ok {
			l := vms[a]
			n = internLabel(byLabel, &out.inv, l.VM, l.Groups)
			byAddr[a] = n
		}
		return n
	}
	for i := range out.rows {
		out.rows[i].srcInv, out.rows[i].dstInv = label(t.Src(i)), label(t.Dst(i))
	}
	return out
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

// windowRow is what a window changes of a row of its table: its hours and
// sessions in the window. Its unanswered sessions are the table's row's,
// at most its sessions in the window when it has hours there (Unanswered):
// a field less on each row of a window of a million.
type windowRow struct {
	sessions      uint64
	hourAt, hourN uint32
}

// at returns the number in t.rows of row i (a window's rows are some of
// its table's).
func (t *Table) at(i int) int {
	if t.sel != nil {
		return int(t.sel[i])
	}
	return i
}

// hourRange returns where row i's hourly counts are in t.hours.
func (t *Table) hourRange(i int) (at, n uint32) {
	if t.win != nil {
		return t.win[i].hourAt, t.win[i].hourN
	}
	r := &t.rows[i]
	return r.hourAt, r.hourN
}

// row returns a copy of row i, with what a window changes of it.
func (t *Table) row(i int) tableRow {
	r := t.rows[t.at(i)]
	if t.win != nil {
		w := &t.win[i]
		r.sessions, r.unanswered, r.hourAt, r.hourN = w.sessions, t.Unanswered(i), w.hourAt, w.hourN
	}
	return r
}

// plainRows returns a copy of t's rows, a window's as it sees them.
func (t *Table) plainRows() []tableRow {
	out := make([]tableRow, t.Len())
	for i := range out {
		out[i] = t.row(i)
	}
	return out
}

// Unanswered returns the sessions of row i whose destination never
// answered (or that were dropped).
func (t *Table) Unanswered(i int) uint64 {
	if t.win != nil {
		w, n := &t.win[i], t.rows[t.sel[i]].unanswered
		if w.hourN == 0 { // a row without hours, kept whole
			return n
		}
		return min(n, w.sessions)
	}
	return t.rows[i].unanswered
}
