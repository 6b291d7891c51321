package rules

import (
	"net/netip"
	"runtime"
	"slices"
	"sync"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Voting: the tags seen on each side of an address, for endpointGroups.

// addrVotes is what endpointGroups learns of one address.
type addrVotes struct {
	inventory int32 // index of the address's inventory groups in voting.invs, or -1
	votes     int32 // first of its tallies, or -1
	monitored bool  // on the scope's side of a conversation
	focus     bool  // in the focus
}

// tally is the weight of one tag on one side of an address; next chains
// the address's tallies. The tag's number is in the low bits of tag and
// the top bit says an NSX line carried it: then it names a security group
// (a Nutanix tag names a policy). 16 bytes, not 24: a million tagged
// conversations make millions of tallies.
type tally struct {
	n         uint64
	tag, next int32
}

const tallyNSX = -1 << 31 // the top bit of tally.tag

// tallies holds tallies in blocks of 1<<shift, numbered in the order
// added: a list of millions grown by append was copied a quarter at a time
// (0.4 s of a million conversations of four tags), and sized up front for
// every vote it would have been twice too large.
type tallies struct {
	blocks [][]tally
	n      int32
	shift  uint8
}

// newTallies returns tallies in blocks of about n/16, from 256 to 65,536.
func newTallies(n int) tallies {
	shift := uint8(8)
	for shift < 16 && 1<<(shift+4) < n {
		shift++
	}
	return tallies{shift: shift}
}

// at returns tally i.
func (ts *tallies) at(i int32) *tally { return &ts.blocks[i>>ts.shift][i&(1<<ts.shift-1)] }

// add adds a tally and returns its number.
func (ts *tallies) add(t tally) int32 {
	if int(ts.n) == len(ts.blocks)<<ts.shift {
		ts.blocks = append(ts.blocks, make([]tally, 1<<ts.shift))
	}
	*ts.at(ts.n) = t
	ts.n++
	return ts.n - 1
}

func (t *tally) group() int32 { return t.tag &^ tallyNSX }
func (t *tally) nsx() bool    { return t.tag&tallyNSX != 0 }

// nsxVendors are the vendor bits of NSX firewalls.
const nsxVendors = 1<<ingest.NSXV | 1<<ingest.NSXT | 1<<ingest.NSX4

// voteAll tallies the tags of the conversations keep for their ends,
// numbered srcAddr and dstAddr (by index in keep). The addresses are split into shards by number, each
// shard voted on a core of its own with tallies of its own: the order of an
// address's tallies says nothing (mostVoted), and its votes are its shard's
// alone (0.3 s of wstag1m's synthesis on one core).
func (v *voting) voteAll(t *analysis.Table, keep, srcAddr, dstAddr []int32, tagIDs [][]int32) {
	shards := len(v.tallies)
	var wg sync.WaitGroup
	for p := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, row := range keep {
				s, d := srcAddr[j], dstAddr[j]
				mineS, mineD := int(s)%shards == p, int(d)%shards == p
				if !mineS && !mineD {
					continue
				}
				i := int(row)
				nsx := t.VendorBits(i)&nsxVendors != 0
				set := t.TagSet(i)
				n := t.Sessions(i) + 1
				for x, tg := range t.TagSetOf(set) {
					src, dst := tg.Direction.Protected()
					if mineS && src {
						v.vote(s, tagIDs[set][x], n, nsx)
					}
					if mineD && dst {
						v.vote(d, tagIDs[set][x], n, nsx)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// voting numbers addresses in the order met and tallies their tags.
// IPv4 addresses are keyed by their 32 bits: a map slot of 8 bytes instead
// of 32 (wstag1m's million addresses took 66 MB that way).
type voting struct {
	addrs4  map[uint32]int32
	addrs6  map[addrKey]int32
	info    []addrVotes               // by address number
	invs    [][]string                // inventory groups, shared with the table
	tallies []tallies                 // by shard: address number mod len(tallies)
	tags    analysis.Interner[string] // tag names, numbered
	focus   []netip.Prefix
}

// votingShards is how many shards voteAll splits the addresses of n
// conversations into: one a processor, one for a few.
func votingShards(n int) int {
	if n < 1<<14 {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// talliesOf returns the tallies of address a's shard.
func (v *voting) talliesOf(a int32) *tallies { return &v.tallies[int(a)%len(v.tallies)] }

// newVoting returns a voting for the ends of the rows keep of t, its maps
// sized for them.
func newVoting(t *analysis.Table, keep []int32, focus []netip.Prefix) *voting {
	ends4 := 0
	for _, row := range keep {
		_, _, s4 := t.SrcIP(int(row))
		_, _, d4 := t.DstIP(int(row))
		ends4 += b2i(s4) + b2i(d4)
	}
	// Most conversations share an end with others: half the ends is room enough.
	n4, n6 := ends4/2, (2*len(keep)-ends4)/2
	ts := make([]tallies, votingShards(len(keep)))
	for p := range ts {
		ts[p] = newTallies(len(keep) / len(ts))
	}
	return &voting{addrs4: make(map[uint32]int32, n4), addrs6: make(map[addrKey]int32, n6),
		info: make([]addrVotes, 0, len(keep)), tallies: ts, focus: focus}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setInventory records the inventory's groups of address a.
func (v *voting) setInventory(a int32, groups []string) {
	switch av := &v.info[a]; {
	case len(groups) == 0:
	case av.inventory < 0:
		av.inventory = int32(len(v.invs))
		v.invs = append(v.invs, groups)
	default:
		v.invs[av.inventory] = groups
	}
}

// inventory returns the inventory's groups of an address.
func (v *voting) inventory(av *addrVotes) []string {
	if av.inventory < 0 {
		return nil
	}
	return v.invs[av.inventory]
}

// intern returns the number of a tag name.
func (v *voting) intern(name string) int32 { return int32(v.tags.ID(name)) }

// number returns the number of the source (src) or destination address of
// row i of t.
func (v *voting) number(t *analysis.Table, i int, src bool) int32 {
	var k addrKey
	if src {
		k.hi, k.lo, k.is4 = t.SrcIP(i)
	} else {
		k.hi, k.lo, k.is4 = t.DstIP(i)
	}
	var n int32
	var ok bool
	if k.is4 {
		n, ok = v.addrs4[uint32(k.lo)]
	} else {
		n, ok = v.addrs6[k]
	}
	if !ok {
		n = int32(len(v.info))
		if k.is4 {
			v.addrs4[uint32(k.lo)] = n
		} else {
			v.addrs6[k] = n
		}
		focus := len(v.focus) > 0 && inPrefixes(v.focus, end(t, i, src))
		v.info = append(v.info, addrVotes{inventory: -1, votes: -1, focus: focus})
	}
	return n
}

// vote adds n votes for tag to address a. A tally found is moved to the
// front of the address's list: a server's conversations vote the same few
// of its tags again and again, and the order of the list says nothing
// (mostVoted breaks ties by name).
func (v *voting) vote(a, tag int32, n uint64, nsx bool) {
	av, ts := &v.info[a], v.talliesOf(a)
	if nsx {
		tag |= tallyNSX
	}
	prev := int32(-1)
	for t := av.votes; t >= 0; {
		c := ts.at(t)
		if c.group() != tag&^tallyNSX {
			prev, t = t, c.next
			continue
		}
		c.n += n
		c.tag |= tag & tallyNSX
		if prev >= 0 {
			ts.at(prev).next, c.next, av.votes = c.next, av.votes, t
		}
		return
	}
	av.votes = ts.add(tally{tag: tag, n: n, next: av.votes})
}

// mostVoted returns the tag with the most votes (the smallest name on a
// tie) and whether an NSX line carried it, or "" when there are none. With
// inventory groups, the tags that are among them win over the others: a
// conversation logged by NSX and Nutanix carries the Nutanix policy's name
// too, which is no security group.
func (v addrVotes) mostVoted(tallies *tallies, names, inventory []string) (string, bool) {
	best, bestIn := int32(-1), false
	for t := v.votes; t >= 0; t = tallies.at(t).next {
		c := tallies.at(t)
		in := slices.Contains(inventory, names[c.group()])
		switch {
		case best >= 0 && bestIn && !in:
		case best < 0 || in && !bestIn || c.n > tallies.at(best).n ||
			(c.n == tallies.at(best).n && names[c.group()] < names[tallies.at(best).group()]):
			best, bestIn = t, in
		}
	}
	if best < 0 {
		return "", false
	}
	return names[tallies.at(best).group()], tallies.at(best).nsx()
}
