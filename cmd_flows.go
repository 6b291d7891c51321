package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
)

func (c *cli) importCmd(args []string) error {
	fs := c.newFlagSet("import", "[flags] FILE...",
		"Reads Nutanix Flow hit logs and NSX DFW packet logs (plain or gzip, any syslog wrapper)\n"+
			"and prints what they contained: events, sessions, conversations, and every line skipped\n"+
			"or refused, with the reasons.")
	var mf modelFlags
	mf.register(fs)
	samples := fs.Int("show-malformed", 10, "how many malformed lines to list (at most 100)")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	m, res, elapsed, err := c.load(&mf, files)
	if m == nil {
		return err
	}
	writeSummary(c.stdout, m, res, elapsed, *samples)
	if err != nil {
		return err
	}
	return readErrors(res)
}

func (c *cli) flowsCmd(args []string) error {
	fs := c.newFlagSet("flows", "[flags] FILE...",
		"Prints the conversations (source, destination, protocol, destination port) found in the logs,\n"+
			"with their direction relative to the monitored set, tags, sessions, packets and bytes.\n"+
			"CSV columns: "+strings.Join(export.FlowColumns, ","))
	var mf modelFlags
	mf.register(fs)
	format := fs.String("format", "table", "output format: table, csv or json")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	write, ok := map[string]func(io.Writer, []analysis.Conversation) error{
		"table": export.WriteFlowsTable, "csv": export.WriteFlowsCSV, "json": export.WriteFlowsJSON,
	}[*format]
	if !ok {
		return usagef("--format must be table, csv or json, not %q", *format)
	}
	m, res, _, err := c.load(&mf, files)
	if m == nil {
		return err
	}
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Stats.Malformed > 0 {
			fmt.Fprintf(c.stderr, "flowsleuth flows: %s: %d malformed lines skipped (see 'flowsleuth import')\n",
				r.Name, r.Stats.Malformed)
		}
	}
	out := bufio.NewWriterSize(c.stdout, 256<<10)
	if err := write(out, m.Conversations()); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return readErrors(res)
}

// readErrors reports files whose reading stopped early (a truncated gzip).
func readErrors(res []analysis.FileResult) error {
	var errs []error
	for _, r := range res {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%w (the lines before it were read)", r.Err))
		}
	}
	return errors.Join(errs...)
}

func writeSummary(w io.Writer, m *analysis.Model, res []analysis.FileResult, elapsed time.Duration, samples int) {
	var total ingest.Stats
	var size int64
	for _, r := range res {
		total.Add(&r.Stats)
		size += max(r.Size, 0)
	}
	ms := m.Stats()
	secs := elapsed.Seconds()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, n int64, note string) {
		fmt.Fprintf(tw, "%s\t%s\t  %s\n", name, group(n), note)
	}
	row("files", int64(len(res)), fmt.Sprintf("%s on disk, %s of text read in %.2f s (%.0f MB/s, %s lines/s)",
		export.HumanBytes(uint64(size)), export.HumanBytes(uint64(total.Bytes)), secs,
		float64(total.Bytes)/1e6/secs, group(int64(float64(total.Lines)/secs))))
	row("lines", total.Lines, "")
	row("events", total.Events, vendorNote(total.Vendors))
	row("sessions", ms.Sessions, "(a connection logged at both ends counts at each)")
	row("conversations", int64(ms.Conversations), "")
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
		if r.Err != nil {
			fmt.Fprintf(w, "\nwarning: %v: the file ends early; %s lines before it were read\n",
				r.Err, group(r.Stats.Lines))
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

// group writes n with thousands separators: 1234567 → "1,234,567".
func group(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + group(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
