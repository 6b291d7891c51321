package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

func (c *cli) inventoryCmd(args []string) error {
	fs := c.newFlagSet("inventory", "import [flags] FILE",
		"Reads a VM inventory (CSV or XLSX: an RVTools export, a Prism Central VM list, or a simple\n"+
			"name,ip,tags file; columns are found by their header names) into the workspace, replacing\n"+
			"the previous one. Conversations then show VM names and groups.")
	wsPath := workspaceFlag(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 || rest[0] != "import" {
		return usagef("say: inventory import FILE")
	}
	ws, err := c.openWorkspace(*wsPath)
	if err != nil {
		return err
	}
	defer ws.Close()
	ctx := context.Background()
	res, err := ws.ImportInventory(ctx, rest[1])
	if res.Report.Format != "" || res.Report.Rows > 0 {
		c.writeInventoryReport(rest[1], res.Report)
	}
	if err != nil {
		return err
	}
	info, err := ws.Info(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "stored %s VMs (%s addresses) in %s; %s addresses seen in conversations are unclassified\n",
		group(int64(res.VMs)), group(int64(res.Addresses)), ws.Path(), group(info.Unclassified))
	return nil
}

func (c *cli) writeInventoryReport(name string, rep inventory.Report) {
	fmt.Fprintf(c.stdout, "%s: %s format", name, rep.Format)
	if rep.Sheet != "" {
		fmt.Fprintf(c.stdout, ", sheet %s", rep.Sheet)
	}
	fmt.Fprintf(c.stdout, ", %s rows, %s VMs\n", group(int64(rep.Rows)), group(int64(rep.VMs)))
	roles := make([]string, 0, len(rep.Columns))
	for role := range rep.Columns {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	for _, role := range roles {
		fmt.Fprintf(c.stdout, "  %-7s <- %q\n", role, rep.Columns[role])
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(c.stdout, "  note: %s\n", n)
	}
	if rep.SkippedCount > 0 {
		fmt.Fprintf(c.stdout, "  %s problems:\n", group(int64(rep.SkippedCount)))
		for _, p := range rep.Skipped[:min(len(rep.Skipped), 10)] {
			fmt.Fprintf(c.stdout, "    row %d: %s\n", p.Row, strings.TrimSpace(p.Reason))
		}
	}
}
