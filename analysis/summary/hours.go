package summary

import "math"

// hourSums adds up sessions by hour (hours since the Unix epoch) in an
// array over the hours seen, with a map for hours too far from the others
// to share it: Of adds every hourly count of every conversation,
// millions of them into a few thousand hours, and an array index is far
// cheaper than a map assignment. An hour is kept once seen, even with
// no session, as a map's key would be.
type hourSums struct {
	base  int32    // the hour of sums[0]
	sums  []uint64 // by hour from base
	seen  []bool   // which hours of sums were added to
	spill map[int32]uint64
}

// maxDenseHours bounds the array: 15 years of hours, 1.1 MiB.
const maxDenseHours = 1 << 17

// add adds n sessions to hour h.
func (s *hourSums) add(h int32, n uint64) {
	if i := int64(h) - int64(s.base); i >= 0 && i < int64(len(s.sums)) {
		s.sums[i] += n
		s.seen[i] = true
		return
	}
	s.grow(h, n)
}

// grow widens the array to hold hour h, with a month to spare on each
// side, or adds h to the spill map when the array would grow too wide.
func (s *hourSums) grow(h int32, n uint64) {
	lo, hi := int64(h), int64(h)
	if len(s.sums) > 0 {
		lo, hi = min(lo, int64(s.base)), max(hi, int64(s.base)+int64(len(s.sums))-1)
	}
	if hi-lo+1 > maxDenseHours {
		if s.spill == nil {
			s.spill = make(map[int32]uint64)
		}
		s.spill[h] += n
		return
	}
	pad := min(31*24, (maxDenseHours-(hi-lo+1))/2)
	lo, hi = max(lo-pad, math.MinInt32), min(hi+pad, math.MaxInt32)
	sums, seen := make([]uint64, hi-lo+1), make([]bool, hi-lo+1)
	if len(s.sums) > 0 {
		at := int64(s.base) - lo
		copy(sums[at:], s.sums)
		copy(seen[at:], s.seen)
	}
	s.base, s.sums, s.seen = int32(lo), sums, seen
	s.add(h, n)
}

// byStart returns the sums keyed by the hour's start in Unix seconds.
func (s *hourSums) byStart() map[int64]uint64 {
	out := make(map[int64]uint64)
	for i, ok := range s.seen {
		if ok {
			out[(int64(s.base)+int64(i))*3600] = s.sums[i]
		}
	}
	for h, v := range s.spill {
		out[int64(h)*3600] += v
	}
	return out
}
