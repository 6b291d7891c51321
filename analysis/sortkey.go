package analysis

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// keyedRef is a conversation's sort key, its index and its shard.
type keyedRef struct {
	k  SortKey
	i  uint32
	sh uint8
}

// SortKey is a conversation's key in the order of the workspace's key
// index, which compares the 16-byte forms of the addresses as bytes: those
// forms in big-endian words, then protocol and port (pp), the most
// significant word first. EachState and Drain hand states in this order,
// so that a reader of several such runs can merge them (SortKeyOf,
// Compare).
type SortKey [sortWords]uint64

// sortWords is how many words a SortKey has: source, destination, pp.
const sortWords = 5

// SortKeyOf returns c's key.
func SortKeyOf(c *ConvState) SortKey {
	s, d := c.Src.As16(), c.Dst.As16()
	return SortKey{binary.BigEndian.Uint64(s[:8]), binary.BigEndian.Uint64(s[8:]),
		binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(d[8:]), uint64(c.Proto)<<16 | uint64(c.DPort)}
}

// Compare returns -1, 0 or 1 as a is before, equal to or after b.
func (a *SortKey) Compare(b *SortKey) int {
	for w := range a {
		if a[w] != b[w] {
			return cmp.Compare(a[w], b[w])
		}
	}
	return 0
}

// radixMin is how many refs sortKeyed sorts by bytes (a radix sort): below
// it, by comparisons.
const radixMin = 512

// sortKeyed sorts refs by key. Many refs are sorted a byte of their keys
// at a time, from the least significant, skipping the bytes every key
// shares: the keys of IPv4 conversations differ in at most 11 bytes
// (the 16-byte forms of addresses share 12, pp uses 3). By comparisons
// (a call through the comparison and a move of 48 bytes each time), a
// commit's 42,000 took 6.9 ms (BenchmarkSortKeyed); the radix sort, which
// reads each key once to count and moves each ref once per differing
// byte, 0.95 ms. Its
// scratch is as large as refs: the models that commit hold a bounded
// number of conversations (drains).
func sortKeyed(refs []keyedRef) {
	if len(refs) < radixMin {
		slices.SortFunc(refs, func(a, b keyedRef) int { return a.k.Compare(&b.k) })
		return
	}
	digits := differingBytes(refs)
	counts := make([][256]int32, len(digits))
	for i := range refs {
		k := &refs[i].k
		for d, at := range digits {
			counts[d][byte(k[at.word]>>at.shift)]++
		}
	}
	src, dst := refs, make([]keyedRef, len(refs))
	for d, at := range digits {
		c := &counts[d]
		sum := int32(0)
		for v, n := range c {
			c[v] = sum
			sum += n
		}
		for i := range src {
			v := byte(src[i].k[at.word] >> at.shift)
			dst[c[v]] = src[i]
			c[v]++
		}
		src, dst = dst, src
	}
	if len(digits)%2 == 1 {
		copy(refs, src)
	}
}

// keyByte is where a byte of a SortKey is: its word, and its shift in it.
type keyByte struct {
	word  int
	shift uint
}

// differingBytes returns the bytes of refs' keys that are not the same in
// every key, the least significant first.
func differingBytes(refs []keyedRef) []keyByte {
	var diff SortKey
	first := &refs[0].k
	for i := range refs {
		for w := range diff {
			diff[w] |= refs[i].k[w] ^ first[w]
		}
	}
	var digits []keyByte
	for w := sortWords - 1; w >= 0; w-- {
		for shift := uint(0); shift < 64; shift += 8 {
			if byte(diff[w]>>shift) != 0 {
				digits = append(digits, keyByte{w, shift})
			}
		}
	}
	return digits
}
