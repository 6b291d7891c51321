// Package radix sorts lists of unsigned keys, each with a value, by radix
// (least significant byte first): the app's views of a million rows and
// the dashboard's per-tag lists, where a comparison sort pays a call per
// comparison and a map a hash and a probe per entry.
package radix

import "math"

// Key is what Sort sorts by.
type Key interface{ ~uint32 | ~uint64 }

// Sort sorts keys, and vals with them, by key (stable), using keys2 and
// vals2, at least as long, as room; the result is in keys and vals. Bytes
// all keys share are skipped; one pass over the keys counts the others,
// each of which then moves the keys and values once, from one pair of
// arrays to the other, and they are copied back only when the last move
// left them in the room.
func Sort[K Key, V any](keys []K, vals []V, keys2 []K, vals2 []V) {
	var or, and K = 0, ^K(0)
	for _, k := range keys {
		or, and = or|k, and&k
	}
	width := uint(64)
	if uint64(^K(0)) == math.MaxUint32 {
		width = 32
	}
	var shifts []uint
	for shift := uint(0); shift < width; shift += 8 {
		if (or^and)>>shift&0xff != 0 {
			shifts = append(shifts, shift)
		}
	}
	count := make([][256]int, len(shifts))
	for _, k := range keys {
		for b, shift := range shifts {
			count[b][k>>shift&0xff]++
		}
	}
	src, dst := keys, keys2[:len(keys)]
	srcVals, dstVals := vals, vals2[:len(keys)]
	for b, shift := range shifts {
		c := &count[b]
		at := 0
		for d, n := range c {
			c[d] = at
			at += n
		}
		for j, k := range src {
			d := k >> shift & 0xff
			dst[c[d]], dstVals[c[d]] = k, srcVals[j]
			c[d]++
		}
		src, dst = dst, src
		srcVals, dstVals = dstVals, srcVals
	}
	if len(shifts)%2 == 1 {
		copy(keys, src)
		copy(vals, srcVals)
	}
}
