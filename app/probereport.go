package app

import (
	"fmt"
	"time"
)

// The probes' reports (probe.go), which the CLI's gui command prints.

// LatencyReport is how long functions queued for the UI goroutine waited
// to run: the event loop's latency, which is what a user feels as lag.
type LatencyReport struct {
	Samples       int
	P50, P99, Max time.Duration
	Elapsed       time.Duration // the import's duration (or the idle period)
	Err           error         // the import's error
}

func (r LatencyReport) String() string {
	return fmt.Sprintf("%d samples over %s: p50 %s, p99 %s, max %s", r.Samples, r.Elapsed.Round(time.Millisecond),
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
}

// OpenReport is how long opening a workspace took as a user sees it, and
// how long the Flows view took to sort and filter its conversations.
type OpenReport struct {
	Conversations int
	Overview      time.Duration // from Start to the Overview showing the conversations
	Flows         time.Duration // to the Flows view showing them
	Rules         time.Duration // to the rules shown (synthesised after the Overview)
	Readiness     time.Duration // to the Overview's readiness line filled in (computed after the rules)
	Steps         []OpenStep    // sorts and filters in the Flows view
}

// OpenStep is one sort or filter: from the request to the table showing
// its result.
type OpenStep struct {
	What string
	Took time.Duration
	Rows int
}

func (r OpenReport) String() string {
	s := fmt.Sprintf("%d conversations: overview %s, flows %s, rules %s, readiness line %s", r.Conversations,
		r.Overview.Round(time.Millisecond), r.Flows.Round(time.Millisecond), r.Rules.Round(time.Millisecond),
		r.Readiness.Round(time.Millisecond))
	for _, st := range r.Steps {
		s += fmt.Sprintf("; %s %s (%d rows)", st.What, st.Took.Round(time.Millisecond), st.Rows)
	}
	return s
}
