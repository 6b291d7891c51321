package summary

import (
	"iter"
	"net/netip"
	"sync"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/radix"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// tagAcc is what the overview adds up of one tag.
type tagAcc struct {
	num      int  // the tag's number, from 0
	used     bool // some conversation has the tag
	sessions [4]uint64
	other    map[netip.Addr]uint64 // sessions by peer that is not IPv4
	services []Count               // the top services
	peers    []Count               // the top peers
}

// tagAccs returns the accumulators of every tag of t by name, and those of
// each tag set in the set's order, each tag numbered in turn.
func tagAccs(t *analysis.Table) (byTags [][]*tagAcc, tags map[string]*tagAcc) {
	tags = make(map[string]*tagAcc)
	byTags = make([][]*tagAcc, t.TagSets())
	for set := range byTags {
		ts := t.TagSetOf(set)
		accs := make([]*tagAcc, len(ts))
		for x, tg := range ts {
			if accs[x] = tags[tg.Name]; accs[x] == nil {
				accs[x] = &tagAcc{num: len(tags)}
				tags[tg.Name] = accs[x]
			}
		}
		byTags[set] = accs
	}
	return byTags, tags
}

// sumTags adds up the sessions of every tag of t by direction, and sets
// its top n services and peers, on parts goroutines.
//
// Added up tag by tag in a map each, row after row, a million
// conversations of four tags each (four of 60 tags, 50,000 services, a
// million distinct sources) were eight million map assignments spread over
// maps of tens of megabytes together: nearly each one missed the
// processor's caches, and the maps grew by copying (2–3 s of CPU, most of
// the time the Overview took past reading the table). Here the keys of
// each tag are first written out, tag after tag, as one list of (key,
// sessions), 12 bytes an entry, then each tag's list is added up in a map
// of that tag alone, which stays in the cache: the services first, then
// the peers in the same room.
func sumTags(t *analysis.Table, byTags [][]*tagAcc, tags, n, parts int) {
	if tags == 0 {
		return
	}
	all := make([]*tagAcc, tags)
	for _, accs := range byTags {
		for _, acc := range accs {
			all[acc.num] = acc
		}
	}
	rows := make([]int, len(byTags)) // by tag set
	for i := range t.Len() {
		rows[t.TagSet(i)]++
	}
	l := newTagLists(t, byTags, rows, tags, false, tagLists{})
	for i := range t.Len() {
		accs := byTags[t.TagSet(i)]
		if len(accs) == 0 {
			continue
		}
		s, k := t.Sessions(i), uint32(serviceKey(t.Proto(i), t.ServicePort(i)))
		for x, tg := range t.Tags(i) {
			acc := accs[x]
			acc.used = true
			acc.sessions[tg.Direction&3] += s
			l.add(acc.num, k, s)
		}
	}
	l.sum(parts, func(k int, sums iter.Seq2[uint32, uint64]) { all[k].services = serviceCounts(sums, n) })
	l = newTagLists(t, byTags, rows, tags, true, l)
	for i := range t.Len() {
		accs := byTags[t.TagSet(i)]
		if len(accs) == 0 {
			continue
		}
		for x, tg := range t.Tags(i) {
			if tg.Direction == ingest.DirInbound || tg.Direction == ingest.DirOutbound {
				addPeer(&l, accs[x], t, i, tg.Direction)
			}
		}
	}
	l.sum(parts, func(k int, sums iter.Seq2[uint32, uint64]) { all[k].peers = peerCounts(sums, all[k].other, n) })
}

// addPeer adds row i of t to acc's peers: its source when dir is
// inbound, else its destination.
func addPeer(l *tagLists, acc *tagAcc, t *analysis.Table, i int, dir ingest.Direction) {
	_, lo, is4 := t.DstIP(i)
	if dir == ingest.DirInbound {
		_, lo, is4 = t.SrcIP(i)
	}
	if is4 {
		l.add(acc.num, uint32(lo), t.Sessions(i))
		return
	}
	if acc.other == nil {
		acc.other = make(map[netip.Addr]uint64)
	}
	a := t.Dst(i)
	if dir == ingest.DirInbound {
		a = t.Src(i)
	}
	acc.other[a] += t.Sessions(i)
}

// tagLists are lists of (key, sessions), one a tag, back to back.
type tagLists struct {
	keys     []uint32
	sessions []uint64
	start    []int // where tag k's list starts; the end of the last, last
	end      []int // where tag k's list ends so far
}

// newTagLists makes room for a list for each tag of every row of t (rows
// counts the rows by tag set), or with peers for each tag whose direction
// has a peer (inbound or outbound), in the arrays of old when they are
// long enough: the peers' lists are a part of the services', which are
// added up by then (wstag1m: 48 MB of fresh memory not made twice, its
// first writes page faults).
func newTagLists(t *analysis.Table, byTags [][]*tagAcc, rows []int, tags int, peers bool, old tagLists) tagLists {
	l := tagLists{start: make([]int, tags+1), end: make([]int, tags)}
	for set, accs := range byTags {
		for x, tg := range t.TagSetOf(set) {
			if !peers || tg.Direction == ingest.DirInbound || tg.Direction == ingest.DirOutbound {
				l.start[accs[x].num+1] += rows[set]
			}
		}
	}
	for k := range tags {
		l.start[k+1] += l.start[k]
		l.end[k] = l.start[k]
	}
	if n := l.start[tags]; n <= len(old.keys) {
		l.keys, l.sessions = old.keys[:n], old.sessions[:n]
	} else {
		l.keys, l.sessions = make([]uint32, n), make([]uint64, n)
	}
	return l
}

func (l *tagLists) add(tag int, key uint32, sessions uint64) {
	j := l.end[tag]
	l.keys[j], l.sessions[j] = key, sessions
	l.end[tag]++
}

// sum adds up each tag's list by key and calls done with the tag's number
// and its sums, on parts goroutines, each tag on one. A list is sorted by
// key in place (radix.Sort) and its runs added up: a tag may
// have a list of 70,000 entries of as many keys, which a map added up at
// the cost of a hash, a probe and, as it grew, copies per entry (0.6 s of
// CPU for wstag1m's 60 tags; the sort, a tenth of it).
func (l *tagLists) sum(parts int, done func(tag int, sums iter.Seq2[uint32, uint64])) {
	longest := 0
	for k := range l.end {
		longest = max(longest, l.end[k]-l.start[k])
	}
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys2, sessions2 := make([]uint32, longest), make([]uint64, longest) // the sort's room
			for k := p; k < len(l.end); k += parts {
				keys, sessions := l.keys[l.start[k]:l.end[k]], l.sessions[l.start[k]:l.end[k]]
				radix.Sort(keys, sessions, keys2, sessions2)
				done(k, runSums(keys, sessions))
			}
		}()
	}
	wg.Wait()
}

// runSums yields each key of keys (sorted) once, with the sum of its
// sessions.
func runSums(keys []uint32, sessions []uint64) iter.Seq2[uint32, uint64] {
	return func(yield func(uint32, uint64) bool) {
		for j := 0; j < len(keys); {
			k, sum := keys[j], sessions[j]
			for j++; j < len(keys) && keys[j] == k; j++ {
				sum += sessions[j]
			}
			if !yield(k, sum) {
				return
			}
		}
	}
}
