package workspace

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Info summarises a workspace.
type Info struct {
	Path            string    `json:"path"`
	FileBytes       int64     `json:"file_bytes"` // database and WAL on disk
	Schema          int       `json:"schema"`
	Sources         int64     `json:"sources"`
	Conversations   int64     `json:"conversations"`
	Sessions        int64     `json:"sessions"`
	Lines           int64     `json:"lines"`
	Events          int64     `json:"events"`
	Malformed       int64     `json:"malformed"`
	OpenConnections int       `json:"open_connections"`
	Monitored       []string  `json:"monitored,omitempty"` // declared; empty when learned
	Learned         int64     `json:"learned_endpoints"`
	InventoryIPs    int64     `json:"inventory_ips"`
	Unclassified    int64     `json:"unclassified"` // addresses in conversations the inventory does not name
	First           time.Time `json:"first,omitzero"`
	Last            time.Time `json:"last,omitzero"`
}

// Info returns the workspace's summary.
func (ws *Workspace) Info(ctx context.Context) (Info, error) {
	in := Info{Path: ws.path}
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(ws.path + suffix); err == nil {
			in.FileBytes += st.Size()
		}
	}
	var first, last int64
	// The conversations' figures from the index of blocks by top, which
	// covers them.
	err := ws.db.QueryRowContext(ctx, `SELECT
		(SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sources),
		coalesce(sum(n), 0), coalesce(sum(sessions), 0),
		coalesce(min(nullif(first_ns, 0)), 0), coalesce(max(last_ns), 0),
		(SELECT count(*) FROM endpoints),
		(SELECT count(*) FROM inventory)
		FROM conversation_blocks`).Scan(
		&in.Schema, &in.Sources, &in.Conversations, &in.Sessions,
		&first, &last, &in.Learned, &in.InventoryIPs)
	if err != nil {
		return in, classify(err)
	}
	if in.Unclassified, err = ws.unclassified(ctx); err != nil {
		return in, err
	}
	if first != 0 {
		in.First, in.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
	}
	sources, err := ws.Sources(ctx)
	if err != nil {
		return in, err
	}
	for _, s := range sources {
		in.Lines += s.Stats.Lines
		in.Events += s.Stats.Events
		in.Malformed += s.Stats.Malformed
	}
	tr, err := ws.openTracking(ctx, nil)
	if err != nil {
		return in, err
	}
	in.OpenConnections = tr.sessions
	mon, err := ws.Monitored(ctx)
	for _, p := range mon {
		in.Monitored = append(in.Monitored, p.String())
	}
	return in, err
}

// unclassified counts the addresses of the stored conversations that the
// inventory does not name: every block's keys, decoded, sorted and counted
// once each (a million conversations: 0.6-0.8 s, where SQL's distinct
// addresses of schema 7's rows took 0.85-0.9 s).
func (ws *Workspace) unclassified(ctx context.Context) (int64, error) {
	named, err := ws.inventoryAddrs(ctx)
	if err != nil {
		return 0, err
	}
	conn, done, err := ws.lean(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	var v4 []uint32   // IPv4 addresses (most): a quarter of the memory, and a faster sort
	var v6 [][16]byte // the others
	var last [16]byte // the last source, not added again (a block's keys are in order)
	add := func(a [16]byte) {
		if [12]byte(a[:12]) == v4Prefix {
			v4 = append(v4, binary.BigEndian.Uint32(a[12:]))
		} else {
			v6 = append(v6, a)
		}
	}
	err = eachEntry(ctx, conn, "", nil, func(e *convEntry) error {
		k, err := recordKey(e.rec)
		if err != nil {
			return fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, e.id, err)
		}
		if k.Src != last {
			add(k.Src)
			last = k.Src
		}
		add(k.Dst)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return unnamed(v4, v6, named), nil
}

// unnamed counts the distinct addresses of v4 and v6 (sorted here) that
// named does not hold.
func unnamed(v4 []uint32, v6 [][16]byte, named map[[16]byte]bool) int64 {
	slices.Sort(v4)
	slices.SortFunc(v6, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	var distinct int64
	for i, a := range v4 {
		var b [16]byte
		copy(b[:], v4Prefix[:])
		binary.BigEndian.PutUint32(b[12:], a)
		if (i == 0 || a != v4[i-1]) && !named[b] {
			distinct++
		}
	}
	for i, a := range v6 {
		if (i == 0 || a != v6[i-1]) && !named[a] {
			distinct++
		}
	}
	return distinct
}

// inventoryAddrs returns the addresses the inventory names, as keys hold
// them.
func (ws *Workspace) inventoryAddrs(ctx context.Context) (map[[16]byte]bool, error) {
	named := map[[16]byte]bool{}
	rows, err := ws.db.QueryContext(ctx, `SELECT ip FROM inventory`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ip []byte
		if err := rows.Scan(&ip); err != nil {
			return nil, classify(err)
		}
		if len(ip) == 16 {
			named[[16]byte(ip)] = true
		}
	}
	return named, classify(rows.Err())
}

// v4Prefix starts the 16 bytes of an IPv4 address as keys hold it.
var v4Prefix = [12]byte{10: 0xff, 11: 0xff}

// Counts are how many sources, conversations and sessions a workspace
// holds, as Info counts them.
type Counts struct {
	Sources, Conversations, Sessions int64
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Sources += o.Sources
	c.Conversations += o.Conversations
	c.Sessions += o.Sessions
}

// Counts counts the workspace's sources, conversations and sessions: a
// pass over the index of blocks by top, which covers the counts.
func (ws *Workspace) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := ws.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sources), coalesce(sum(n), 0),
		coalesce(sum(sessions), 0) FROM conversation_blocks`).Scan(&c.Sources, &c.Conversations, &c.Sessions)
	return c, classify(err)
}

// Source is an imported file.
type Source struct {
	Path          string          `json:"path"`
	Size          int64           `json:"size"`
	Imported      int64           `json:"imported_bytes"` // of text, up to the last complete line
	Gzip          bool            `json:"gzip"`
	FirstImported time.Time       `json:"first_imported"`
	LastImported  time.Time       `json:"last_imported"`
	Imports       int64           `json:"imports"`
	Stats         sourceStats     `json:"stats"`
	Malformed     []MalformedLine `json:"malformed,omitempty"`
}

// MalformedLine is one of the first malformed lines of a source.
type MalformedLine struct {
	Line   int64  `json:"line"`
	Column int    `json:"column,omitempty"`
	Reason string `json:"reason"`
	Text   string `json:"text"`
}

// Sources returns the imported sources, oldest first, with their first
// malformed lines.
func (ws *Workspace) Sources(ctx context.Context) ([]Source, error) {
	rows, err := ws.db.QueryContext(ctx, `SELECT id, path, size, consumed, gzip, first_imported, last_imported,
		imports, stats FROM sources ORDER BY id`)
	if err != nil {
		return nil, classify(err)
	}
	var out []Source
	var ids []int64
	for rows.Next() {
		var s Source
		var id, first, last int64
		var stats string
		if err := rows.Scan(&id, &s.Path, &s.Size, &s.Imported, &s.Gzip, &first, &last, &s.Imports, &stats); err != nil {
			rows.Close()
			return nil, classify(err)
		}
		if err := s.Stats.unmarshal(stats); err != nil {
			rows.Close()
			return nil, err
		}
		s.FirstImported, s.LastImported = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
		out = append(out, s)
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	for i, id := range ids {
		if out[i].Malformed, err = ws.malformed(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (ws *Workspace) malformed(ctx context.Context, id int64) ([]MalformedLine, error) {
	rows, err := ws.db.QueryContext(ctx, `SELECT line, col, reason, text FROM malformed WHERE source_id = ? ORDER BY line`, id)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []MalformedLine
	for rows.Next() {
		var m MalformedLine
		if err := rows.Scan(&m.Line, &m.Column, &m.Reason, &m.Text); err != nil {
			return nil, classify(err)
		}
		out = append(out, m)
	}
	return out, classify(rows.Err())
}

// Export writes everything the workspace holds as one JSON document: its
// summary, sources, conversations (with hourly sessions and evidence), the
// monitored set and the inventory.
func (ws *Workspace) Export(ctx context.Context, w io.Writer, encodeFlows func(io.Writer, *analysis.Table) error) error {
	info, err := ws.Info(ctx)
	if err != nil {
		return err
	}
	sources, err := ws.Sources(ctx)
	if err != nil {
		return err
	}
	convs, err := ws.Conversations(ctx, Query{})
	if err != nil {
		return err
	}
	inv, err := ws.Inventory(ctx)
	if err != nil {
		return err
	}
	head, err := json.Marshal(struct {
		Info      Info       `json:"workspace"`
		Sources   []Source   `json:"sources"`
		Inventory []InvEntry `json:"inventory"`
	}{info, sources, inv})
	if err != nil {
		return err
	}
	// {"workspace":…,"sources":…,"inventory":…,"conversations":[…]}
	if _, err := w.Write(head[:len(head)-1]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, `,"conversations":`); err != nil {
		return err
	}
	if err := encodeFlows(w, convs); err != nil {
		return err
	}
	_, err = io.WriteString(w, "}\n")
	return err
}
