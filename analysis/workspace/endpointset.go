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
// the sorted copy saveEndpoints made of it 12 MB more, at the import's
// peak; sorted returns the table's own slots, sorted by their bytes, which
// is also the table's key order, so its inserts append.
type endpointSet struct {
	slots   []addr16 // the zero value: free
	n       int      // addresses in slots
	hasZero bool     // :: itself, which a free slot cannot tell apart
}

// addr16 is an address's 16 bytes of As16 as two big-endian numbers.
type addr16 struct{ hi, lo uint64 }

// endpointSlotsMin is the table's first size, a power of two.
const endpointSlotsMin = 1 << 12

func (s *endpointSet) add(a netip.Addr) {
	b := a.As16()
	k := addr16{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
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

// sorted returns the distinct addresses in the order of their bytes; the
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
	*s = endpointSet{}
	slices.SortFunc(out, func(a, b addr16) int {
		return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo))
	})
	return out
}

// put writes a's 16 bytes into b.
func (a addr16) put(b []byte) {
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:16], a.lo)
}
