package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
)

func (c *cli) importCmd(args []string) error {
	fs := c.newFlagSet("import", "[flags] FILE...",
		"Reads Nutanix Flow hit logs and NSX DFW packet logs (plain or gzip, any syslog wrapper) into the\n"+
			"workspace and prints what they contained: events, sessions, conversations, and every line\n"+
			"skipped or refused, with the reasons. Content already in the workspace is not read again; a\n"+
			"file that has grown is read from where its last import stopped.")
	var mf modelFlags
	mf.register(fs)
	wsPath := workspaceFlag(fs)
	noWS := fs.Bool("no-workspace", false, "only read and report; store nothing")
	samples := fs.Int("show-malformed", 10, "how many malformed lines to list (at most 100)")
	c.storeFlag(fs)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *noWS && c.store != "" {
		return usagef("--store needs the workspace: a collector tracks sessions there")
	}
	if *noWS {
		return c.importCount(&mf, files, *samples)
	}
	return c.importWorkspace(&mf, *wsPath, files, *samples)
}

// importCount reads files and reports what they held, storing nothing: the
// model remembers only the counts the summary shows, in a temporary file
// (in memory when none can be made).
func (c *cli) importCount(mf *modelFlags, files []string, samples int) error {
	mf.noSamples, mf.noHourly, mf.countOnly = true, true, true
	if f, err := os.CreateTemp("", "flowsleuth-count-*"); err == nil {
		// Unlinked at once where the system allows it, so that not even a
		// killed import leaves the file behind; elsewhere removed at the end.
		if os.Remove(f.Name()) != nil {
			defer os.Remove(f.Name())
		}
		defer f.Close()
		mf.countFile = f
	}
	m, res, elapsed, err := c.load(mf, files)
	if m == nil {
		return err
	}
	st, conns, cerr := m.Counts()
	if cerr != nil {
		return errors.Join(err, cerr)
	}
	st.Sessions = conns // as the conversation table counts them: once per connection
	writeSummary(c.stdout, st, res, elapsed, samples, "")
	if err != nil {
		return err
	}
	return readErrors(res)
}

// importWorkspace imports files into the workspace at path. A new one is
// made beside it and put in place with the first file (workspace.OpenNew),
// or by Close when the import stops before.
func (c *cli) importWorkspace(mf *modelFlags, path string, files []string, samples int) (err error) {
	if len(files) == 0 {
		return usagef("no input files (use - for standard input)")
	}
	mon, err := mf.prefixes()
	if err != nil {
		return err
	}
	if path == "" {
		return usagef("--workspace is empty")
	}
	c.noteUpgrade(path)
	ws, err := workspace.OpenNew(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, ws.Close()) }()
	ctx, progress, done, err := c.start(mf)
	defer done()
	if err != nil {
		return err
	}
	if len(mon) > 0 {
		if err := ws.SetMonitored(ctx, mon); err != nil {
			return err
		}
	}
	fw, err := c.collector(ctx, ws)
	if err != nil {
		return err
	}
	start := time.Now()
	var totals workspace.Counts // after the import, counted without reading the conversations again
	res, err := ws.Import(ctx, files, workspace.ImportOptions{Parse: mf.parseOptions(), Procs: analysis.ReadProcs(),
		Model: analysis.Options{IdleTimeout: mf.idle}, Progress: progress, Workers: mf.workers, Counts: &totals})
	elapsed := time.Since(start)
	done()
	var plain []analysis.FileResult
	var added workspace.Counts
	for _, r := range res {
		plain = append(plain, r.FileResult)
		added.Add(r.Added)
	}
	writeSummary(c.stdout, analysis.Stats{Sessions: added.Sessions, Conversations: int(added.Conversations)},
		plain, elapsed, samples, "new in the workspace")
	c.reportFileOutcomes(res)
	if err != nil { // the import may have stopped before it counted them
		var terr error
		if totals, terr = ws.Counts(context.Background()); terr != nil { // ctx ended with done()
			return errors.Join(err, terr)
		}
	}
	fmt.Fprintf(c.stdout, "workspace %s: %s, %s, %s\n", ws.Path(), analysis.Plural(uint64(totals.Conversations), "conversation"),
		analysis.Plural(uint64(totals.Sessions), "session"), analysis.Plural(uint64(totals.Sources), "source"))
	if fw != nil {
		err = errors.Join(err, c.forwardImport(fw))
	}
	if err != nil {
		return err
	}
	return readErrors(plain)
}

// reportFileOutcomes says which files were not read in full: already
// imported, read from where their last import ended, or with a last line
// left for the next import.
func (c *cli) reportFileOutcomes(res []workspace.FileResult) {
	for _, r := range res {
		switch r.Outcome {
		case workspace.Already:
			fmt.Fprintf(c.stdout, "%s: already imported (same content as %s): nothing read\n", r.Name, r.SameAs)
		case workspace.Tail:
			fmt.Fprintf(c.stdout, "%s: grown since its last import: read from byte %s\n", r.Name, group(r.From))
		}
		if r.Stats.Pending > 0 {
			fmt.Fprintf(c.stdout, "%s: its last line (%d bytes) has no line end yet: left for the next import\n", r.Name, r.Stats.Pending)
		}
	}
}

func writeSummary(w io.Writer, ms analysis.Stats, res []analysis.FileResult, elapsed time.Duration, samples int, convNote string) {
	var total ingest.Stats
	var size int64
	for _, r := range res {
		total.Add(&r.Stats)
		size += max(r.Size, 0)
	}
	secs := elapsed.Seconds()
	read := total.Bytes + total.Pending // a last line held back was read too
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, n int64, note string) {
		fmt.Fprintf(tw, "%s\t%s\t  %s\n", name, group(n), note)
	}
	row("files", int64(len(res)), fmt.Sprintf("%s on disk, %s of text read in %.2f s (%.0f MB/s, %s lines/s)",
		export.HumanBytes(uint64(size)), export.HumanBytes(uint64(read)), secs,
		float64(read)/1e6/secs, group(int64(float64(total.Lines)/secs))))
	row("lines", total.Lines, "")
	row("events", total.Events, vendorNote(total.Vendors))
	row("sessions", ms.Sessions, "")
	row("conversations", int64(ms.Conversations), convNote)
	row("skipped", total.Skipped, "not firewall lines")
	row("unsupported", total.Unsupported, reasonNote(total.UnsupportedReasons))
	row("malformed", total.Malformed, reasonNote(total.MalformedReasons))
	if total.NULLines > 0 {
		row("NUL bytes", total.NULLines, "lines had NUL bytes, removed before parsing")
	}
	tw.Flush()
	if n := min(samples, len(total.MalformedSamples)); n > 0 {
		fmt.Fprintf(w, "\nfirst %d malformed lines:\n", n)
		for _, pe := range total.MalformedSamples[:n] {
			fmt.Fprintf(w, "  %s\n    %s\n", pe.Error(), pe.Text)
		}
	}
	for _, r := range res {
		var gd *ingest.GzipDamage
		switch {
		case errors.As(r.Err, &gd):
			fmt.Fprintf(w, "\nwarning: %v\n", r.Err)
		case r.Err != nil:
			fmt.Fprintf(w, "\nwarning: %v: the file ends early; %s lines before it were read\n",
				r.Err, group(r.Stats.Lines))
		}
		if r.Trailing > 0 {
			fmt.Fprintf(w, "\nwarning: %s: %s bytes after its last gzip member are not gzip: not read\n",
				r.Name, group(r.Trailing))
		}
	}
}

func vendorNote(v [ingest.NSX4 + 1]int64) string {
	var parts []string
	for _, vendor := range []ingest.Vendor{ingest.Nutanix, ingest.NSXV, ingest.NSXT, ingest.NSX4} {
		if n := v[vendor]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", vendor, group(n)))
		}
	}
	return strings.Join(parts, ", ")
}

func reasonNote(m map[string]int64) string {
	var parts []string
	for i, rc := range ingest.TopReasons(m) {
		if i == 4 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s", rc.Reason, group(rc.Count)))
	}
	return strings.Join(parts, ", ")
}
