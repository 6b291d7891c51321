package workspace

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Query selects conversations.
type Query struct {
	// Since and Until keep the sessions that started in [Since, Until), by
	// the hourly counts; a zero bound is open. Conversations with no session
	// in the range are left out; packets and bytes stay whole.
	Since, Until time.Time
	// Monitored overrides the workspace's monitored set for directions.
	Monitored []netip.Prefix
}

// States returns the stored state of every conversation, unordered.
func (ws *Workspace) States(ctx context.Context) ([]analysis.ConvState, error) {
	var n int
	if err := ws.db.QueryRowContext(ctx, `SELECT count(*) FROM conversations`).Scan(&n); err != nil {
		return nil, classify(err)
	}
	// Sized up front: growing a slice of a million pointer-rich states
	// cost more than reading them (4.2 of 7.8 s in a profile).
	return ws.states(ctx, n, `SELECT id, state FROM conversations`)
}

func (ws *Workspace) states(ctx context.Context, size int, query string, args ...any) ([]analysis.ConvState, error) {
	rows, err := ws.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := make([]analysis.ConvState, 0, size)
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, classify(err)
		}
		st, err := decodeState(b)
		if err != nil {
			return nil, fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, id, err)
		}
		out = append(out, st)
	}
	return out, classify(rows.Err())
}

// Conversations returns the conversations q selects, sorted as
// analysis.Compare orders them.
func (ws *Workspace) Conversations(ctx context.Context, q Query) ([]analysis.Conversation, error) {
	states, err := ws.States(ctx)
	if err != nil {
		return nil, err
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		kept := states[:0]
		for i := range states {
			if w, ok := states[i].Window(q.Since, q.Until); ok {
				kept = append(kept, w)
			}
		}
		states = kept
	}
	return ws.build(ctx, states, q.Monitored)
}

// Top returns the n conversations with the most bytes, largest first,
// straight from the index: cheap on any workspace size.
func (ws *Workspace) Top(ctx context.Context, n int) ([]analysis.Conversation, error) {
	states, err := ws.states(ctx, n, `SELECT id, state FROM conversations ORDER BY bytes DESC LIMIT ?`, n)
	if err != nil {
		return nil, err
	}
	convs, err := ws.build(ctx, states, nil)
	if err != nil {
		return nil, err
	}
	// build sorts by direction and address; Top is by bytes, largest first.
	slices.SortStableFunc(convs, func(a, b analysis.Conversation) int { return cmp.Compare(b.Bytes(), a.Bytes()) })
	return convs, nil
}

// build turns states into conversations with the workspace's directions and
// rule tags.
func (ws *Workspace) build(ctx context.Context, states []analysis.ConvState, override []netip.Prefix) ([]analysis.Conversation, error) {
	mon, err := ws.monitoredSet(ctx, states, override)
	if err != nil {
		return nil, err
	}
	tags, err := ws.ruleTags(ctx)
	if err != nil {
		return nil, err
	}
	convs := analysis.Build(states, mon, tags)
	return convs, ws.label(ctx, convs)
}

// label names conversation endpoints after the inventory's VMs.
func (ws *Workspace) label(ctx context.Context, convs []analysis.Conversation) error {
	inv, err := ws.Inventory(ctx)
	if err != nil || len(inv) == 0 {
		return err
	}
	byIP := make(map[netip.Addr]*InvEntry, len(inv))
	for i := range inv {
		byIP[inv[i].IP] = &inv[i]
	}
	for i := range convs {
		c := &convs[i]
		if e := byIP[c.Src]; e != nil {
			c.SrcVM, c.SrcGroups = e.VM, e.Groups
		}
		if e := byIP[c.Dst]; e != nil {
			c.DstVM, c.DstGroups = e.VM, e.Groups
		}
	}
	return nil
}

// smallResult is the number of conversations below which the learned
// monitored set is looked up address by address rather than loaded whole.
const smallResult = 1000

// monitoredOf looks up, in the learned set, only the addresses of states.
func (ws *Workspace) monitoredOf(ctx context.Context, states []analysis.ConvState) (*analysis.Monitored, error) {
	stmt, err := ws.db.PrepareContext(ctx, `SELECT count(*) FROM endpoints WHERE addr = ?`)
	if err != nil {
		return nil, classify(err)
	}
	defer stmt.Close()
	var addrs []netip.Addr
	for i := range states {
		addrs = append(addrs, states[i].Src, states[i].Dst)
	}
	var qerr error
	mon := analysis.NewMonitoredOf(addrs, func(a netip.Addr) bool {
		b := a.As16()
		var n int
		if err := stmt.QueryRowContext(ctx, b[:]).Scan(&n); err != nil && qerr == nil {
			qerr = classify(err)
		}
		return n > 0
	})
	return mon, qerr
}

// monitoredSet is override, else the declared set, else the learned one.
func (ws *Workspace) monitoredSet(ctx context.Context, states []analysis.ConvState, override []netip.Prefix) (*analysis.Monitored, error) {
	if len(override) > 0 {
		return analysis.NewMonitored(override, nil), nil
	}
	declared, err := ws.Monitored(ctx)
	if err != nil {
		return nil, err
	}
	if len(declared) > 0 {
		return analysis.NewMonitored(declared, nil), nil
	}
	if len(states) <= smallResult {
		return ws.monitoredOf(ctx, states)
	}
	rows, err := ws.db.QueryContext(ctx, `SELECT addr FROM endpoints`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var addrs []netip.Addr
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, classify(err)
		}
		if len(b) == 16 {
			addrs = append(addrs, netip.AddrFrom16([16]byte(b)).Unmap())
		}
	}
	return analysis.NewLearnedMonitored(addrs), classify(rows.Err())
}

func (ws *Workspace) ruleTags(ctx context.Context) (map[string]string, error) {
	rows, err := ws.db.QueryContext(ctx, `SELECT rule, tag FROM rule_tags`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var r, t string
		if err := rows.Scan(&r, &t); err != nil {
			return nil, classify(err)
		}
		out[r] = t
	}
	return out, classify(rows.Err())
}

// Monitored returns the declared monitored set (empty: learned from the logs).
func (ws *Workspace) Monitored(ctx context.Context) ([]netip.Prefix, error) {
	rows, err := ws.db.QueryContext(ctx, `SELECT prefix FROM monitored ORDER BY prefix`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []netip.Prefix
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, classify(err)
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%w: monitored prefix %q", ErrCorrupt, s)
		}
		out = append(out, p)
	}
	return out, classify(rows.Err())
}

// SetMonitored declares the monitored set; an empty list returns to the
// learned one.
func (ws *Workspace) SetMonitored(ctx context.Context, prefixes []netip.Prefix) error {
	return ws.writeAs(ctx, "monitored set", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitored`); err != nil {
			return err
		}
		for _, p := range prefixes {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO monitored (prefix) VALUES (?)`, p.Masked().String()); err != nil {
				return err
			}
		}
		return nil
	})
}
