package analysis

import (
	"math"
	"math/bits"
	"unsafe"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// table is an open-addressing hash table of open connections: linear
// probing, between 68% and 85% full once grown past the caches (by a
// quarter at a time, grown), deletion by shifting back (no tombstones).
// Its 44-byte slots hold no pointers and live outside the Go heap
// (allocSlots), and a lookup or an insert gives the slot's value to change
// in place: one probe per line. free must be called when the table is
// dropped.
type table struct {
	slots []slot
	n     int // live entries
	// The empty slot where get last failed to find missKey, plus one, for
	// put to fill without probing again; 0 when none, or when a put, a del
	// or a resize changed the slots since.
	missKey openKey
	missAt  int
	hint    int // slots to grow to at once once large (expect)
}

type slot struct {
	k openKey
	v openVal // v.n == 0: an empty slot
}

const (
	tableMin  = 64
	tableLoad = 85      // percent
	farSlots  = 1 << 14 // the size of a table past the processor's caches
)

func (k openKey) hash() uint64 {
	a := uint64(k.src) | uint64(k.dst)<<32
	b := uint64(k.sport) | uint64(k.dport)<<16 | uint64(k.point)<<32
	h := (a ^ b*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	return h ^ h>>31
}

// home returns the slot where a key of hash h belongs.
func (t *table) home(h uint64) int {
	i, _ := bits.Mul64(h, uint64(len(t.slots)))
	return int(i)
}

// get returns the value of k, or nil. It stays valid until the next put or
// del.
func (t *table) get(k openKey) *openVal {
	t.missAt = 0
	if t.n == 0 {
		return nil
	}
	for i := t.home(k.hash()); ; {
		s := &t.slots[i]
		if s.v.n == 0 {
			t.missKey, t.missAt = k, i+1
			return nil
		}
		if s.k == k {
			return &s.v
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

// getAt is get, told where peek found k: while slot at-1 holds k, k is
// there (a key is in one slot at most), and it is not looked for again.
func (t *table) getAt(k openKey, at int) *openVal {
	if at > 0 && at <= len(t.slots) {
		if s := &t.slots[at-1]; s.v.n != 0 && s.k == k {
			t.missAt = 0
			return &s.v
		}
	}
	return t.get(k)
}

// peek returns the value of k and its slot plus one, or nil and 0, as get
// does, but leaves where get last failed alone (put's shortcut): for a
// look-up ahead of the line's own.
func (t *table) peek(k openKey) (*openVal, int) {
	if t.n == 0 {
		return nil, 0
	}
	for i := t.home(k.hash()); ; {
		s := &t.slots[i]
		if s.v.n == 0 {
			return nil, 0
		}
		if s.k == k {
			return &s.v, i + 1
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

// prefetch asks for the cache lines of k's home slot, where get starts,
// and of the slots after it: six lines, 384 bytes, 8-9 slots. Past the
// caches a table is 68-85% full, and a look-up that finds nothing (a line
// that opens a connection) goes on to the first empty slot: 9 slots on
// average at 72% (the short Nutanix lines' next day). Against three
// lines, flows on the long Nutanix lines took 0.981x, 0.989x, 0.999x and
// 0.986x the wall time (6, 10, 8 and 12 pairs), on the short ones 0.981x
// and 1.004x (8 and 10): about 1% less.
func (t *table) prefetch(k openKey) {
	if len(t.slots) > 0 {
		prefetchWide(unsafe.Pointer(&t.slots[t.home(k.hash())]))
	}
}

// put returns the value of k, which must not be in t, for the caller to
// fill (with n > 0). It stays valid until the next put or del.
func (t *table) put(k openKey) *openVal {
	if (t.n+1)*100 > len(t.slots)*tableLoad {
		t.resize(t.grown())
	}
	t.n++
	at := t.missAt
	t.missAt = 0
	if at > 0 && t.missKey == k { // get just probed for k: where it stopped is k's slot
		s := &t.slots[at-1]
		s.k = k
		return &s.v
	}
	return t.insert(k)
}

func (t *table) insert(k openKey) *openVal {
	for i := t.home(k.hash()); ; {
		s := &t.slots[i]
		if s.v.n == 0 {
			s.k = k
			return &s.v
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

// outsideHeap returns the bytes of t's slots outside the Go heap.
func (t *table) outsideHeap() int64 { return slotsOutsideHeap[slot](len(t.slots)) }

func (t *table) resize(size int) {
	t.missAt = 0
	old := t.slots
	t.slots = allocSlots[slot](size)
	for i := range old {
		if s := &old[i]; s.v.n != 0 {
			*t.insert(s.k) = s.v
		}
	}
	freeSlots(old)
}

// expect says the table may come to hold n entries: once it holds
// expectFrom, it grows straight to room for n rather than by quarters (each
// of which moves every entry). A table that never holds that many stays
// small.
func (t *table) expect(n int) {
	t.hint = max(t.hint, n*100/tableLoad+1)
}

// growToHint grows the table to the size expect asked for, if larger.
func (t *table) growToHint() {
	if t.hint > len(t.slots) {
		t.resize(t.hint)
	}
}

// expectFrom is how many entries a table holds before it believes expect.
const expectFrom = 1 << 12

// grown returns the size of the table after its next growth: twice its
// size while it is within the processor's caches (farSlots), a quarter
// more past them. Grown by quarters from the start, the NSX corpus's
// tables (5,500 slots each at the end) were resized 20 times each, their
// look-ups probing 8-9 slots at a mean load of 75%; doubled, flows took
// 0.976x and 0.983x the wall time (two runs of 16 pairs) for 2 MiB more at
// its peak. Past the caches, each slot is memory the import's peak counts.
func (t *table) grown() int {
	size := len(t.slots) + len(t.slots)/4
	if len(t.slots) < farSlots {
		size = 2 * len(t.slots)
	}
	size = max(tableMin, size)
	if t.n >= expectFrom {
		size = max(size, t.hint)
	}
	return size
}

// free releases the slots.
func (t *table) free() {
	freeSlots(t.slots)
	*t = table{}
}

// del removes k if it is there.
func (t *table) del(k openKey) {
	if t.n == 0 {
		return
	}
	for i := t.home(k.hash()); ; {
		s := &t.slots[i]
		if s.v.n == 0 {
			return
		}
		if s.k == k {
			t.delAt(i)
			return
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

// delVal removes the entry whose value is v, a pointer get, peek or put
// returned since the last put or del: its slot is known, so its key is
// neither hashed nor looked for again.
func (t *table) delVal(v *openVal) {
	i := (uintptr(unsafe.Pointer(v)) - uintptr(unsafe.Pointer(&t.slots[0].v))) / unsafe.Sizeof(slot{})
	t.delAt(int(i))
}

// delAt empties slot i and shifts back the entries after it that may not
// sit before their home.
func (t *table) delAt(i int) {
	t.n--
	t.missAt = 0
	for j := i; ; {
		t.slots[i].v = openVal{}
		for {
			if j++; j == len(t.slots) {
				j = 0
			}
			s := &t.slots[j]
			if s.v.n == 0 {
				return
			}
			h := t.home(s.k.hash())
			// s may move to i unless its home lies cyclically in (i, j].
			if (i <= j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
				t.slots[i] = *s
				i = j
				break
			}
		}
	}
}

// deleteIf removes the entries for which fn, called once with each, reports
// true. It goes down from an empty slot: a deletion moves back only entries
// it has seen already.
func (t *table) deleteIf(fn func(k openKey, v *openVal) bool) {
	if t.n == 0 {
		return
	}
	e := 0
	for t.slots[e].v.n != 0 {
		e++
	}
	for i, left := e, len(t.slots)-1; left > 0; left-- {
		if i--; i < 0 {
			i = len(t.slots) - 1
		}
		if s := &t.slots[i]; s.v.n != 0 && fn(s.k, &s.v) {
			t.delAt(i)
		}
	}
}

// each calls fn with every entry. fn may change the value but must not put
// or delete.
func (t *table) each(fn func(k openKey, v *openVal)) {
	for i := range t.slots {
		if s := &t.slots[i]; s.v.n != 0 {
			fn(s.k, &s.v)
		}
	}
}

// len returns the number of entries.
func (t *table) len() int { return t.n }

// openKey identifies a connection as its enforcement point logs it.
type openKey struct {
	src, dst     uint32 // IPv4 addresses; for IPv6 ones, ids in shard.v6 (the point says which)
	sport, dport uint16
	point        uint32 // index in shard.points: who logged it, on which side, the protocol
}

// openVal is what is tracked of an open connection: 28 bytes.
type openVal struct {
	ci    uint32    // its conversation: index in the shard's (shard.conv)
	seen  uint32    // its latest line, seconds since seenBase; 0: its lines had no time
	last  [4]uint32 // cumulative counters seen so far, when they fit (fBig: in shard.big)
	n     uint16    // sessions open on the key: NSX sessions with the same key overlap
	flags uint8
}

// openVal flags.
const (
	fUnans   = 1 << iota // counted in its side's Unanswered
	fMatched             // NSX: opened by match lines
	fCounted             // its lines carried counters
	fBig                 // its counters are in shard.big
)

// point is an enforcement point logging one protocol, with what a key's
// addresses are.
type point struct {
	host, group uint32 // reporting host; Nutanix policy UUID
	side        ingest.Direction
	proto       uint8
	flags       uint8
}

// point flags.
const (
	pNutanix = 1 << iota // Nutanix conntrack semantics (else NSX)
	pSrc6                // the key's src is an IPv6 id
	pDst6                // … its dst
)

// seenBase makes seconds since 1999-12-31T23:59:59Z fit in 32 bits until
// 2136; later times saturate (the parser refuses times after 2199).
const seenBase = 946684799

func packSeen(unix int64) uint32 {
	if unix == 0 {
		return 0
	}
	return uint32(min(max(unix-seenBase, 1), math.MaxUint32))
}

func unpackSeen(s uint32) int64 {
	if s == 0 {
		return 0
	}
	return int64(s) + seenBase
}
