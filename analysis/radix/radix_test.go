package radix

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// pair is a key and the value sorted with it.
type pair[K Key] struct {
	key K
	val int32
}

// checkSort holds Sort, and sortParts on 2, 3 and 7 parts, to a stable
// comparison sort of the same pairs.
func checkSort[K Key](t *testing.T, name string, keys []K) {
	t.Helper()
	for _, parts := range []int{2, 3, 7} {
		checkSortWith(t, fmt.Sprintf("%s on %d parts", name, parts), slices.Clone(keys), func(keys []K, vals []int32) {
			sortParts(keys, vals, make([]K, len(keys)), make([]int32, len(keys)), parts)
		})
	}
	checkSortWith(t, name, keys, func(keys []K, vals []int32) { Sort(keys, vals, make([]K, len(keys)), make([]int32, len(keys))) })
}

// checkSortWith holds sort to a stable comparison sort of the same pairs.
func checkSortWith[K Key](t *testing.T, name string, keys []K, sort func([]K, []int32)) {
	t.Helper()
	want := make([]pair[K], len(keys))
	vals := make([]int32, len(keys))
	for i, k := range keys {
		want[i], vals[i] = pair[K]{k, int32(i)}, int32(i)
	}
	slices.SortStableFunc(want, func(a, b pair[K]) int { return cmp.Compare(a.key, b.key) })
	sort(keys, vals)
	for i := range want {
		if keys[i] != want[i].key || vals[i] != want[i].val {
			t.Fatalf("%s: at %d got (%#x, %d), want (%#x, %d)", name, i, keys[i], vals[i], want[i].key, want[i].val)
		}
	}
}

// TestSortSameAsStableSort covers both key widths, keys that vary in one
// byte, in an odd and an even number of bytes (the result left in the room
// or not), in none, and in the top byte only, with many equal keys (the
// sort must be stable).
func TestSortSameAsStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	masks := map[string]uint64{"none": 0, "low byte": 0xff, "two bytes": 0xff00ff, "three bytes": 0xffffff,
		"top byte": 0xff << 56, "all": ^uint64(0)}
	for name, mask := range masks {
		for _, n := range []int{0, 1, 2, 1000} {
			k64 := make([]uint64, n)
			k32 := make([]uint32, n)
			for i := range n {
				k64[i] = 0x0123456789abcdef&^mask | r.Uint64()&mask&^0x0f0f // repeats: the masked nibbles
				k32[i] = uint32(k64[i]) ^ uint32(k64[i]>>32)                // varies where the halves of k64 do
			}
			checkSort(t, name+"/64", k64)
			checkSort(t, name+"/32", k32)
		}
	}
}
