package analysis

import (
	"fmt"
	"net/netip"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Synthesize turns conversations into a rule base. Suspect traffic goes to
// the review list (unless k.IncludeSuspect); every other conversation is
// admitted by exactly the rule built from it, and no rule is without one.
//
// It is written for a million conversations: endpoints, buckets and rules
// are found through maps keyed by fixed-size values (addresses, interned
// group numbers), not strings; the conversations are filed by index; and
// each rule's evidence is a window of one array the size of the input.
func Synthesize(convs []Conversation, k Knobs) RuleSet {
	k = k.withDefaults()
	rs := RuleSet{Knobs: k}
	keep, review := triage(convs, k)
	rs.Review = review
	g := endpointGroups(keep)
	bs := fileBuckets(keep, g)
	rules, ruleOf := bs.rules(k)
	fillEvidence(rules, ruleOf, bs, keep)
	rs.Rules = make([]Rule, 0, len(rules))
	for _, r := range rules {
		finishRule(r)
		rs.Rules = append(rs.Rules, *r)
		adm, obs := r.permissiveness()
		rs.Permissiveness += adm - obs
		rs.Observed += obs
	}
	sortRules(rs.Rules)
	return rs
}

func (k Knobs) withDefaults() Knobs {
	if k.CollapseMin <= 0 {
		k.CollapseMin = DefaultCollapseMin
	}
	if k.CollapseCoverage <= 0 {
		k.CollapseCoverage = DefaultCollapseCoverage
	}
	if k.AnyPeers <= 0 {
		k.AnyPeers = DefaultAnyPeers
	}
	if k.ScanPorts <= 0 {
		k.ScanPorts = DefaultScanPorts
	}
	return k
}

func hasPorts(proto uint8) bool { return proto == ingest.ProtoTCP || proto == ingest.ProtoUDP }

// triage separates suspect traffic: never answered, only dropped, or part
// of a port scan (one source reaching many unanswered ports of one host).
func triage(convs []Conversation, k Knobs) (keep []*Conversation, review []ReviewItem) {
	type pair struct{ src, dst netip.Addr }
	unansweredPorts := make(map[pair]int)
	for i := range convs {
		if c := &convs[i]; c.Unanswered > 0 {
			unansweredPorts[pair{c.Src, c.Dst}]++
		}
	}
	keep = make([]*Conversation, 0, len(convs))
	for i := range convs {
		c := &convs[i]
		reason := ""
		if p, ok := excluded(k.Exclude, c); ok {
			review = append(review, ReviewItem{Conversation: *c, Reason: "peer " + p.String() + " excluded by the user"})
			continue
		}
		n := 0
		if c.Unanswered > 0 {
			n = unansweredPorts[pair{c.Src, c.Dst}]
		}
		switch {
		case n >= k.ScanPorts:
			reason = fmt.Sprintf("port scan: %d unanswered ports of %s from %s", n, c.Dst, c.Src)
		case c.Suspect():
			reason = "never answered (probable scan or dead service)"
		case onlyBlocked(c.Actions):
			reason = "only seen dropped"
		case unauthenticated(c):
			reason = reasonUnauthenticated
		}
		if reason != "" && !k.IncludeSuspect {
			review = append(review, ReviewItem{Conversation: *c, Reason: reason})
			continue
		}
		keep = append(keep, c)
	}
	return keep, review
}

// excluded returns the excluded prefix holding an end of c.
func excluded(ps []netip.Prefix, c *Conversation) (netip.Prefix, bool) {
	for _, p := range ps {
		if p.Contains(c.Src) || p.Contains(c.Dst) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

func onlyBlocked(as []ingest.Action) bool {
	if len(as) == 0 {
		return false
	}
	for _, a := range as {
		if a != ingest.ActionDrop && a != ingest.ActionReject {
			return false
		}
	}
	return true
}

// groups are the endpoint groups of the kept conversations: for each
// conversation (by its index in keep) the group number of its source and
// destination, -1 when the address stands for itself, and the group names.
type groups struct {
	src, dst []int32
	names    []string
}

// addrVotes is what endpointGroups learns of one address.
type addrVotes struct {
	inventory int32 // the inventory group's number, or -1
	votes     int32 // first of its tallies, or -1
}

// tally is the weight of one tag on one side of an address; next chains
// the address's tallies.
type tally struct {
	group int32
	n     uint64
	next  int32
}

// endpointGroups names the group of each address: its inventory group, else
// (for a monitored end) the tag seen most on its side (ties: the smallest
// name), else none. Where several inventory groups name an address, the last
// conversation's wins.
func endpointGroups(convs []*Conversation) groups {
	v := newVoting(len(convs))
	g := groups{src: make([]int32, len(convs)), dst: make([]int32, len(convs))}
	for i, c := range convs {
		s, d := v.number(c.Src), v.number(c.Dst)
		g.src[i], g.dst[i] = s, d // address numbers until the groups are known
		if len(c.SrcGroups) > 0 {
			v.info[s].inventory = v.intern(c.SrcGroups[0])
		}
		if len(c.DstGroups) > 0 {
			v.info[d].inventory = v.intern(c.DstGroups[0])
		}
		for _, t := range c.Tags {
			if t.Direction == ingest.DirOutbound || t.Direction == ingest.DirIntra {
				v.vote(s, v.intern(t.Name), c.Sessions+1)
			}
			if t.Direction == ingest.DirInbound || t.Direction == ingest.DirIntra {
				v.vote(d, v.intern(t.Name), c.Sessions+1)
			}
		}
	}
	group := v.groups()
	for i := range convs {
		g.src[i], g.dst[i] = group[g.src[i]], group[g.dst[i]]
	}
	g.names = v.names
	return g
}

// voting numbers addresses in the order met and tallies their tags.
type voting struct {
	addrs   map[netip.Addr]int32
	info    []addrVotes // by address number
	tallies []tally
	ids     map[string]int32 // group numbers by name
	names   []string         // group names by number
}

func newVoting(n int) *voting {
	return &voting{addrs: make(map[netip.Addr]int32, n), info: make([]addrVotes, 0, n),
		tallies: make([]tally, 0, n), ids: make(map[string]int32)}
}

// intern returns the number of a group name.
func (v *voting) intern(name string) int32 {
	id, ok := v.ids[name]
	if !ok {
		id = int32(len(v.names))
		v.ids[name] = id
		v.names = append(v.names, name)
	}
	return id
}

// number returns the number of an address.
func (v *voting) number(a netip.Addr) int32 {
	i, ok := v.addrs[a]
	if !ok {
		i = int32(len(v.info))
		v.addrs[a] = i
		v.info = append(v.info, addrVotes{inventory: -1, votes: -1})
	}
	return i
}

// vote adds n votes for group to address a.
func (v *voting) vote(a, group int32, n uint64) {
	av := &v.info[a]
	for t := av.votes; t >= 0; t = v.tallies[t].next {
		if v.tallies[t].group == group {
			v.tallies[t].n += n
			return
		}
	}
	v.tallies = append(v.tallies, tally{group: group, n: n, next: av.votes})
	av.votes = int32(len(v.tallies) - 1)
}

// groups returns the group number of each address, -1 for none.
func (v *voting) groups() []int32 {
	group := make([]int32, len(v.info))
	for a, av := range v.info {
		group[a] = av.inventory
		if av.inventory < 0 {
			group[a] = av.mostVoted(v.tallies, v.names)
		}
		if group[a] >= 0 && v.names[group[a]] == "" {
			group[a] = -1 // an empty name names nothing
		}
	}
	return group
}

// mostVoted returns the group with the most votes, the smallest name on a
// tie, or -1 when there are none.
func (v addrVotes) mostVoted(tallies []tally, names []string) int32 {
	best := int32(-1)
	for t := v.votes; t >= 0; t = tallies[t].next {
		c := &tallies[t]
		if best < 0 || c.n > tallies[best].n || (c.n == tallies[best].n && names[c.group] < names[tallies[best].group]) {
			best = t
		}
	}
	if best < 0 {
		return -1
	}
	return tallies[best].group
}
