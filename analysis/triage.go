package analysis

import (
	"fmt"
	"net/netip"
)

// ReviewReasons returns, for each conversation, why synthesis with k lists
// it for review instead of making a rule of it, or "" when it makes a rule
// of it: a peer the user excluded, a port scan (one source reaching
// k.ScanPorts unanswered ports of one host), never answered, only seen
// dropped, or only received over UDP (the last four unless
// k.IncludeSuspect). It is the test
// Synthesize applies, for the commands that need it without synthesising
// (check: no observed conversation outside review may be blocked).
func ReviewReasons(convs []Conversation, k Knobs) []string {
	k = k.withDefaults()
	type pair struct{ src, dst netip.Addr }
	unansweredPorts := make(map[pair]int)
	for i := range convs {
		if c := &convs[i]; c.Unanswered > 0 {
			unansweredPorts[pair{c.Src, c.Dst}]++
		}
	}
	reasons := make([]string, len(convs))
	for i := range convs {
		c := &convs[i]
		if p, ok := excluded(k.Exclude, c); ok {
			reasons[i] = "peer " + p.String() + " excluded by the user"
			continue
		}
		if k.IncludeSuspect {
			continue
		}
		n := 0
		if c.Unanswered > 0 {
			n = unansweredPorts[pair{c.Src, c.Dst}]
		}
		switch {
		case n >= k.ScanPorts:
			reasons[i] = fmt.Sprintf("port scan: %d unanswered ports of %s from %s", n, c.Dst, c.Src)
		case c.Suspect():
			reasons[i] = "never answered (probable scan or dead service)"
		case onlyBlocked(c.Actions):
			reasons[i] = "only seen dropped"
		case unauthenticated(c):
			reasons[i] = reasonUnauthenticated
		}
	}
	return reasons
}
