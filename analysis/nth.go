package analysis

import (
	"math/bits"
	"slices"
)

// nth returns the value at index k of s once sorted in ascending order,
// reordering s: Hoare's selection with a median-of-three pivot, which reads
// the slice a few times where sorting it would take log2(len) passes. A
// range still unsettled after 2·log2(len)+4 partitions is sorted instead,
// so that no order of the values makes it quadratic.
func nth(s []uint32, k int) uint32 {
	return nthWithin(s, k, 2*bits.Len(uint(len(s)))+4)
}

// nthWithin is nth sorting what is left after rounds partitions.
func nthWithin(s []uint32, k, rounds int) uint32 {
	lo, hi := 0, len(s)-1
	for ; lo < hi; rounds-- {
		if rounds == 0 {
			slices.Sort(s[lo : hi+1])
			break
		}
		i, j := partition(s, lo, hi)
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k] // between j and i: equal to the pivot
		}
	}
	return s[k]
}

// partition splits s[lo:hi+1] around the median of its first, middle and
// last values: it returns i > j with s[lo:j+1] <= pivot, s[j+1:i] equal to
// it and s[i:hi+1] >= pivot.
func partition(s []uint32, lo, hi int) (int, int) {
	mid := lo + (hi-lo)/2
	if s[mid] < s[lo] {
		s[mid], s[lo] = s[lo], s[mid]
	}
	if s[hi] < s[lo] {
		s[hi], s[lo] = s[lo], s[hi]
	}
	if s[hi] < s[mid] {
		s[hi], s[mid] = s[mid], s[hi]
	}
	pivot := s[mid]
	i, j := lo, hi
	for i <= j {
		for s[i] < pivot {
			i++
		}
		for s[j] > pivot {
			j--
		}
		if i <= j {
			s[i], s[j] = s[j], s[i]
			i++
			j--
		}
	}
	return i, j
}
