package main

import (
	"bufio"
	"io"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
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
	table := func(w io.Writer, t *analysis.Table, rows []int32) error {
		return export.WriteFlowsTable(w, t, rows, c.tableOptions(*wide))
	}
	write, ok := map[string]func(io.Writer, *analysis.Table, []int32) error{
		"table": table, "csv": export.WriteFlowsCSV, "json": export.WriteFlowsJSON,
	}[*format]
	if !ok {
		return usagef("--format must be table, csv or json, not %q", *format)
	}
	stopProfile, err := mf.profile() // the whole command, not only its reading
	if err != nil {
		return err
	}
	defer stopProfile()
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
