package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
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
	mf.noHourly = !c.samples  // … and sessions per hour
	table := func(w io.Writer, convs []analysis.Conversation) error {
		return export.WriteFlowsTable(w, convs, c.tableOptions(*wide))
	}
	write, ok := map[string]func(io.Writer, []analysis.Conversation) error{
		"table": table, "csv": export.WriteFlowsCSV, "json": export.WriteFlowsJSON,
	}[*format]
	if !ok {
		return usagef("--format must be table, csv or json, not %q", *format)
	}
	var convs []analysis.Conversation
	if c.store != "" {
		convs, err = c.flowsOfStore(&mf, *wsPath, files, *since, *until, *top)
	} else if *top > 0 {
		if len(files) > 0 {
			return usagef("--top reads the workspace: give no FILE")
		}
		convs, err = c.flowsOfWorkspace(&mf, *wsPath, *since, *until, *top)
	} else {
		convs, err = c.conversations(&mf, *wsPath, files, *since, *until)
	}
	if convs == nil && err != nil {
		return err
	}
	convs = keepTags(convs, c.tags)
	out := bufio.NewWriterSize(c.output(*format), 256<<10)
	if werr := write(out, convs); werr != nil {
		return werr
	}
	if ferr := out.Flush(); ferr != nil {
		return ferr
	}
	return err
}

// conversations reads the conversations of files, in memory, or else of
// the store (--store), or else of the workspace at wsPath. Read errors come
// back with the conversations.
func (c *cli) conversations(mf *modelFlags, wsPath string, files []string, since, until string) ([]analysis.Conversation, error) {
	if c.store != "" {
		return c.flowsOfStore(mf, wsPath, files, since, until, 0)
	}
	if len(files) == 0 {
		return c.flowsOfWorkspace(mf, wsPath, since, until, 0)
	}
	if since != "" || until != "" {
		return nil, usagef("--since and --until read the workspace: give no FILE")
	}
	return c.flowsOfFiles(mf, files)
}

// flowsOfFiles reads files in memory. Read errors come back with the flows.
func (c *cli) flowsOfFiles(mf *modelFlags, files []string) ([]analysis.Conversation, error) {
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
	return m.Conversations(), readErrors(res)
}

// flowsOfWorkspace reads the workspace's conversations.
func (c *cli) flowsOfWorkspace(mf *modelFlags, path, since, until string, top int) ([]analysis.Conversation, error) {
	var q workspace.Query
	var err error
	if q.Monitored, q.Since, q.Until, err = mf.selection(since, until); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no workspace at %s: import logs first ('flowsleuth import FILE'), or give FILEs", path)
	}
	ws, err := openWorkspaceToRead(path)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	ctx := context.Background()
	if top > 0 {
		if !q.Since.IsZero() || !q.Until.IsZero() || len(q.Monitored) > 0 {
			return nil, usagef("--top takes no --since, --until or --monitored")
		}
		return ws.Top(ctx, top)
	}
	return ws.Conversations(ctx, q)
}

// parseTime reads an RFC 3339 time or a YYYY-MM-DD date (UTC midnight).
func parseTime(flagName, s string) (time.Time, error) {
	t, err := analysis.ParseTime(s)
	if err != nil {
		return t, usagef("%s: %v", flagName, err)
	}
	return t, nil
}
