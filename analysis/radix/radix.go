// Package radix sorts lists of unsigned keys, each with a value, by radix
// (least significant byte first): the app's views of a million rows and
// the dashboard's per-tag lists, where a comparison sort pays a call per
// comparison and a map a hash and a probe per entry.
package radix

import (
	"math"
	"sync"
)

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

// SortParallel is Sort on parts goroutines (at most; one for short lists),
// with the same result: each pass, every part of the keys counts its bytes,
// the parts' places follow from the counts (a byte's keys from the first
// part first, so the sort stays stable), and every part moves its keys
// there at once. The app sorts a million rows this way while its other work
// takes the other core.
func SortParallel[K Key, V any](keys []K, vals []V, keys2 []K, vals2 []V, parts int) {
	if parts = min(parts, len(keys)/minPart); parts < 2 {
		Sort(keys, vals, keys2, vals2)
		return
	}
	sortParts(keys, vals, keys2, vals2, parts)
}

// sortParts is SortParallel on parts (at least 2) goroutines, whatever
// the length.
func sortParts[K Key, V any](keys []K, vals []V, keys2 []K, vals2 []V, parts int) {
	bound := func(p int) int { return p * len(keys) / parts }
	ors, ands := make([]K, parts), make([]K, parts)
	onParts(parts, func(p int) {
		var or, and K = 0, ^K(0)
		for _, k := range keys[bound(p):bound(p+1)] {
			or, and = or|k, and&k
		}
		ors[p], ands[p] = or, and
	})
	var or, and K = 0, ^K(0)
	for p := range parts {
		or, and = or|ors[p], and&ands[p]
	}
	width := uint(64)
	if uint64(^K(0)) == math.MaxUint32 {
		width = 32
	}
	src, dst := keys, keys2[:len(keys)]
	srcVals, dstVals := vals, vals2[:len(keys)]
	count := make([][256]int, parts)
	moves := 0
	for shift := uint(0); shift < width; shift += 8 {
		if (or^and)>>shift&0xff == 0 {
			continue
		}
		onParts(parts, func(p int) {
			c := &count[p]
			*c = [256]int{}
			for _, k := range src[bound(p):bound(p+1)] {
				c[k>>shift&0xff]++
			}
		})
		at := 0
		for d := range 256 {
			for p := range parts {
				n := count[p][d]
				count[p][d] = at
				at += n
			}
		}
		onParts(parts, func(p int) {
			c := &count[p]
			from := bound(p)
			for j, k := range src[from:bound(p+1)] {
				d := k >> shift & 0xff
				dst[c[d]], dstVals[c[d]] = k, srcVals[from+j]
				c[d]++
			}
		})
		src, dst = dst, src
		srcVals, dstVals = dstVals, srcVals
		moves++
	}
	if moves%2 == 1 {
		copy(keys, src)
		copy(vals, srcVals)
	}
}

// minPart is the fewest keys SortParallel gives a goroutine.
const minPart = 1 << 14

// onParts calls fn(p) for every part p below parts, each on a goroutine
// but the last, and returns when all have returned.
func onParts(parts int, fn func(p int)) {
	var wg sync.WaitGroup
	for p := range parts - 1 {
		wg.Go(func() { fn(p) })
	}
	fn(parts - 1)
	wg.Wait()
}
