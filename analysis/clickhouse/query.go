package clickhouse

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Query selects conversations. Its filters run inside ClickHouse.
type Query struct {
	// Since and Until keep the sessions that started in [Since, Until); a
	// zero bound is open. Unlike a workspace, which keeps only hourly
	// session counts, the store filters sessions exactly: a conversation's
	// packets, bytes, first and last times are those of its sessions in
	// the range.
	Since, Until time.Time
	// Tags keeps the conversations carrying one of these tags.
	Tags []string
	// Monitored overrides the monitored set learned from the logs.
	Monitored []netip.Prefix
	// Samples fetches up to analysis.DefaultSamples evidence lines per
	// conversation, the earliest; without it conversations have none.
	Samples bool
	// Top keeps the Top conversations with the most bytes, largest first.
	Top int
}

// where is the filter of q, pushed down to the sessions read.
func (s *Store) where(q Query, ruleTags map[string]string) string {
	var conds []string
	if !q.Since.IsZero() {
		conds = append(conds, fmt.Sprintf("toUInt32(start) >= %d", max(q.Since.Unix(), 1)))
	}
	if !q.Until.IsZero() {
		conds = append(conds, fmt.Sprintf("toUInt32(start) != 0 AND toUInt32(start) < %d", max(q.Until.Unix(), 0)))
	}
	if len(q.Tags) > 0 {
		// A conversation shows a label under its tag; an NSX "rule X" label
		// under the tag its rule carries elsewhere. Labels only grow
		// within a session, so any version of a row tells.
		var labels []string
		for _, t := range q.Tags {
			if _, isRule := ruleTags[t]; !isRule {
				labels = append(labels, quote(t))
			}
		}
		for r, t := range ruleTags {
			if slices.Contains(q.Tags, t) {
				labels = append(labels, quote(r))
			}
		}
		slices.Sort(labels)
		if len(labels) == 0 {
			labels = append(labels, "''") // no label can match; '' is never a tag
		}
		conds = append(conds, fmt.Sprintf("(src, dst, proto, dport) GLOBAL IN (SELECT src, dst, proto, dport FROM %s WHERE hasAny(labels, [%s]))",
			s.table("sessions"), strings.Join(labels, ", ")))
	}
	return strings.Join(conds, " AND ")
}

// quote writes s as a ClickHouse string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
