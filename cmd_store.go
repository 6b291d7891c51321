package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
)

const storeHelp = "A store is a ClickHouse database shared by collectors and readers:\n" +
	"  flowsleuth store init  [--cluster NAME [--on-cluster]] [--print] URL   create or migrate its tables\n" +
	"  flowsleuth store info  [--format json] URL                              sessions, time range, collectors\n" +
	"Collectors ('import --store URL', 'listen --store URL') keep exact session tracking in their own\n" +
	"workspace and write one row per session; readers ('flows|rules|export|check|gui --store URL') compute\n" +
	"the conversation table inside ClickHouse. URL is clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE\n" +
	"(native protocol, port 9000; ?secure=true for TLS); the password may come from " + clickhouse.PasswordEnv + "."

func (c *cli) storeCmd(args []string) error {
	if len(args) == 0 || (args[0] != "init" && args[0] != "info") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(c.stderr, storeHelp)
			return flag.ErrHelp
		}
		return usagef("say 'store init URL' or 'store info URL'\n%s", storeHelp)
	}
	fs := c.newFlagSet("store "+args[0], "[flags] URL", storeHelp)
	cluster := fs.String("cluster", "", "init: lay the tables out over this cluster (remote_servers): Distributed tables over NAME_local tables")
	onCluster := fs.Bool("on-cluster", false, "init: run the DDL ON CLUSTER (needs ZooKeeper); else run --print's script on every server")
	printDDL := fs.Bool("print", false, "init: print the DDL instead of running it")
	format := fs.String("format", "table", "info: table or json")
	rest, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give one store URL (clickhouse://HOST[:PORT]/DATABASE)")
	}
	addr, err := clickhouse.ParseURL(rest[0])
	if err != nil {
		return usagef("%v", err)
	}
	ctx := context.Background()
	if args[0] == "info" {
		return c.storeInfo(ctx, rest[0], *format)
	}
	layout := clickhouse.Layout{Cluster: *cluster, OnCluster: *onCluster}
	if *printDDL {
		fmt.Fprint(c.stdout, clickhouse.Script(clickhouse.DDL(addr.Database, layout)))
		return nil
	}
	before, err := clickhouse.Init(ctx, rest[0], layout)
	if err != nil {
		return err
	}
	switch before {
	case clickhouse.SchemaVersion:
		fmt.Fprintf(c.stdout, "store %s: up to date (schema %d)\n", addr, before)
	case 0:
		fmt.Fprintf(c.stdout, "store %s: created (schema %d)\n", addr, clickhouse.SchemaVersion)
	default:
		fmt.Fprintf(c.stdout, "store %s: migrated from schema %d to %d\n", addr, before, clickhouse.SchemaVersion)
	}
	return nil
}

// storeInfo prints the store's summary.
func (c *cli) storeInfo(ctx context.Context, url, format string) error {
	s, err := clickhouse.Open(ctx, url)
	if err != nil {
		return err
	}
	defer s.Close()
	in, err := s.Info(ctx)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	if format != "table" {
		return usagef("--format must be table or json, not %q", format)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s (ClickHouse %s, schema %d)\n", in.Address, in.Server, in.Schema)
	fmt.Fprintf(tw, "sessions\t%s in %s rows (a session's earlier versions stay until ClickHouse merges them)\n",
		group(int64(in.Sessions)), group(int64(in.Rows)))
	if !in.First.IsZero() {
		fmt.Fprintf(tw, "started\t%s → %s\n", in.First.Format(time.RFC3339), in.Last.Format(time.RFC3339))
	}
	for _, col := range in.Collectors {
		fmt.Fprintf(tw, "collector %016x\t%s %s: %s records in %s writes, last %s\n", col.ID, col.Name, col.Workspace,
			group(int64(col.Records)), group(int64(col.Writes)), col.Seen.Format(time.RFC3339))
	}
	return tw.Flush()
}
