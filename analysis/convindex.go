package analysis

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// convIndex finds a shard's conversation by its Key: an open-addressing
// table with linear probing, at most 3/4 full, whose 40-byte slots hold the
// key and the conversation's index plus one (0: an empty slot). It replaces
// a map[Key]uint32, whose generic hash and comparison of the 36-byte key
// (aeshash, memequal) cost a line that opens a connection more than its
// probe: this hash is a few multiplications of the key's five words, and a
// slot is compared word by word. Entries are only added; a drain makes a
// new index. The zero value is empty and ready to use.
type convIndex struct {
	slots []convSlot
	n     int
}

type convSlot struct {
	k  Key
	ci uint32 // index plus one; 0: empty
}

const convIndexMin = 64

// hashKey mixes the words of k; its high bits choose the home slot.
func hashKey(k *Key) uint64 {
	s0 := binary.LittleEndian.Uint64(k.Src[:8])
	s1 := binary.LittleEndian.Uint64(k.Src[8:])
	d0 := binary.LittleEndian.Uint64(k.Dst[:8])
	d1 := binary.LittleEndian.Uint64(k.Dst[8:])
	h := (s1 ^ s0*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	h ^= (d1 ^ d0*0xc2b2ae3d27d4eb4f) * 0x94d049bb133111eb
	h ^= uint64(k.DPort) | uint64(k.Proto)<<16
	h = (h ^ h>>31) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// sameKey reports whether a and b are equal, word by word.
func sameKey(a, b *Key) bool {
	le := binary.LittleEndian
	return le.Uint64(a.Src[8:]) == le.Uint64(b.Src[8:]) && le.Uint64(a.Dst[8:]) == le.Uint64(b.Dst[8:]) &&
		a.DPort == b.DPort && a.Proto == b.Proto &&
		le.Uint64(a.Src[:8]) == le.Uint64(b.Src[:8]) && le.Uint64(a.Dst[:8]) == le.Uint64(b.Dst[:8])
}

// get returns the index of the conversation of k, and whether there is one.
func (x *convIndex) get(k *Key) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	hi, _ := bits.Mul64(hashKey(k), uint64(len(x.slots)))
	for i := int(hi); ; {
		s := &x.slots[i]
		if s.ci == 0 {
			return 0, false
		}
		if sameKey(&s.k, k) {
			return s.ci - 1, true
		}
		if i++; i == len(x.slots) {
			i = 0
		}
	}
}

// prefetch asks for the cache lines of k's home slot, where get starts.
func (x *convIndex) prefetch(k *Key) {
	if x.n > 0 {
		hi, _ := bits.Mul64(hashKey(k), uint64(len(x.slots)))
		prefetch(unsafe.Pointer(&x.slots[hi]))
	}
}

// put records that k, which must not be in x, is conversation ci.
func (x *convIndex) put(k *Key, ci uint32) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
	}
	x.n++
	x.insert(k, ci+1)
}

func (x *convIndex) insert(k *Key, v uint32) {
	hi, _ := bits.Mul64(hashKey(k), uint64(len(x.slots)))
	for i := int(hi); ; {
		s := &x.slots[i]
		if s.ci == 0 {
			s.k, s.ci = *k, v
			return
		}
		if i++; i == len(x.slots) {
			i = 0
		}
	}
}

func (x *convIndex) grow() {
	old := x.slots
	x.slots = makeWritten[convSlot](max(convIndexMin, 2*len(old)))
	for i := range old {
		if s := &old[i]; s.ci != 0 {
			x.insert(&s.k, s.ci)
		}
	}
}
