package main

import (
	"bufio"
	"flag"
	"io"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/export"
)

// knobFlags are the rule synthesis settings.
type knobFlags struct {
	k analysis.Knobs
}

func (f *knobFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.k.CollapseMin, "collapse-min", analysis.DefaultCollapseMin,
		"collapse outside peers into a prefix when at least this many hosts of a /24 were seen...")
	fs.Float64Var(&f.k.CollapseCoverage, "collapse-coverage", analysis.DefaultCollapseCoverage,
		"...and they fill at least this percentage of the prefix")
	fs.IntVar(&f.k.AnyPeers, "any-peers", analysis.DefaultAnyPeers, "use Any when more peers than this use one service")
	fs.IntVar(&f.k.ScanPorts, "scan-ports", analysis.DefaultScanPorts,
		"treat a source reaching this many unanswered ports of one host as a port scan")
	fs.BoolVar(&f.k.IncludeSuspect, "include-suspect", false, "make rules of suspect traffic too instead of listing it for review")
}

func (c *cli) rulesCmd(args []string) error {
	fs := c.newFlagSet("rules", "[flags] [FILE...]",
		"Synthesises allow rules from the conversations of the FILEs given, or else of the workspace:\n"+
			"one rule per direction, source group, destination group and protocol, ports merged, peers\n"+
			"generalised by the knobs below. Suspect traffic (probable scans, flows only dropped) is listed\n"+
			"for review instead. The table ends with the trade-off: combinations admitted but never seen.")
	var mf modelFlags
	mf.register(fs)
	var kf knobFlags
	kf.register(fs)
	wsPath := workspaceFlag(fs)
	format := fs.String("format", "table", "output format: table, csv or json")
	since := fs.String("since", "", "workspace: only sessions that started at or after this time")
	until := fs.String("until", "", "workspace: only sessions that started before this time")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	write, ok := map[string]func(io.Writer, analysis.RuleSet) error{
		"table": export.WriteRulesTable, "csv": export.WriteRulesCSV, "json": export.WriteRulesJSON,
	}[*format]
	if !ok {
		return usagef("--format must be table, csv or json, not %q", *format)
	}
	convs, err := c.conversations(&mf, *wsPath, files, *since, *until)
	if convs == nil && err != nil {
		return err
	}
	out := bufio.NewWriterSize(c.stdout, 256<<10)
	if werr := write(out, analysis.Synthesize(convs, kf.k)); werr != nil {
		return werr
	}
	if ferr := out.Flush(); ferr != nil {
		return ferr
	}
	return err
}
