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
	// src and dst are the sides of each kept conversation (sideOf): the
	// number of the group of its source and destination, else -1 less
	// their address number (those numbers, while the votes are counted).
	src, dst []int32
	eps      []Endpoint
	scope    Scope
}

// sideOf returns the group number and address number of a side kept as
// groups.src and dst (the address 0 when a group).
func sideOf(n int32) (group, addr int32) {
	if n >= 0 {
		return n, 0
	}
	return -1, -1 - n
}

// endpointGroups finds the group of each address. A focused address stands
// for itself. An address the inventory knows is its category set (the
// application's categories and its tier, see Scope; all its categories when
// it has no tier) or else its security group; a monitored address the
// inventory does not know is the tag seen most on its side (ties: the
// smallest name); other addresses stand for themselves. The NSX tag seen most
// on a group's side names its security group.
func endpointGroups(t *analysis.Table, keep []int32, dirs []ingest.Direction, k Knobs) groups {
	v := newVoting(t, keep, k.Focus)
	g := groups{src: make([]int32, len(keep)), dst: make([]int32, len(keep))}
	tagIDs := make([][]int32, t.TagSets()) // the tag numbers of each tag set, once
	for j, row := range keep {
		i := int(row)
		s, d := v.number(t, i, true), v.number(t, i, false)
		g.src[j], g.dst[j] = s, d
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
		set := t.TagSet(i)
		if tags := t.TagSetOf(set); tagIDs[set] == nil && len(tags) > 0 {
			tagIDs[set] = make([]int32, len(tags))
			for x, tg := range tags {
				tagIDs[set][x] = v.intern(tg.Name)
			}
		}
	}
	v.voteAll(t, keep, g.src, g.dst, tagIDs)
	var group []int32
	group, g.eps, g.scope = v.groups(k)
	side := func(a int32) int32 {
		if gr := group[a]; gr >= 0 {
			return gr
		}
		return -1 - a
	}
	for j := range keep { // the address numbers become sides: 8 bytes a conversation less
		g.src[j], g.dst[j] = side(g.src[j]), side(g.dst[j])
	}
	return g
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
			tag, nsx := av.mostVoted(v.talliesOf(int32(a)), v.tags.Values(), inv)
			e = inventoryEndpoint(inv, scope, tag, nsx)
		default:
			tag, nsx := av.mostVoted(v.talliesOf(int32(a)), v.tags.Values(), nil)
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

// endpoint returns the endpoint an address stands for: its group, or
// itself, named after its VM when the inventory knows it.
func (g groups) endpoint(a netip.Addr, vm string, group int32) Endpoint {
	if group >= 0 {
		return g.eps[group]
	}
	p := netip.PrefixFrom(a, a.BitLen())
	return Endpoint{Name: cmp.Or(vm, a.String()), Kind: KindAddresses, Prefixes: []netip.Prefix{p}}
}
