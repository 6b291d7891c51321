package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Conversations computes the conversations q selects inside ClickHouse
// and returns them as a table sorted as analysis.Model.Table sorts them (by
// bytes, largest first, with Top), holding their sample lines.
//
// A connection logged at both ends (NSX OUT at the sender's vNIC and IN at
// the receiver's; Nutanix at both secured VMs), even by hosts that send to
// different collectors, is two sessions on two sides of one conversation.
// The query sums each side apart; the laptop then takes, for each figure,
// the larger side (analysis.TableBuilder.Add), as a workspace does:
// this is where both-ends deduplication is resolved.
func (s *Store) Conversations(ctx context.Context, q Query) (*analysis.Table, error) {
	tags, err := s.ruleTags(ctx)
	if err != nil {
		return nil, err
	}
	states, monitored, err := s.states(ctx, q, tags)
	if err != nil {
		return nil, err
	}
	if q.Samples {
		if err := s.samples(ctx, q, tags, states); err != nil {
			return nil, err
		}
	}
	mon := analysis.NewLearnedMonitored(monitored)
	if len(q.Monitored) > 0 {
		mon = analysis.NewMonitored(q.Monitored, nil)
	}
	b := analysis.NewTableBuilder(tags, len(states), nil)
	for i := range states {
		b.Add(&states[i], 0, len(states[i].Samples))
	}
	t := b.Finish(mon, nil)
	if q.Top > 0 {
		t = t.Reordered(t.ByBytes())
	}
	return t, nil
}

// ruleTags returns the NSX rule → tag map of all collectors; where they
// disagree, the greatest tag.
func (s *Store) ruleTags(ctx context.Context) (map[string]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT rule, max(tag) FROM `+s.table("rule_tags")+` GROUP BY rule`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.addr, err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var r, t string
		if err := rows.Scan(&r, &t); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.addr, err)
		}
		out[r] = t
	}
	return out, rows.Err()
}

// sides are the sides of a conversation, as ingest.Direction values.
var sides = [...]int{int(ingest.DirUnknown), int(ingest.DirInbound), int(ingest.DirOutbound)}

// stateQuery is the conversation query: one row per conversation, every
// side's figures apart.
func (s *Store) stateQuery(q Query, tags map[string]string) string {
	var b strings.Builder
	b.WriteString("SELECT src, dst, proto, dport")
	for _, d := range sides {
		fmt.Fprintf(&b, ",\n countIf(side = %d), countIf(side = %[1]d AND unanswered = 1)", d)
		for _, c := range []string{"orig_pkts", "orig_bytes", "reply_pkts", "reply_bytes"} {
			fmt.Fprintf(&b, ", sumIf(%s, side = %d)", c, d)
		}
	}
	// Sessions per hour and side in one map: side<<32 | hour since the epoch.
	b.WriteString(`,
 sumMapIf([toUInt64(side) * 4294967296 + intDiv(toUInt32(start), 3600)], [toUInt64(1)], toUInt32(start) != 0),
 minIf(first_ns, first_ns != 0), max(last_ns),
 groupUniqArrayArray(arrayMap(l -> concat(toString(side), l), labels)),
 groupUniqArrayIf(host, host != ''), groupBitOr(actions), groupBitOr(vendors)`)
	// Directions: whether the endpoints sit behind an enforcement point
	// anywhere in the store (the learned monitored set), answered by the
	// server for the conversations it returns only. GLOBAL: on a cluster
	// the set is built once, over every shard.
	learned := fmt.Sprintf("(SELECT src FROM %[1]s WHERE side = %[2]d UNION ALL SELECT dst FROM %[1]s WHERE side = %[3]d)",
		s.table("sessions"), ingest.DirOutbound, ingest.DirInbound)
	fmt.Fprintf(&b, ",\n src GLOBAL IN %s, dst GLOBAL IN %[1]s", learned)
	b.WriteString("\nFROM " + s.table("sessions") + " FINAL")
	if where := s.where(q, tags); where != "" {
		b.WriteString("\nWHERE " + where)
	}
	b.WriteString("\nGROUP BY src, dst, proto, dport")
	if q.Top > 0 {
		// analysis.Table.Bytes: the larger side of each direction.
		var ob, rb []string
		for _, d := range sides {
			ob = append(ob, fmt.Sprintf("sumIf(orig_bytes, side = %d)", d))
			rb = append(rb, fmt.Sprintf("sumIf(reply_bytes, side = %d)", d))
		}
		fmt.Fprintf(&b, "\nORDER BY greatest(greatest(%s), %s) + greatest(greatest(%s), %s) DESC, src, dst, proto, dport LIMIT %d",
			strings.Join(ob[:2], ", "), ob[2], strings.Join(rb[:2], ", "), rb[2], q.Top)
	}
	return b.String()
}

// states runs the conversation query: the states of the conversations and
// their endpoints in the learned monitored set.
func (s *Store) states(ctx context.Context, q Query, tags map[string]string) ([]analysis.ConvState, []netip.Addr, error) {
	rows, err := s.conn.Query(ctx, s.stateQuery(q, tags))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", s.addr, err)
	}
	defer rows.Close()
	var out []analysis.ConvState
	var learned []netip.Addr
	var r stateRow
	dest := r.dest()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", s.addr, err)
		}
		st, err := r.state()
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", s.addr, err)
		}
		if r.srcMon == 1 {
			learned = append(learned, st.Src)
		}
		if r.dstMon == 1 {
			learned = append(learned, st.Dst)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", s.addr, err)
	}
	return out, learned, nil
}

// stateRow is one row of the conversation query.
type stateRow struct {
	src, dst       string
	proto          uint8
	dport          uint16
	sides          [3]sideRow
	hourly         []any // sumMap's (side<<32 | hour, sessions)
	first, last    int64
	labels, hosts  []string
	actions        uint16
	vendors        uint8
	srcMon, dstMon uint8
}

type sideRow struct {
	sessions, unanswered uint64
	counts               [4]uint64
}

func (r *stateRow) dest() []any {
	d := []any{&r.src, &r.dst, &r.proto, &r.dport}
	for i := range r.sides {
		s := &r.sides[i]
		d = append(d, &s.sessions, &s.unanswered, &s.counts[0], &s.counts[1], &s.counts[2], &s.counts[3])
	}
	return append(d, &r.hourly, &r.first, &r.last, &r.labels, &r.hosts, &r.actions, &r.vendors, &r.srcMon, &r.dstMon)
}

// state turns the row into the conversation's state.
func (r *stateRow) state() (analysis.ConvState, error) {
	if len(r.src) != 16 || len(r.dst) != 16 {
		return analysis.ConvState{}, fmt.Errorf("a session row has a %d-byte address", len(r.src))
	}
	st := analysis.ConvState{Src: addr(r.src), Dst: addr(r.dst), Proto: r.proto, DPort: r.dport,
		First: r.first, Last: r.last, Actions: r.actions, Vendors: r.vendors}
	for i, d := range sides {
		s := &r.sides[i]
		side := &st.Sides[d]
		side.Sessions, side.Unanswered, side.Counts = s.sessions, int64(s.unanswered), s.counts
	}
	if err := hours(r.hourly, &st.Sides); err != nil {
		return st, err
	}
	for _, l := range r.labels {
		if l == "" || l[0] < '0' || l[0] > '2' {
			return st, fmt.Errorf("a session row has a bad side: %q", l)
		}
		d := l[0] - '0'
		i := slices.IndexFunc(st.Labels, func(x analysis.LabelState) bool { return x.Name == l[1:] })
		if i < 0 {
			i = len(st.Labels)
			st.Labels = append(st.Labels, analysis.LabelState{Name: l[1:]})
		}
		st.Labels[i].Sides |= 1 << d
	}
	st.Hosts = slices.Clone(r.hosts)
	return st, nil
}

// addr reads a 16-byte address; IPv4-mapped ones are IPv4 addresses.
func addr(b string) netip.Addr { return netip.AddrFrom16([16]byte([]byte(b))).Unmap() }

// hours reads sumMap's (side<<32 | hour, sessions) into the sides' hourly
// counts, in time order.
func hours(v []any, sides *[3]analysis.SideState) error {
	if len(v) != 2 {
		return fmt.Errorf("hourly sessions: %d elements, want 2", len(v))
	}
	keys, ok1 := v[0].([]uint64)
	ns, ok2 := v[1].([]uint64)
	if !ok1 || !ok2 || len(keys) != len(ns) {
		return fmt.Errorf("hourly sessions: unexpected types %T, %T", v[0], v[1])
	}
	for i, k := range keys {
		side := k >> 32
		if side >= uint64(len(sides)) {
			return fmt.Errorf("hourly sessions: side %d", side)
		}
		s := &sides[side]
		s.Hourly = append(s.Hourly, analysis.HourCount{Hour: int32(uint32(k)), N: uint32(ns[i])})
	}
	for i := range sides {
		slices.SortFunc(sides[i].Hourly, func(a, b analysis.HourCount) int { return cmp.Compare(a.Hour, b.Hour) })
	}
	return nil
}
