package analysis

import "fmt"

// ReviewReasons returns, for each conversation, why synthesis with k lists
// it for review instead of making a rule of it, or "" when it makes a rule
// of it: a peer the user excluded, a port scan (one source reaching
// k.ScanPorts unanswered ports of one host), never answered, only seen
// dropped, or only received over UDP (the last four unless
// k.IncludeSuspect). It is the test
// Synthesize applies, for the commands that need it without synthesising
// (check: no observed conversation outside review may be blocked).
func ReviewReasons(t *Table, k Knobs) []string {
	k = k.withDefaults()
	type pair struct {
		src, dst ip128
		flags    uint8 // their families
	}
	pairOf := func(r *tableRow) pair { return pair{r.src, r.dst, r.flags & (flagSrc4 | flagDst4)} }
	unansweredPorts := make(map[pair]int)
	for i := range t.rows {
		if r := &t.rows[i]; r.unanswered > 0 {
			unansweredPorts[pairOf(r)]++
		}
	}
	reasons := make([]string, t.Len())
	for i := range t.rows {
		r := &t.rows[i]
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
		if r.unanswered > 0 {
			n = unansweredPorts[pairOf(r)]
		}
		switch {
		case n >= k.ScanPorts:
			reasons[i] = fmt.Sprintf("port scan: %d unanswered ports of %s from %s", n, t.Dst(i), t.Src(i))
		case t.Suspect(i):
			reasons[i] = "never answered (probable scan or dead service)"
		case onlyBlocked(t.actSets[r.acts]):
			reasons[i] = "only seen dropped"
		case r.flags&flagUnauthenticated != 0:
			reasons[i] = reasonUnauthenticated
		}
	}
	return reasons
}
