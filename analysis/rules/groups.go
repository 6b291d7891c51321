package rules

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// groups are the endpoint groups of the kept conversations: for each
// conversation (by its index in keep) the number of its source and
// destination address, their group numbers (-1 when the address stands for
// itself), the group endpoints (without members) by number, and the
// application they belong to.
type groups struct {
	srcAddr, dstAddr []int32
	src, dst         []int32
	eps              []Endpoint
	scope            Scope
}

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

// endpointGroups finds the group of each address. A focused address stands
// for itself. An address the inventory knows is its category set (the
// application's categories and its tier, see Scope; all its categories when
// it has no tier) or else its security group; a monitored address the
// inventory does not know is the tag seen most on its side (ties: the
// smallest name); other addresses stand for themselves. The NSX tag seen most
// on a group's side names its security group.
func endpointGroups(t *analysis.Table, keep []int32, dirs []ingest.Direction, k Knobs) groups {
	v := newVoting(t, keep, k.Focus)
	g := groups{srcAddr: make([]int32, len(keep)), dstAddr: make([]int32, len(keep)),
		src: make([]int32, len(keep)), dst: make([]int32, len(keep))}
	tagIDs := make([][]int32, t.TagSets()) // the tag numbers of each tag set, once
	for j, row := range keep {
		i := int(row)
		s, d := v.number(t, i, true), v.number(t, i, false)
		g.srcAddr[j], g.dstAddr[j] = s, d
		v.setInventory(s, t.VMLabelOf(t.SrcLabel(i)).Groups)
		v.setInventory(d, t.VMLabelOf(t.DstLabel(i)).Groups)
		switch dirs[j] {
		case ingest.DirOutbound:
			v.info[s].monitored = true
		case ingest.DirInbound:
			v.info[d].monitored = true
		case ingest.DirIntra:
			v.info[s].monitored, v.info[d].monitored = true, true
		}
		nsx := t.VendorBits(i)&nsxVendors != 0
		set := t.TagSet(i)
		tags := t.TagSetOf(set)
		if tagIDs[set] == nil && len(tags) > 0 {
			tagIDs[set] = make([]int32, len(tags))
			for x, tg := range tags {
				tagIDs[set][x] = v.intern(tg.Name)
			}
		}
		n := t.Sessions(i) + 1
		for x, tg := range tags {
			if tg.Direction == ingest.DirOutbound || tg.Direction == ingest.DirIntra {
				v.vote(s, tagIDs[set][x], n, nsx)
			}
			if tg.Direction == ingest.DirInbound || tg.Direction == ingest.DirIntra {
				v.vote(d, tagIDs[set][x], n, nsx)
			}
		}
	}
	var group []int32
	group, g.eps, g.scope = v.groups(k)
	for j := range keep {
		g.src[j], g.dst[j] = group[g.srcAddr[j]], group[g.dstAddr[j]]
	}
	return g
}

// voting numbers addresses in the order met and tallies their tags.
// IPv4 addresses are keyed by their 32 bits: a map slot of 8 bytes instead
// of 32 (wstag1m's million addresses took 66 MB that way).
type voting struct {
	addrs4  map[uint32]int32
	addrs6  map[addrKey]int32
	info    []addrVotes // by address number
	invs    [][]string  // inventory groups, shared with the table
	tallies tallies
	tags    analysis.Interner[string] // tag names, numbered
	focus   []netip.Prefix
}

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
	return &voting{addrs4: make(map[uint32]int32, n4), addrs6: make(map[addrKey]int32, n6),
		info: make([]addrVotes, 0, len(keep)), tallies: newTallies(len(keep)), focus: focus}
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
	av := &v.info[a]
	if nsx {
		tag |= tallyNSX
	}
	prev := int32(-1)
	for t := av.votes; t >= 0; {
		c := v.tallies.at(t)
		if c.group() != tag&^tallyNSX {
			prev, t = t, c.next
			continue
		}
		c.n += n
		c.tag |= tag & tallyNSX
		if prev >= 0 {
			v.tallies.at(prev).next, c.next, av.votes = c.next, av.votes, t
		}
		return
	}
	av.votes = v.tallies.add(tally{tag: tag, n: n, next: av.votes})
}

// groups returns the group number of each address (-1 for none), the
// group endpoints by number and the scope.
func (v *voting) groups(k Knobs) ([]int32, []Endpoint, Scope) {
	scope := v.scope(k)
	gs := groupSet{index: map[string]int32{}}
	group := make([]int32, len(v.info))
	for a := range v.info {
		av := &v.info[a]
		group[a] = -1
		if av.focus {
			continue
		}
		var e Endpoint
		switch inv := v.inventory(av); {
		case len(inv) > 0:
			tag, nsx := av.mostVoted(&v.tallies, v.tags.Values(), inv)
			e = inventoryEndpoint(inv, scope, tag, nsx)
		default:
			tag, nsx := av.mostVoted(&v.tallies, v.tags.Values(), nil)
			if tag == "" {
				break
			}
			e = Endpoint{Name: tag, Kind: KindGroup, Group: tag}
			if nsx {
				e.Tag = tag
			}
		}
		if e.Group != "" {
			group[a] = gs.add(e)
		}
	}
	return group, gs.endpoints(), scope
}

// groupSet interns group endpoints by identity; a group's security group is
// the one most of its addresses have (ties: the smallest name).
type groupSet struct {
	index map[string]int32
	eps   []Endpoint
	tags  []map[string]int
}

func (gs *groupSet) add(e Endpoint) int32 {
	n, ok := gs.index[e.Group]
	if !ok {
		n = int32(len(gs.eps))
		gs.index[e.Group] = n
		gs.eps = append(gs.eps, e)
		gs.tags = append(gs.tags, nil)
	}
	if e.Tag != "" {
		if gs.tags[n] == nil {
			gs.tags[n] = map[string]int{}
		}
		gs.tags[n][e.Tag]++
	}
	return n
}

func (gs *groupSet) endpoints() []Endpoint {
	for n, tags := range gs.tags {
		best := ""
		for t, c := range tags {
			if best == "" || c > tags[best] || (c == tags[best] && t < best) {
				best = t
			}
		}
		gs.eps[n].Tag = best
	}
	return gs.eps
}

// scope finds the tier key and the application's categories and groups.
func (v *voting) scope(k Knobs) Scope {
	s := Scope{TierKey: k.TierKey, AppCategories: k.AppCategories}
	var shared []string
	first := true
	for i := range v.info {
		av := &v.info[i]
		inv := v.inventory(av)
		if s.TierKey == "" && hasCategoryKey(inv, DefaultTierKey) {
			s.TierKey = DefaultTierKey
		}
		if !av.monitored || len(inv) == 0 {
			continue
		}
		if first {
			shared, first = slices.Clone(inv), false
			continue
		}
		shared = slices.DeleteFunc(shared, func(g string) bool { return !slices.Contains(inv, g) })
	}
	for _, g := range shared {
		key, _, cat := splitCategory(g)
		switch {
		case !cat:
			s.AppGroups = append(s.AppGroups, g)
		case len(k.AppCategories) == 0 && key != s.TierKey:
			s.AppCategories = append(s.AppCategories, g)
		}
	}
	return s
}

// DefaultTierKey is the tier key used when the inventory has it.
const DefaultTierKey = "AppTier"

// splitCategory splits a Nutanix category "Key:Value"; cat is false for
// other group names.
func splitCategory(g string) (key, value string, cat bool) {
	key, value, cat = strings.Cut(g, ":")
	return key, value, cat && key != "" && value != ""
}

func hasCategoryKey(groups []string, key string) bool {
	for _, g := range groups {
		if k, _, ok := splitCategory(g); ok && k == key {
			return true
		}
	}
	return false
}

// inventoryEndpoint is the group of a VM with inventory groups: its tier of
// its application ({AppType:Books, AppTier:Web}) when it has a tier, else all
// its categories, ANDed; else its security group. tag is the tag voted on
// its side, nsx whether an NSX line carried it.
func inventoryEndpoint(inv []string, s Scope, tag string, nsx bool) Endpoint {
	var cats, plain []string
	for _, g := range inv {
		if _, _, ok := splitCategory(g); ok {
			cats = append(cats, g)
		} else {
			plain = append(plain, g)
		}
	}
	tierPlain := slices.DeleteFunc(slices.Clone(plain), func(g string) bool { return slices.Contains(s.AppGroups, g) })
	switch {
	case slices.Contains(plain, tag): // the VM's security group, as the logs tag it
	case len(plain) == 0 && nsx: // an NSX tag, the inventory listing no security group
	default:
		tag = "" // a Nutanix policy, or a tag the inventory does not list for the VM
	}
	if tag == "" && len(tierPlain) == 1 {
		tag = tierPlain[0]
	}
	set, name := categorySet(cats, s)
	if len(set) > 0 {
		return Endpoint{Name: name, Kind: KindGroup, Group: strings.Join(set, "&"), Categories: set, Tag: tag}
	}
	if len(plain) == 0 {
		return Endpoint{}
	}
	if tag == "" {
		tag = slices.Min(plain)
	}
	return Endpoint{Name: tag, Kind: KindGroup, Group: tag, Tag: tag}
}

// categorySet picks the categories that identify a VM's group and names it:
// for a VM of the application (it has all of the application's categories)
// with a tier, those categories and the tier, named after the tier; for any
// other VM every category it has.
func categorySet(cats []string, s Scope) (set []string, name string) {
	tier := ""
	for _, c := range cats {
		if k, _, _ := splitCategory(c); s.TierKey != "" && k == s.TierKey {
			tier = c
		}
	}
	ours := tier != "" && len(s.AppCategories) > 0
	for _, app := range s.AppCategories {
		ours = ours && slices.Contains(cats, app)
	}
	if ours {
		return append(slices.Clone(s.AppCategories), tier), tier
	}
	set = slices.Sorted(slices.Values(cats))
	return set, strings.Join(set, " & ")
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

// endpoint returns the endpoint an address stands for: its group, or
// itself, named after its VM when the inventory knows it.
func (g groups) endpoint(a netip.Addr, vm string, group int32) Endpoint {
	if group >= 0 {
		return g.eps[group]
	}
	p := netip.PrefixFrom(a, a.BitLen())
	return Endpoint{Name: cmp.Or(vm, a.String()), Kind: KindAddresses, Prefixes: []netip.Prefix{p}}
}
