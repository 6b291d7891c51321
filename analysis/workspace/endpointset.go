package workspace

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
)

// endpointSet gathers the addresses a commit learns behind an enforcement
// point in the form the endpoints table stores (the 16 bytes of As16), as
// two numbers each in an open-addressing table: 16 bytes a slot, at most
// twice as many slots as addresses once it holds a few thousand. A map of
// netip.Addr held a million-conversation commit's 500,100 at 43 MB, and
// the sorted copy the commit then made of it 12 MB more, at the import's
// peak; sorted returns the table's own slots, sorted by their bytes, which
// is also the table's key order, so its inserts append.
//
// Addresses that come in order (addInOrder: a commit walks its states in
// key order, their sources in order) are kept apart, in a list, and merged
// at the end. Put in the table, the 500,000 sources of ws1m's log cost the
// commit's encoder, its critical path, 0.17 s of cache misses and the
// sort 0.07 s more.
type endpointSet struct {
	slots   []addr16 // the zero value: free
	n       int      // addresses in slots
	hasZero bool     // :: itself, which a free slot cannot tell apart
	run     []addr16 // addInOrder's, ascending, distinct (none is zero)
	taken   int      // run[:taken] handed by takeRun
}

// takeRun returns the addresses addInOrder added to the run since its last
// call, ascending: final, so that a commit's writer can store them while the
// encoder goes on, instead of all of them at the end (9% of the import of
// ws1m's log, whose commit's writer waits for its encoder most of the time).
func (s *endpointSet) takeRun() []addr16 {
	out := s.run[s.taken:len(s.run):len(s.run)]
	s.taken = len(s.run)
	return out
}

// addr16 is an address's 16 bytes of As16 as two big-endian numbers.
type addr16 struct{ hi, lo uint64 }

// endpointSlotsMin is the table's first size, a power of two.
const endpointSlotsMin = 1 << 12

func (s *endpointSet) add(a netip.Addr) { s.addKey(key16(a)) }

// addKey adds the address of key k.
func (s *endpointSet) addKey(k addr16) {
	if k == (addr16{}) {
		s.hasZero = true
		return
	}
	if 4*(s.n+1) > 3*len(s.slots) { // at most three quarters full
		s.grow()
	}
	if s.insert(k) {
		s.n++
	}
}

// addInOrder adds a, most often not before the address it was last given:
// then it goes to the run, else to the table.
func (s *endpointSet) addInOrder(a netip.Addr) {
	k := key16(a)
	c := 1 // k against the run's last
	if n := len(s.run); n > 0 {
		c = k.compare(s.run[n-1])
	}
	switch {
	case c > 0 && k != (addr16{}):
		s.run = append(s.run, k)
	case c != 0:
		s.addKey(k)
	}
}

// key16 returns a's key.
func key16(a netip.Addr) addr16 {
	b := a.As16()
	return addr16{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// compare orders two addresses by their bytes.
func (a addr16) compare(b addr16) int {
	return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo))
}

// insert puts k in its slot unless it is there already, and reports
// whether it was new.
func (s *endpointSet) insert(k addr16) bool {
	mask := uint64(len(s.slots) - 1)
	hi, _ := bits.Mul64(k.hi^bits.RotateLeft64(k.lo, 29), 0x9e3779b97f4a7c15)
	for i := (hi ^ k.lo*0xbf58476d1ce4e5b9) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return false
		case addr16{}:
			s.slots[i] = k
			return true
		}
	}
}

// grow doubles the table.
func (s *endpointSet) grow() {
	old := s.slots
	s.slots = make([]addr16, max(endpointSlotsMin, 2*len(old)))
	for _, k := range old {
		if k != (addr16{}) {
			s.insert(k)
		}
	}
}

// sorted returns the distinct addresses in the order of their bytes, but
// those takeRun handed (some of which may come again, from the table); the
// set is spent.
func (s *endpointSet) sorted() []addr16 {
	out := s.slots[:0] // written behind where the loop reads
	for i := range s.slots {
		if k := s.slots[i]; k != (addr16{}) {
			out = append(out, k)
		}
	}
	if s.hasZero {
		out = append(out, addr16{}) // a quarter of the slots at least is free
	}
	run := s.run[s.taken:]
	*s = endpointSet{}
	slices.SortFunc(out, addr16.compare)
	if len(run) == 0 {
		return out
	}
	if len(out) == 0 {
		return run
	}
	return mergeSorted(out, run)
}

// mergeSorted returns the addresses of a and b, both ascending and
// distinct, in one ascending list without repeats.
func mergeSorted(a, b []addr16) []addr16 {
	out := make([]addr16, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := a[0].compare(b[0]); {
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		case c > 0:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// put writes a's 16 bytes into b.
func (a addr16) put(b []byte) {
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:16], a.lo)
}
