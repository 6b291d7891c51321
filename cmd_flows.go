package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
)

func (c *cli) flowsCmd(args []string) error {
	fs := c.newFlagSet("flows", "[flags] [FILE...]",
		"Prints the conversations (source, destination, protocol, destination port) with their direction\n"+
			"relative to the monitored set, tags, sessions, packets and bytes: of the FILEs given, read in\n"+
			"memory, or else of the workspace.\n"+
			"CSV columns: "+strings.Join(export.FlowColumns, ","))
	var mf modelFlags
	mf.register(fs)
	wsPath := workspaceFlag(fs)
	format := fs.String("format", "table", "output format: table, csv or json")
	wide := fs.Bool("wide", false, "table: the full text of every cell (by default a terminal's table is cut to fit it)")
	since := fs.String("since", "", "workspace: only sessions that started at or after this time (RFC 3339 or YYYY-MM-DD)")
	until := fs.String("until", "", "workspace: only sessions that started before this time (RFC 3339 or YYYY-MM-DD)")
	top := fs.Int("top", 0, "workspace: only the N conversations with the most bytes, largest first")
	tags := fs.String("tag", "", "only the conversations with one of these tags, comma separated")
	c.storeFlag(fs)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	c.tags, c.samples = parseTags(*tags), *format == "json"
	mf.noSamples = !c.samples // only JSON shows sample lines
	table := func(w io.Writer, t *analysis.Table, rows []int32) error {
		return export.WriteFlowsTable(w, t, rows, c.tableOptions(*wide))
	}
	write, ok := map[string]func(io.Writer, *analysis.Table, []int32) error{
		"table": table, "csv": export.WriteFlowsCSV, "json": export.WriteFlowsJSON,
	}[*format]
	if !ok {
		return usagef("--format must be table, csv or json, not %q", *format)
	}
	var t *analysis.Table
	done := func() {}
	switch {
	case c.store != "":
		t, err = c.tableOfStore(&mf, *wsPath, files, *since, *until, *top)
	case *top > 0:
		if len(files) > 0 {
			return usagef("--top reads the workspace: give no FILE")
		}
		t, done, err = c.flowsOfWorkspace(&mf, *wsPath, *since, *until, *top)
	default:
		t, done, err = c.conversations(&mf, *wsPath, files, *since, *until)
	}
	if t == nil && err != nil {
		return err
	}
	defer done()
	out := bufio.NewWriterSize(c.output(*format), 256<<10)
	if werr := write(out, t, tagRows(t, c.tags)); werr != nil {
		return werr
	}
	if ferr := out.Flush(); ferr != nil {
		return ferr
	}
	return err
}

// conversations reads the conversations of files, in memory, or else of
// the store (--store), or else of the workspace at wsPath, as a table.
// Read errors come back with the table. Call done once the table is no longer used: a workspace's stays
// open until then, for the sample lines the table reads from it.
func (c *cli) conversations(mf *modelFlags, wsPath string, files []string, since, until string) (t *analysis.Table, done func(), err error) {
	// The table is held until the command ends, and the work on it leaves
	// garbage (the store's records, synthesis's maps): collecting once the
	// heap has grown by a quarter of what is live, rather than doubled,
	// keeps the peak near what is live. It costs little: the table's rows
	// hold no pointers, so a collection has little to mark.
	debug.SetGCPercent(25)
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
		return nil, nil, fmt.Errorf("no workspace at %s: import logs first ('flowsleuth import FILE'), or give FILEs", path)
	}
	ws, err := openWorkspaceToRead(path)
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
		var convs []analysis.Conversation
		if convs, err = ws.Top(ctx, top); err == nil {
			t = analysis.NewTable(convs)
		}
	} else {
		t, err = ws.Table(ctx, q)
	}
	if err != nil {
		done()
		return nil, nil, err
	}
	return t, done, nil
}

// tableOfStore reads the store's conversations (the top ones by bytes
// when top > 0) as a table. Read errors come back with the table.
func (c *cli) tableOfStore(mf *modelFlags, wsPath string, files []string, since, until string, top int) (*analysis.Table, error) {
	convs, err := c.flowsOfStore(mf, wsPath, files, since, until, top)
	if convs == nil && err != nil {
		return nil, err
	}
	return analysis.NewTable(convs), err
}

// tagRows returns the rows of t that have one of tags, all of them when
// tags is empty.
func tagRows(t *analysis.Table, tags []string) []int32 {
	rows := t.All()
	if len(tags) == 0 {
		return rows
	}
	kept := rows[:0]
	for _, i := range rows {
		if slices.ContainsFunc(t.Tags(int(i)), func(tg analysis.Tag) bool { return slices.Contains(tags, tg.Name) }) {
			kept = append(kept, i)
		}
	}
	return kept
}

// parseTime reads an RFC 3339 time or a YYYY-MM-DD date (UTC midnight).
func parseTime(flagName, s string) (time.Time, error) {
	t, err := analysis.ParseTime(s)
	if err != nil {
		return t, usagef("%s: %v", flagName, err)
	}
	return t, nil
}

// flowsJSON writes conversations as the flows JSON (for the workspace's
// export, which hands them over all at once).
func flowsJSON(w io.Writer, convs []analysis.Conversation) error {
	t := analysis.NewTable(convs)
	return export.WriteFlowsJSON(w, t, t.All())
}
