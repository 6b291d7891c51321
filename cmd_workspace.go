package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
)

func (c *cli) workspaceCmd(args []string) error {
	fs := c.newFlagSet("workspace", "info|export|monitor|compact [flags] [ARG]",
		"info                 sizes, counts, sources and time range of the workspace\n"+
			"export [--out FILE]  everything the workspace holds, as one JSON document\n"+
			"monitor [CIDR,...]   declare the monitored set (no argument: learn it from the logs again)\n"+
			"compact              give the file's unused pages back to the disk (after an upgrade or removals)")
	wsPath := workspaceFlag(fs)
	out := fs.String("out", "-", "export: file to write (- for standard output)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("say info, export, monitor or compact")
	}
	if _, err := os.Stat(*wsPath); err != nil && rest[0] != "monitor" {
		return noWorkspace(*wsPath, ": import logs first ('flowsleuth import FILE')")
	}
	open := c.openWorkspaceToRead
	if rest[0] == "monitor" || rest[0] == "compact" {
		open = c.openWorkspace
	}
	ws, err := open(*wsPath)
	if err != nil {
		return err
	}
	defer ws.Close()
	ctx := context.Background()
	switch rest[0] {
	case "info":
		return c.workspaceInfo(ctx, ws)
	case "export":
		return c.workspaceExport(ctx, ws, *out)
	case "monitor":
		return c.workspaceMonitor(ctx, ws, rest[1:])
	case "compact":
		return c.workspaceCompact(ctx, ws)
	}
	return usagef("unknown workspace command %q: say info, export, monitor or compact", rest[0])
}

// workspaceExport writes everything ws holds as one JSON document to out
// (- for standard output).
func (c *cli) workspaceExport(ctx context.Context, ws *workspace.Workspace, out string) error {
	if out == "-" {
		w := bufio.NewWriterSize(c.rawOut, 1<<20) // JSON: the data exactly
		if err := ws.Export(ctx, w, flowsJSON); err != nil {
			return err
		}
		return w.Flush()
	}
	return writeFileAtomic(out, func(w *bufio.Writer) error { return ws.Export(ctx, w, flowsJSON) })
}

// workspaceMonitor declares the monitored set, args CIDRs (none: learn it
// from the logs again).
func (c *cli) workspaceMonitor(ctx context.Context, ws *workspace.Workspace, args []string) error {
	prefixes, err := parsePrefixes(strings.Join(args, ","))
	if err != nil {
		return err
	}
	if err := ws.SetMonitored(ctx, prefixes); err != nil {
		return err
	}
	if len(prefixes) == 0 {
		fmt.Fprintln(c.stdout, "monitored set: learned from the logs")
	} else {
		fmt.Fprintf(c.stdout, "monitored set: %v\n", prefixes)
	}
	return nil
}

// workspaceCompact gives the workspace file's unused pages back, with a
// progress bar on a terminal.
func (c *cli) workspaceCompact(ctx context.Context, ws *workspace.Workspace) error {
	bar := newProgressBar(c.rawErr)
	var progress workspace.CompactProgress
	if bar != nil {
		progress = func(done, total int64) { bar.update(analysis.Progress{Done: done, Total: total}) }
	}
	done, err := ws.Compact(ctx, progress)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	if done.After >= done.Before {
		fmt.Fprintf(c.stdout, "%s: nothing to give back (%s, no unused pages)\n", ws.Path(),
			export.HumanBytes(uint64(done.After)))
		return nil
	}
	fmt.Fprintf(c.stdout, "%s: %s, was %s (%s given back) in %s\n", ws.Path(), export.HumanBytes(uint64(done.After)),
		export.HumanBytes(uint64(done.Before)), export.HumanBytes(uint64(done.Before-done.After)),
		done.Took.Round(100*time.Millisecond))
	return nil
}

func (c *cli) workspaceInfo(ctx context.Context, ws *workspace.Workspace) error {
	if err := ws.Check(ctx); err != nil {
		return err
	}
	in, err := ws.Info(ctx)
	if err != nil {
		return err
	}
	sources, err := ws.Sources(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "workspace\t%s (%s, schema %d)\n", in.Path, export.HumanBytes(uint64(in.FileBytes)), in.Schema)
	if sp, err := ws.Space(ctx); err == nil && sp.FreeBytes >= compactWorth(sp.FileBytes) {
		fmt.Fprintf(w, "unused pages\t%s ('flowsleuth workspace compact' gives them back to the disk)\n",
			export.HumanBytes(uint64(sp.FreeBytes)))
	}
	fmt.Fprintf(w, "sources\t%s\n", group(in.Sources))
	fmt.Fprintf(w, "lines\t%s (%s events, %s malformed)\n", group(in.Lines), group(in.Events), group(in.Malformed))
	fmt.Fprintf(w, "conversations\t%s\n", group(in.Conversations))
	fmt.Fprintf(w, "sessions\t%s\n", group(in.Sessions))
	if !in.First.IsZero() {
		fmt.Fprintf(w, "time range\t%s to %s\n", in.First.Format(time.RFC3339), in.Last.Format(time.RFC3339))
	}
	mon := fmt.Sprintf("learned: %s endpoints behind enforcement points", group(in.Learned))
	if len(in.Monitored) > 0 {
		mon = "declared: " + strings.Join(in.Monitored, ", ")
	}
	fmt.Fprintf(w, "monitored set\t%s\n", mon)
	fmt.Fprintf(w, "open connections\t%s (carried over to the next import)\n", group(int64(in.OpenConnections)))
	fmt.Fprintf(w, "inventory\t%s addresses; %s addresses in conversations unclassified\n",
		group(in.InventoryIPs), group(in.Unclassified))
	w.Flush()
	if len(sources) > 0 {
		fmt.Fprintln(c.stdout, "\nsources:")
		w = tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "  PATH\tSIZE\tLINES\tEVENTS\tMALFORMED\tIMPORTS\tLAST IMPORTED")
		for _, s := range sources {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Path, export.HumanBytes(uint64(s.Size)), group(s.Stats.Lines),
				group(s.Stats.Events), group(s.Stats.Malformed), s.Imports, s.LastImported.Format(time.RFC3339))
		}
		w.Flush()
	}
	return nil
}

// compactWorth is the unused bytes of a workspace file of size bytes worth
// telling of: a tenth of the file, and at least 16 MiB.
func compactWorth(size int64) int64 { return max(size/10, 16<<20) }

// flowsJSON writes conversations as the flows JSON (for the workspace's
// export).
func flowsJSON(w io.Writer, t *analysis.Table) error { return export.WriteFlowsJSON(w, t, t.All()) }
