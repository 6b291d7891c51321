package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Reading the conversations a command works on: from a store (--store),
// narrowed by --monitored, --since, --until and --tag. The flows, rules,
// export and check commands call these rather than each other.

// tableOfStore computes the conversations inside the store (--store) as a
// table (the top ones by bytes when top > 0) and names their endpoints
// after the workspace's inventory, when the workspace exists; its declared
// monitored set applies unless --monitored is given.
// This is the conversation source of every reading command with --store.
func (c *cli) tableOfStore(mf *modelFlags, wsPath string, files []string, since, until string, top int) (*analysis.Table, error) {
	if len(files) > 0 {
		return nil, usagef("--store reads the store: give no FILE")
	}
	q := clickhouse.Query{Top: top, Tags: c.tags, Samples: c.samples}
	var err error
	if q.Monitored, q.Since, q.Until, err = mf.selection(since, until); err != nil {
		return nil, err
	}
	ctx := context.Background()
	ws, err := c.existingWorkspace(wsPath)
	if err != nil {
		return nil, err
	}
	if ws != nil {
		defer ws.Close()
		if len(q.Monitored) == 0 {
			if q.Monitored, err = ws.Monitored(ctx); err != nil {
				return nil, err
			}
		}
	}
	s, err := clickhouse.Open(ctx, c.store)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	t, err := s.Conversations(ctx, q)
	if err != nil || ws == nil {
		return t, err
	}
	return ws.Label(ctx, t)
}

// selection reads the flags that select conversations from a workspace or
// a store: --monitored, --since and --until.
func (f *modelFlags) selection(since, until string) (mon []netip.Prefix, from, to time.Time, err error) {
	if mon, err = f.prefixes(); err != nil {
		return
	}
	if from, err = parseTime("--since", since); err != nil {
		return
	}
	to, err = parseTime("--until", until)
	return
}

// parseTags reads --tag's comma-separated tags.
func parseTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// storeWithoutWorkspace reports whether a reading command reads a store
// and there is no workspace (for edits) to open: none is created for it.
func (c *cli) storeWithoutWorkspace(wsPath string) bool {
	if c.store == "" {
		return false
	}
	_, err := os.Stat(wsPath)
	return errors.Is(err, os.ErrNotExist)
}

// workspaceOrStore returns the conversations of the store (--store), else
// of the workspace.
func (c *cli) workspaceOrStore(ctx context.Context, ws *workspace.Workspace) (*analysis.Table, error) {
	if c.store == "" {
		return ws.Table(ctx, workspace.Query{})
	}
	var mf modelFlags
	return c.tableOfStore(&mf, ws.Path(), nil, "", "", 0)
}

// existingWorkspace opens the workspace at path read-only when the file
// exists (nil otherwise): readers of a store use its inventory, monitored
// set and rule edits, but never create it.
func (c *cli) existingWorkspace(path string) (*workspace.Workspace, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return c.openWorkspaceToRead(path)
}

// storeSource is a store as the app's conversation source.
type storeSource struct{ s *clickhouse.Store }

// openStoreSource opens the store at url for the app (app.Options.OpenStore).
func openStoreSource(ctx context.Context, url string) (app.ConversationSource, error) {
	s, err := clickhouse.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return storeSource{s}, nil
}

// Conversations computes the store's conversations, with their evidence
// lines (the Flows view shows them).
func (s storeSource) Conversations(ctx context.Context, mon []netip.Prefix) (*analysis.Table, error) {
	return s.s.Conversations(ctx, clickhouse.Query{Monitored: mon, Samples: true})
}

func (s storeSource) String() string { return s.s.Address().String() }
func (s storeSource) Close() error   { return s.s.Close() }

// tagRows returns the rows of t that have one of tags, all of them when
// tags is empty.
func tagRows(t *analysis.Table, tags []string) []int32 {
	rows := t.All()
	if len(tags) == 0 {
		return rows
	}
	// Tag lists are interned: decide once per list, not once per row.
	ok := make([]bool, t.TagSets())
	for n := range ok {
		ok[n] = slices.ContainsFunc(t.TagSetOf(n), func(tg analysis.Tag) bool { return slices.Contains(tags, tg.Name) })
	}
	kept := rows[:0]
	for _, i := range rows {
		if ok[t.TagSet(int(i))] {
			kept = append(kept, i)
		}
	}
	return kept
}

// conversations reads the conversations of files, in memory, or else of
// the store (--store), or else of the workspace at wsPath, as a table.
// Read errors come back with the table. Call done once the table is no
// longer used: a workspace's stays open until then, for the sample lines
// the table reads from it.
func (c *cli) conversations(mf *modelFlags, wsPath string, files []string, since, until string) (t *analysis.Table, done func(), err error) {
	// The table is held until the command ends, and the work on it leaves
	// garbage (the store's records, synthesis's maps): collecting once the
	// heap has grown by a quarter of what is live, rather than doubled,
	// keeps the peak near what is live. It costs little: the table's rows
	// hold no pointers, so a collection has little to mark.
	debug.SetGCPercent(25)
	stopProfile, err := mf.profile() // the whole command, not only its reading
	if err != nil {
		return nil, nil, err
	}
	t, closeTable, err := c.table(mf, wsPath, files, since, until)
	if closeTable == nil {
		stopProfile()
		return t, nil, err
	}
	return t, func() { closeTable(); stopProfile() }, err
}

// table reads the conversations of the store, the workspace or files, as
// conversations says.
func (c *cli) table(mf *modelFlags, wsPath string, files []string, since, until string) (t *analysis.Table, done func(), err error) {
	if c.store != "" {
		t, err = c.tableOfStore(mf, wsPath, files, since, until, 0)
		return t, func() {}, err
	}
	if len(files) == 0 {
		return c.flowsOfWorkspace(mf, wsPath, since, until, 0)
	}
	if since != "" || until != "" {
		return nil, nil, usagef("--since and --until read the workspace: give no FILE")
	}
	t, err = c.flowsOfFiles(mf, files)
	return t, func() {}, err
}

// flowsOfFiles reads files in memory. Read errors come back with the flows.
func (c *cli) flowsOfFiles(mf *modelFlags, files []string) (*analysis.Table, error) {
	m, res, _, err := c.load(mf, files)
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		if r.Stats.Malformed > 0 {
			fmt.Fprintf(c.stderr, "flowsleuth flows: %s: %d malformed lines skipped (see 'flowsleuth import')\n",
				r.Name, r.Stats.Malformed)
		}
	}
	return m.Table(), readErrors(res)
}

// flowsOfWorkspace reads the workspace's conversations (the top ones by
// bytes when top > 0). done closes the workspace.
func (c *cli) flowsOfWorkspace(mf *modelFlags, path, since, until string, top int) (*analysis.Table, func(), error) {
	var q workspace.Query
	var err error
	if q.Monitored, q.Since, q.Until, err = mf.selection(since, until); err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, nil, noWorkspace(path, ": import logs first ('flowsleuth import FILE'), or give FILEs")
	}
	ws, err := c.openWorkspaceToRead(path)
	if err != nil {
		return nil, nil, err
	}
	done := func() { ws.Close() }
	ctx := context.Background()
	var t *analysis.Table
	if top > 0 {
		if !q.Since.IsZero() || !q.Until.IsZero() || len(q.Monitored) > 0 {
			done()
			return nil, nil, usagef("--top takes no --since, --until or --monitored")
		}
		t, err = ws.Top(ctx, top)
	} else {
		t, err = ws.Table(ctx, q)
	}
	if err != nil {
		done()
		return nil, nil, err
	}
	return t, done, nil
}

// parseTime reads an RFC 3339 time or a YYYY-MM-DD date (UTC midnight).
func parseTime(flagName, s string) (time.Time, error) {
	t, err := analysis.ParseTime(s)
	if err != nil {
		return t, usagef("%s: %v", flagName, err)
	}
	return t, nil
}

// readErrors reports files whose reading stopped early (a read error, a
// damaged gzip).
func readErrors(res []analysis.FileResult) error {
	var errs []error
	for _, r := range res {
		var gd *ingest.GzipDamage
		switch {
		case errors.As(r.Err, &gd):
			errs = append(errs, r.Err)
		case r.Err != nil:
			errs = append(errs, fmt.Errorf("%w (the lines before it were read)", r.Err))
		}
	}
	return errors.Join(errs...)
}
