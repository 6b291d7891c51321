package workspace

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"slices"
	"strings"
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
	n, err := storedConversations(ctx, ws.db)
	if err != nil {
		return nil, classify(err)
	}
	// Sized up front: growing a slice of a million pointer-rich states
	// cost more than reading them (4.2 of 7.8 s in a profile).
	out := make([]analysis.ConvState, 0, n)
	err = ws.readLines(ctx, func(tx *sql.Tx, lr *linesReader) error {
		return eachEntryIn(ctx, tx, "", nil, func(e *convEntry) error {
			var st analysis.ConvState
			n, err := decodeStateInto(e.rec, &st, nil, false)
			if err != nil {
				return fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, e.id, err)
			}
			if n > 0 {
				if st.Samples, err = lr.samples(ctx, e, n); err != nil {
					return err
				}
			}
			out = append(out, st)
			return nil
		})
	})
	return out, err
}

// selection selects the stored conversations load reads: the blocks where
// selects (all: ""), with its args, and of those the conversations keep
// keeps (nil: all). size, when not 0, is how many it selects at most.
type selection struct {
	where string
	args  []any
	keep  func(e *convEntry) bool
	size  int
}

// Conversations returns the conversations q selects as a table, sorted as
// Model.Table sorts them, holding their sample lines: the workspace may be
// closed while it is used.
func (ws *Workspace) Conversations(ctx context.Context, q Query) (*analysis.Table, error) {
	return ws.load(ctx, q, false, selection{})
}

// Table returns the conversations q selects as a table, sorted as
// Model.Table sorts them. Their sample lines stay in the workspace,
// and the table reads them when asked for: the workspace must stay open
// while the table is used.
func (ws *Workspace) Table(ctx context.Context, q Query) (*analysis.Table, error) {
	return ws.load(ctx, q, true, selection{})
}

// Top returns the n conversations with the most bytes as a table, largest
// first, holding their sample lines: the blocks are read by their largest
// conversation's bytes (the index by top), until the next block's largest
// has fewer bytes than the n-th found. Cheap on any workspace size.
func (ws *Workspace) Top(ctx context.Context, n int) (*analysis.Table, error) {
	sel, err := ws.topSelection(ctx, n)
	if err != nil {
		return nil, err
	}
	t, err := ws.load(ctx, Query{}, false, sel)
	if err != nil {
		return nil, err
	}
	// The table is sorted by direction and address; Top is by bytes, largest first.
	return t.Reordered(t.ByBytes()), nil
}

// topSelection selects the n conversations with the most bytes.
func (ws *Workspace) topSelection(ctx context.Context, n int) (selection, error) {
	sel := selection{where: "0", size: max(n, 1)}
	if n <= 0 {
		return sel, nil
	}
	rows, err := ws.db.QueryContext(ctx, `SELECT id, top, states FROM conversation_blocks ORDER BY top DESC`)
	if err != nil {
		return sel, classify(err)
	}
	defer rows.Close()
	var best topHeap // the n largest found, smallest first
	blocks := map[int64]bool{}
	for rows.Next() {
		var block, top int64
		var blob sql.RawBytes
		if err := rows.Scan(&block, &top, &blob); err != nil {
			return sel, classify(err)
		}
		if len(best) == n && top <= best[0].bytes {
			break
		}
		err := blockEntries(block, blob, func(e *convEntry) error {
			if best.offer(n, topEntry{id: e.id, bytes: e.bytes, block: block}) {
				blocks[block] = true
			}
			return nil
		})
		if err != nil {
			return sel, err
		}
	}
	if err := rows.Err(); err != nil {
		return sel, classify(err)
	}
	ids := make(map[int64]bool, len(best))
	sel.args = nil
	for _, t := range best {
		if ids[t.id] = true; blocks[t.block] {
			blocks[t.block] = false
			sel.args = append(sel.args, t.block)
		}
	}
	if len(sel.args) > 0 {
		sel.where = "id IN (?" + strings.Repeat(", ?", len(sel.args)-1) + ")"
	}
	sel.keep = func(e *convEntry) bool { return ids[e.id] }
	return sel, nil
}

// topEntry is a conversation Top found: its id, bytes and block.
type topEntry struct{ id, bytes, block int64 }

// topHeap holds the largest conversations found, a min-heap by bytes.
type topHeap []topEntry

// offer adds t when the heap holds fewer than n or t has more bytes than
// its smallest, which it then drops, and reports whether it added it.
func (h *topHeap) offer(n int, t topEntry) bool {
	s := *h
	if len(s) < n {
		s = append(s, t)
		for i := len(s) - 1; i > 0; {
			p := (i - 1) / 2
			if s[p].bytes <= s[i].bytes {
				break
			}
			s[p], s[i] = s[i], s[p]
			i = p
		}
		*h = s
		return true
	}
	if t.bytes <= s[0].bytes {
		return false
	}
	s[0] = t
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].bytes < s[m].bytes {
			m = l
		}
		if r < len(s) && s[r].bytes < s[m].bytes {
			m = r
		}
		if m == i {
			return true
		}
		s[m], s[i] = s[i], s[m]
		i = m
	}
}

// load reads the conversations sel selects into a table, keeping the
// sessions of q's time range, with the directions of q's monitored set (or
// the workspace's) and the inventory's names. lazy leaves the sample lines
// in the workspace (the table reads them when asked for).
func (ws *Workspace) load(ctx context.Context, q Query, lazy bool, sel selection) (*analysis.Table, error) {
	size := sel.size
	if size == 0 {
		// Sized up front: growing the table's arrays costs copies.
		if err := ws.count(ctx, &size); err != nil {
			return nil, err
		}
	}
	tags, err := ws.ruleTags(ctx)
	if err != nil {
		return nil, err
	}
	// A large learned set is read while the conversations are.
	var mon *analysis.Monitored
	monErr := make(chan error, 1)
	if size > smallResult {
		go func() {
			var err error
			mon, err = ws.monitoredSet(ctx, nil, q.Monitored)
			monErr <- err
		}()
	} else {
		monErr <- nil
	}
	var loader analysis.SampleLoader
	if lazy {
		loader = sampleLoader{ws}
	}
	b := analysis.NewTableBuilder(tags, size, loader)
	defer b.Abandon() // after Finish, nothing
	windowed := !q.Since.IsZero() || !q.Until.IsZero()
	lists := listNumbers{tags: map[string]uint32{}, hosts: map[string]uint32{}, cache: strCache{}}
	err = ws.scan(ctx, !lazy, sel, func(id int64, st *analysis.ConvState, samples int, l *recordLists) {
		if windowed {
			w, ok := st.Window(q.Since, q.Until)
			if !ok {
				return
			}
			st = &w
		}
		tagSet, hostSet := lists.numbers(b, l)
		b.AddNumbered(st, id, samples, tagSet, hostSet)
	})
	if merr := <-monErr; err == nil {
		err = merr
	}
	if err != nil {
		return nil, err
	}
	if mon == nil {
		if mon, err = ws.monitoredSet(ctx, b, q.Monitored); err != nil {
			return nil, err
		}
	}
	vms, err := ws.vmLabels(ctx)
	if err != nil {
		return nil, err
	}
	return b.Finish(mon, vms), nil
}

// count counts the stored conversations.
func (ws *Workspace) count(ctx context.Context, n *int) error {
	conn, done, err := ws.lean(ctx)
	if err != nil {
		return err
	}
	defer done()
	*n, err = storedConversations(ctx, conn)
	return classify(err)
}

// listNumbers numbers the label and host lists of records by their bytes
// (recordLists): of a million records, each distinct list is decoded and
// numbered once, and the others cost one map look-up each instead of a
// look-up of every name, and the builder's of the list.
type listNumbers struct {
	tags, hosts map[string]uint32 // by the list's bytes
	cache       strCache
}

// numbers returns the numbers in b of the lists of l.
func (n *listNumbers) numbers(b *analysis.TableBuilder, l *recordLists) (tags, hosts uint32) {
	tags, ok := n.tags[string(l.labels)]
	if !ok {
		tags = b.TagSet(decodeLabels(l.labels, n.cache))
		n.tags[string(l.labels)] = tags
	}
	hosts, ok = n.hosts[string(l.hosts)]
	if !ok {
		hosts = b.HostSet(decodeHosts(l.hosts, n.cache))
		n.hosts[string(l.hosts)] = hosts
	}
	return tags, hosts
}

// scan decodes every record sel selects and hands it to add, which must
// not keep the state (it is reused) nor the lists' bytes, but may keep its
// samples. The state's labels and hosts are left out: lists says where
// they are in the record. With samples, the state has its sample lines,
// read in the transaction the blocks are (a conversation's lines change
// with its state).
func (ws *Workspace) scan(ctx context.Context, samples bool, sel selection, add func(id int64, st *analysis.ConvState, samples int, lists *recordLists)) error {
	var st analysis.ConvState
	var lists recordLists
	var lr *linesReader
	each := func(e *convEntry) error {
		if sel.keep != nil && !sel.keep(e) {
			return nil
		}
		lines, err := decodeRecord(e.rec, &st, nil, false, &lists)
		if err != nil {
			return fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, e.id, err)
		}
		if lr != nil && lines > 0 {
			if st.Samples, err = lr.samples(ctx, e, lines); err != nil {
				return err
			}
		}
		add(e.id, &st, lines, &lists)
		return nil
	}
	if samples {
		return ws.readLines(ctx, func(tx *sql.Tx, r *linesReader) error {
			lr = r
			return eachEntryIn(ctx, tx, sel.where, sel.args, each)
		})
	}
	conn, done, err := ws.lean(ctx)
	if err != nil {
		return err
	}
	defer done()
	return eachEntry(ctx, conn, sel.where, sel.args, each)
}

// readLines runs fn in a read transaction on a lean connection, with a
// reader of sample lines in it.
func (ws *Workspace) readLines(ctx context.Context, fn func(*sql.Tx, *linesReader) error) error {
	conn, done, err := ws.lean(ctx)
	if err != nil {
		return err
	}
	defer done()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	lr, err := openLinesReader(ctx, tx)
	if err != nil {
		return err
	}
	defer lr.close()
	return fn(tx, lr)
}

// linesReader reads the sample lines of stored conversations in a
// transaction: their conversation_samples row (convEntry.apart), else
// their block.
type linesReader struct {
	stmt *sql.Stmt
	blr  blockReader
}

func openLinesReader(ctx context.Context, tx *sql.Tx) (*linesReader, error) {
	stmt, err := tx.PrepareContext(ctx, `SELECT lines FROM conversation_samples WHERE id = ?`)
	if err != nil {
		return nil, classify(err)
	}
	return &linesReader{stmt: stmt, blr: blockReader{q: tx}}, nil
}

func (r *linesReader) close() { r.stmt.Close() }

// lines returns the sample lines of e's conversation as they are stored
// (nil: none), valid until the next call.
func (r *linesReader) lines(ctx context.Context, e *convEntry) ([]byte, error) {
	if !e.apart {
		return r.blr.lines(ctx, e.id)
	}
	var b []byte
	switch err := r.stmt.QueryRowContext(ctx, e.id).Scan(&b); {
	case err == sql.ErrNoRows:
		return nil, fmt.Errorf("%w: conversation %d: its sample lines are missing", ErrCorrupt, e.id)
	case err != nil:
		return nil, classify(err)
	}
	return b, nil
}

// samples returns the n sample lines of e's conversation.
func (r *linesReader) samples(ctx context.Context, e *convEntry, n int) ([]string, error) {
	b, err := r.lines(ctx, e)
	if err != nil {
		return nil, err
	}
	var out []string
	if len(b) > 0 {
		if out, err = decodeLines(b); err != nil {
			return nil, fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, e.id, err)
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: conversation %d: %d sample lines stored, %d in its state", ErrCorrupt, e.id, len(out), n)
	}
	return out, nil
}

// lean returns a connection whose page cache is small, for a query that
// reads each page once (a scan, a batch of lookups): SQLite's memory is
// outside Go's heap, and every connection's 64 MiB cache filled by such a
// query was a fifth of the peak of reading a million conversations. done
// gives the connection its cache back (smallCache) and returns it to the
// pool.
func (ws *Workspace) lean(ctx context.Context) (conn *sql.Conn, done func(), err error) {
	if conn, err = ws.db.Conn(ctx); err != nil {
		return nil, nil, classify(err)
	}
	restore, err := smallCache(ctx, conn, leanCacheKiB)
	if err != nil {
		conn.Close()
		return nil, nil, classify(err)
	}
	return conn, func() {
		restore()
		conn.Close()
	}, nil
}

// leanCacheKiB is a lean query's page cache, in KiB.
const leanCacheKiB = 2 << 10

// sampleLoader reads the sample lines of stored conversations by id.
type sampleLoader struct{ ws *Workspace }

// sampleBatch is how many records one query of sampleLoader reads.
const sampleBatch = 500

// Samples returns the sample lines of the conversations of ids, in their
// order (nil for an id no longer stored), reading the records in batches
// in the order of the ids.
func (l sampleLoader) Samples(ids []int64) ([][]string, error) {
	ctx := context.Background()
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	n := min(len(sorted), sampleBatch)
	if n == 0 {
		return make([][]string, len(ids)), nil
	}
	conn, done, err := l.ws.lean(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	stmt, err := conn.PrepareContext(ctx, `SELECT id, lines FROM conversation_samples WHERE id IN (?`+strings.Repeat(",?", n-1)+`)`)
	if err != nil {
		return nil, classify(err)
	}
	defer stmt.Close()
	byID := make(map[int64][]string, len(sorted))
	args := make([]any, n)
	for lo := 0; lo < len(sorted); lo += n {
		for j := range args {
			args[j] = sorted[min(lo+j, len(sorted)-1)] // the last batch repeats its last id
		}
		if err := l.read(ctx, stmt, args, byID); err != nil {
			return nil, err
		}
	}
	// The others' lines are in blocks, or they have none: in id order, a
	// block is read once.
	blocks := blockReader{q: conn}
	for _, id := range sorted {
		if _, ok := byID[id]; ok {
			continue
		}
		lines, err := blocks.samples(ctx, id)
		if err != nil {
			return nil, err
		}
		if lines != nil {
			byID[id] = lines
		}
	}
	out := make([][]string, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

// read reads the samples of one batch of ids into byID.
func (l sampleLoader) read(ctx context.Context, stmt *sql.Stmt, args []any, byID map[int64][]string) error {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var b sql.RawBytes
		if err := rows.Scan(&id, &b); err != nil {
			return classify(err)
		}
		samples, err := decodeLines(b)
		if err != nil {
			return fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, id, err)
		}
		byID[id] = samples
	}
	return classify(rows.Err())
}

// vmLabels returns what the inventory says of each address it names.
func (ws *Workspace) vmLabels(ctx context.Context) (map[netip.Addr]analysis.VMLabel, error) {
	inv, err := ws.Inventory(ctx)
	if err != nil || len(inv) == 0 {
		return nil, err
	}
	out := make(map[netip.Addr]analysis.VMLabel, len(inv))
	for _, e := range inv {
		out[e.IP] = analysis.VMLabel{VM: e.VM, Groups: e.Groups}
	}
	return out, nil
}

// smallResult is the number of conversations below which the learned
// monitored set is looked up address by address rather than loaded whole.
const smallResult = 1000

// monitoredOf looks up, in the learned set, only the addresses of the
// conversations b holds.
func (ws *Workspace) monitoredOf(ctx context.Context, b *analysis.TableBuilder) (*analysis.Monitored, error) {
	stmt, err := ws.db.PrepareContext(ctx, `SELECT count(*) FROM endpoints WHERE addr = ?`)
	if err != nil {
		return nil, classify(err)
	}
	defer stmt.Close()
	var addrs []netip.Addr
	b.Addrs(func(a netip.Addr) { addrs = append(addrs, a) })
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

// monitoredSet is override, else the declared set, else the learned one:
// looked up address by address for the few conversations b holds, else
// (b nil, or many) read whole.
func (ws *Workspace) monitoredSet(ctx context.Context, b *analysis.TableBuilder, override []netip.Prefix) (*analysis.Monitored, error) {
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
	if b != nil && b.Len() <= smallResult {
		return ws.monitoredOf(ctx, b)
	}
	conn, done, err := ws.lean(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM endpoints`).Scan(&n); err != nil {
		return nil, classify(err)
	}
	// Through eachRecord: row by row, database/sql's locking and the
	// driver's copy of each address took two thirds of reading a million.
	addrs := make([]netip.Addr, 0, n)
	err = eachRecord(ctx, conn, `SELECT 0 AS id, addr AS state FROM endpoints`, nil, func(_ int64, b []byte) error {
		if len(b) == 16 {
			addrs = append(addrs, netip.AddrFrom16([16]byte(b)).Unmap())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return analysis.NewLearnedMonitored(addrs), nil
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
