package analysis

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Synthesize turns conversations into a rule base. Suspect traffic goes to
// the review list (unless k.IncludeSuspect); every other conversation is
// admitted by exactly the rule built from it, and no rule is without one.
func Synthesize(convs []Conversation, k Knobs) RuleSet {
	k = k.withDefaults()
	rs := RuleSet{Knobs: k}
	keep, review := triage(convs, k)
	rs.Review = review
	names := endpointGroups(keep)
	buckets := make(map[bucketKey]*bucket)
	var order []bucketKey
	for _, c := range keep {
		key, b := newBucket(c, names)
		if have, ok := buckets[key]; ok {
			b = have
		} else {
			buckets[key] = b
			order = append(order, key)
		}
		b.add(c)
	}
	rules := make(map[string]*Rule)
	flows := make(map[string][]*Conversation) // by rule ID; copied into Evidence once, at full size
	var ruleOrder []string
	for _, key := range order {
		b := buckets[key]
		src, dst := b.endpoints(k)
		id := ruleID(key.dir, src, dst, key.proto)
		r, ok := rules[id]
		if !ok {
			r = &Rule{ID: id, Direction: key.dir, Src: src, Dst: dst, Service: Service{Proto: key.proto},
				Action: ingest.ActionAllow}
			rules[id] = r
			ruleOrder = append(ruleOrder, id)
		}
		if hasPorts(key.proto) {
			r.Service.Ports = addPort(r.Service.Ports, key.port)
		}
		flows[id] = append(flows[id], b.convs...)
	}
	for _, id := range ruleOrder {
		r := rules[id]
		r.Evidence.Flows = make([]Conversation, len(flows[id]))
		for i, c := range flows[id] {
			r.Evidence.Flows[i] = *c
		}
		finishRule(r)
		rs.Rules = append(rs.Rules, *r)
		adm, obs := r.permissiveness()
		rs.Permissiveness += adm - obs
		rs.Observed += obs
	}
	slices.SortFunc(rs.Rules, compareRules)
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
	for i := range convs {
		c := &convs[i]
		reason := ""
		if p, ok := excluded(k.Exclude, c); ok {
			review = append(review, ReviewItem{Conversation: *c, Reason: "peer " + p.String() + " excluded by the user"})
			continue
		}
		switch n := unansweredPorts[pair{c.Src, c.Dst}]; {
		case n >= k.ScanPorts && c.Unanswered > 0:
			reason = fmt.Sprintf("port scan: %d unanswered ports of %s from %s", n, c.Dst, c.Src)
		case c.Suspect():
			reason = "never answered (probable scan or dead service)"
		case onlyBlocked(c.Actions):
			reason = "only seen dropped"
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

// endpointGroups names the group of each address: its inventory group, else
// (for a monitored end) the tag seen most on its side, else none.
func endpointGroups(convs []*Conversation) map[netip.Addr]string {
	votes := make(map[netip.Addr]map[string]uint64)
	vote := func(a netip.Addr, g string, n uint64) {
		if votes[a] == nil {
			votes[a] = make(map[string]uint64)
		}
		votes[a][g] += n
	}
	out := make(map[netip.Addr]string)
	for _, c := range convs {
		if len(c.SrcGroups) > 0 {
			out[c.Src] = c.SrcGroups[0]
		}
		if len(c.DstGroups) > 0 {
			out[c.Dst] = c.DstGroups[0]
		}
		for _, t := range c.Tags {
			if t.Direction == ingest.DirOutbound || t.Direction == ingest.DirIntra {
				vote(c.Src, t.Name, c.Sessions+1)
			}
			if t.Direction == ingest.DirInbound || t.Direction == ingest.DirIntra {
				vote(c.Dst, t.Name, c.Sessions+1)
			}
		}
	}
	for a, vs := range votes {
		if _, ok := out[a]; ok {
			continue
		}
		best, bestN := "", uint64(0)
		for g, n := range vs {
			if n > bestN || (n == bestN && g < best) {
				best, bestN = g, n
			}
		}
		out[a] = best
	}
	return out
}
