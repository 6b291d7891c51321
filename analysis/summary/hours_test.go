package summary

import (
	"maps"
	"math"
	"math/rand/v2"
	"testing"
)

// TestHourSums adds hours as a map would: hours close together, hours
// years apart (the spill map, then the array grown over a spilled hour),
// hours at the ends of int32, and hours added to with no session.
func TestHourSums(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	centres := []int32{487000, 487000 + maxDenseHours - 10, 487000 - 3*maxDenseHours, math.MaxInt32 - 5, math.MinInt32 + 5, 0}
	for round := range 300 {
		var s hourSums
		want := map[int64]uint64{}
		for range r.IntN(200) {
			c := int64(centres[r.IntN(1+round%len(centres))])
			h := int32(min(max(c+int64(r.IntN(2000))-1000, math.MinInt32), math.MaxInt32))
			n := uint64(r.IntN(3)) // 0: the hour is still shown
			s.add(h, n)
			want[int64(h)*3600] += n
		}
		if got := s.byStart(); !maps.Equal(got, want) {
			t.Fatalf("round %d: %d hours, want %d", round, len(got), len(want))
		}
	}
}
