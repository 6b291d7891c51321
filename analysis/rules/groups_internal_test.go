package rules

import (
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
		t.Run(tc.Name, func(t *testing.T) {
			v := voting{tallies: newTallies(16), info: []addrVotes{{inventory: -1, votes: -1}, {inventory: -1, votes: -1}}}
			want := map[int32]uint64{}
			for i, tag := range tc.Votes {
				n := uint64(i + 1)
				v.vote(1, tag, n, tag == 7)
				v.vote(0, 9, 1, false) // another address's tallies between
				want[tag] += n
			}
			got := map[int32]uint64{}
			for x := v.info[1].votes; x >= 0; x = v.tallies.at(x).next {
				c := v.tallies.at(x)
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
