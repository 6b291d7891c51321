package rules

import (
	"fmt"
	"maps"
	"testing"
)

// TestVoteTallies: votes for the tags of an address add up per tag, in any
// order of the votes, however the list of its tallies is reordered.
func TestVoteTallies(t *testing.T) {
	for _, tc := range []struct {
		Name  string
		Votes []int32 // tags, in the order voted; tag 7 by NSX
	}{
		{"one tag", []int32{1, 1, 1}},
		{"alternating", []int32{1, 2, 1, 2, 1}},
		{"the last tag again", []int32{1, 2, 3, 3, 1, 3, 2}},
		{"many", []int32{5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 3, 3, 7, 5, 7}},
	} {
		for _, shards := range []int{1, 2} { // addresses 0 and 1 in one shard, or each in its own
			t.Run(fmt.Sprintf("%s/%d shards", tc.Name, shards), func(t *testing.T) {
				v := voting{tallies: make([]tallies, shards), info: []addrVotes{{inventory: -1, votes: -1}, {inventory: -1, votes: -1}}}
				for p := range v.tallies {
					v.tallies[p] = newTallies(16)
				}
				want := map[int32]uint64{}
				for i, tag := range tc.Votes {
					n := uint64(i + 1)
					v.vote(1, tag, n, tag == 7)
					v.vote(0, 9, 1, false) // another address's tallies between
					want[tag] += n
				}
				got := map[int32]uint64{}
				ts := v.talliesOf(1)
				for x := v.info[1].votes; x >= 0; x = ts.at(x).next {
					c := ts.at(x)
					if _, dup := got[c.group()]; dup || c.nsx() != (c.group() == 7) {
						t.Fatalf("tag %d: listed twice, or NSX %v", c.group(), c.nsx())
					}
					got[c.group()] = c.n
				}
				if !maps.Equal(got, want) {
					t.Fatalf("tallies %v, want %v", got, want)
				}
			})
		}
	}
}
