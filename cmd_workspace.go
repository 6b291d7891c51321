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
	fs := c.newFlagSet("workspace", "info|export|monitor [flags] [ARG]",
		"info                 sizes, counts, sources and time range of the workspace\n"+
			"export [--out FILE]  everything the workspace holds, as one JSON document\n"+
			"monitor [CIDR,...]   declare the monitored set (no argument: learn it from the logs again)")
	wsPath := workspaceFlag(fs)
	out := fs.String("out", "-", "export: file to write (- for standard output)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("say info, export or monitor")
	}
	if _, err := os.Stat(*wsPath); err != nil && rest[0] != "monitor" {
		return noWorkspace(*wsPath, ": import logs first ('flowsleuth import FILE')")
	}
	open := c.openWorkspaceToRead
	if rest[0] == "monitor" {
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
		if *out == "-" {
			w := bufio.NewWriterSize(c.rawOut, 1<<20) // JSON: the data exactly
			if err := ws.Export(ctx, w, flowsJSON); err != nil {
				return err
			}
			return w.Flush()
		}
		return writeFileAtomic(*out, func(w *bufio.Writer) error { return ws.Export(ctx, w, flowsJSON) })
	case "monitor":
		prefixes, err := parsePrefixes(strings.Join(rest[1:], ","))
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
	return usagef("unknown workspace command %q: say info, export or monitor", rest[0])
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

// flowsJSON writes conversations as the flows JSON (for the workspace's
// export).
func flowsJSON(w io.Writer, t *analysis.Table) error { return export.WriteFlowsJSON(w, t, t.All()) }
