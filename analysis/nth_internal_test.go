package analysis

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNth checks nth against a sort, for every index of slices of random,
// repeated, sorted and reversed values.
func TestNth(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var inputs [][]uint32
	for _, n := range []int{1, 2, 3, 5, 17, 100, 1000} {
		for _, spread := range []uint32{1, 3, 1 << 31} {
			s := make([]uint32, n)
			for i := range s {
				s[i] = r.Uint32() % spread
			}
			inputs = append(inputs, s)
		}
		up := make([]uint32, n)
		for i := range up {
			up[i] = uint32(i / 2)
		}
		down := slices.Clone(up)
		slices.Reverse(down)
		inputs = append(inputs, up, down)
	}
	for _, in := range inputs {
		sorted := slices.Sorted(slices.Values(in))
		for k := range in {
			if got := nth(slices.Clone(in), k); got != sorted[k] {
				t.Fatalf("nth(%v, %d) = %d, want %d", in, k, got, sorted[k])
			}
			for _, rounds := range []int{0, 1, 2} { // the sorting of what is left
				if got := nthWithin(slices.Clone(in), k, rounds); got != sorted[k] {
					t.Fatalf("nthWithin(%v, %d, %d) = %d, want %d", in, k, rounds, got, sorted[k])
				}
			}
		}
	}
}
