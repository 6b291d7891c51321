package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// samples gives states the evidence lines of their earliest sessions that
// have some (each collector kept up to analysis.DefaultSamples lines per
// conversation), analysis.DefaultSamples lines at most. The sessions with
// evidence are streamed by a query of their own: aggregated with the
// conversations, a million conversations' lines took the server past 7 GB.
func (s *Store) samples(ctx context.Context, q Query, tags map[string]string, states []analysis.ConvState) error {
	idx := make(map[analysis.Key]int, len(states))
	for i := range states {
		idx[states[i].Key()] = i
	}
	// Samples only grow within a session: the latest version of a session
	// with evidence has some, so filtering before FINAL's merge is safe.
	query := "SELECT src, dst, proto, dport, first_ns, samples FROM " + s.table("sessions") + " FINAL WHERE notEmpty(samples)"
	if where := s.where(q, tags); where != "" {
		query += " AND " + where
	}
	rows, err := s.conn.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.addr, err)
	}
	defer rows.Close()
	picks := make([][]evidence, len(states))
	for rows.Next() {
		var src, dst string
		var k analysis.Key
		var e evidence
		if err := rows.Scan(&src, &dst, &k.Proto, &k.DPort, &e.at, &e.lines); err != nil {
			return fmt.Errorf("read %s: %w", s.addr, err)
		}
		if len(src) != 16 || len(dst) != 16 {
			return fmt.Errorf("read %s: a session row has a %d-byte address", s.addr, len(src))
		}
		copy(k.Src[:], src)
		copy(k.Dst[:], dst)
		if i, ok := idx[k]; ok { // not a conversation of the result (Top)
			picks[i] = keepEarliest(picks[i], e, analysis.DefaultSamples)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", s.addr, err)
	}
	for i, p := range picks {
		for _, e := range p {
			for _, l := range e.lines {
				if len(states[i].Samples) < analysis.DefaultSamples {
					states[i].Samples = append(states[i].Samples, l)
				}
			}
		}
	}
	return nil
}

// evidence is a session's evidence lines and the time of its first line.
type evidence struct {
	at    int64
	lines []string
}

// keepEarliest adds e to the n earliest sessions' evidence, kept in order
// of time, then text: the same lines whatever order the rows come in.
func keepEarliest(kept []evidence, e evidence, n int) []evidence {
	i, _ := slices.BinarySearchFunc(kept, e, compareEvidence)
	if i >= n {
		return kept
	}
	kept = slices.Insert(kept, i, e)
	if len(kept) > n {
		kept = kept[:n]
	}
	return kept
}

func compareEvidence(a, b evidence) int {
	return cmp.Or(cmp.Compare(a.at, b.at), slices.Compare(a.lines, b.lines))
}
