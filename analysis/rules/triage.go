package rules

import (
	"fmt"
	"net/netip"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// ReviewReasons returns, for each conversation, why synthesis with k lists
// it for review instead of making a rule of it, or "" when it makes a rule
// of it: a peer the user excluded, a port scan (one source reaching
// k.ScanPorts unanswered ports of one host), never answered, only seen
// dropped, or only received over UDP (the last four unless
// k.IncludeSuspect). It is the test
// Synthesize applies, for the commands that need it without synthesising
// (check: no observed conversation outside review may be blocked).
func ReviewReasons(t *analysis.Table, k Knobs) []string {
	k = k.withDefaults()
	type pair struct {
		src, dst [2]uint64
		fam      uint8 // which are IPv4
	}
	pairOf := func(i int) pair {
		shi, slo, s4 := t.SrcIP(i)
		dhi, dlo, d4 := t.DstIP(i)
		return pair{[2]uint64{shi, slo}, [2]uint64{dhi, dlo}, uint8(btoi(s4)) | uint8(btoi(d4))<<1}
	}
	unansweredPorts := make(map[pair]int)
	for i := range t.Len() {
		if t.AnyUnanswered(i) {
			unansweredPorts[pairOf(i)]++
		}
	}
	// Each row's reason is its own: on every core.
	reasons := make([]string, t.Len())
	onEveryCore(t.Len(), func(i int) {
		if len(k.Exclude) > 0 {
			if p, ok := excluded(k.Exclude, t.Src(i), t.Dst(i)); ok {
				reasons[i] = "peer " + p.String() + " excluded by the user"
				return
			}
		}
		if k.IncludeSuspect {
			return
		}
		n := 0
		if t.AnyUnanswered(i) {
			n = unansweredPorts[pairOf(i)]
		}
		switch {
		case n >= k.ScanPorts:
			reasons[i] = fmt.Sprintf("port scan: %d unanswered ports of %s from %s", n, t.Dst(i), t.Src(i))
		case t.Suspect(i):
			reasons[i] = "never answered (probable scan or dead service)"
		case onlyBlocked(t.Actions(i)):
			reasons[i] = "only seen dropped"
		case t.OnlyUDP(i):
			reasons[i] = reasonUnauthenticated
		}
	})
	return reasons
}

// reasonUnauthenticated is the review reason of a conversation seen only
// over UDP.
const reasonUnauthenticated = "received only over UDP, whose sender address anyone can forge " +
	"(have the hosts send over TCP, or TLS with client certificates)"

// triaged is what triage keeps (row numbers), with each kept
// conversation's direction relative to the scope, and what it puts aside.
type triaged struct {
	keep    []int32
	dirs    []ingest.Direction // by index in keep
	review  []ReviewItem
	outside []ReviewItem
}

// triage separates the conversations a user excluded, those outside the
// scope, and suspect traffic (ReviewReasons: never answered, only dropped,
// or part of a port scan), in that order.
func triage(t *analysis.Table, k Knobs) triaged {
	reasons := ReviewReasons(t, k)
	tr := triaged{keep: make([]int32, 0, t.Len()), dirs: make([]ingest.Direction, 0, t.Len())}
	for i := range t.Len() {
		if len(k.Exclude) > 0 {
			if _, ok := excluded(k.Exclude, t.Src(i), t.Dst(i)); ok {
				tr.review = append(tr.review, ReviewItem{Row: int32(i), Reason: reasons[i]})
				continue
			}
		}
		dir := scopeDirection(t, i, k.Focus)
		if dir == ingest.DirUnknown {
			tr.outside = append(tr.outside, ReviewItem{Row: int32(i), Reason: OutsideReason})
			continue
		}
		if reasons[i] != "" {
			tr.review = append(tr.review, ReviewItem{Row: int32(i), Reason: reasons[i]})
			continue
		}
		tr.keep = append(tr.keep, int32(i))
		tr.dirs = append(tr.dirs, dir)
	}
	return tr
}

// scopeDirection is row i's direction relative to the focus, or without
// one its direction relative to the monitored set.
func scopeDirection(t *analysis.Table, i int, focus []netip.Prefix) ingest.Direction {
	if len(focus) == 0 {
		return t.Direction(i)
	}
	return analysis.DirectionOf(inPrefixes(focus, t.Src(i)), inPrefixes(focus, t.Dst(i)))
}

// excluded returns the excluded prefix holding src or dst.
func excluded(ps []netip.Prefix, src, dst netip.Addr) (netip.Prefix, bool) {
	for _, p := range ps {
		if p.Contains(src) || p.Contains(dst) {
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

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
