package rules

import "github.com/flowsleuth/flowsleuth/analysis"
import "fmt"

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
	type pair struct{ src, dst addrKey }
	pairOf := func(i int) (p pair) {
		p.src.hi, p.src.lo, p.src.is4 = t.SrcIP(i)
		p.dst.hi, p.dst.lo, p.dst.is4 = t.DstIP(i)
		return p
	}
	unansweredPorts := make(map[pair]int)
	for i := range t.Len() {
		if t.Unanswered(i) > 0 {
			unansweredPorts[pairOf(i)]++
		}
	}
	reasons := make([]string, t.Len())
	for i := range t.Len() {
		if len(k.Exclude) > 0 {
			if p, ok := excluded(k.Exclude, t.Src(i), t.Dst(i)); ok {
				reasons[i] = "peer " + p.String() + " excluded by the user"
				continue
			}
		}
		if k.IncludeSuspect {
			continue
		}
		n := 0
		if t.Unanswered(i) > 0 {
			n = unansweredPorts[pairOf(i)]
		}
		switch {
		case n >= k.ScanPorts:
			reasons[i] = fmt.Sprintf("port scan: %d unanswered ports of %s from %s", n, t.Dst(i), t.Src(i))
		case t.Suspect(i):
			reasons[i] = "never answered (probable scan or dead service)"
		case onlyBlocked(t.Actions(i)):
			reasons[i] = "only seen dropped"
		case t.Unauthenticated(i):
			reasons[i] = reasonUnauthenticated
		}
	}
	return reasons
}

// reasonUnauthenticated is the review reason of a conversation seen only
// over UDP.
const reasonUnauthenticated = "received only over UDP, whose sender address anyone can forge " +
	"(have the hosts send over TCP, or TLS with client certificates)"
