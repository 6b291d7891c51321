package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app"
	"github.com/flowsleuth/flowsleuth/export"
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

// storeFlag registers --store on a reading or collecting command.
func (c *cli) storeFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "", "ClickHouse store, clickhouse://HOST[:PORT]/DATABASE (see 'flowsleuth store -h')")
}

// flowsOfStore computes the conversations inside the store (--store) and
// names their endpoints after the workspace's inventory, when the workspace
// exists; its declared monitored set applies unless --monitored is given.
// This is the conversation source of every reading command with --store.
func (c *cli) flowsOfStore(mf *modelFlags, wsPath string, files []string, since, until string, top int) ([]analysis.Conversation, error) {
	if len(files) > 0 {
		return nil, usagef("--store reads the store: give no FILE")
	}
	q := clickhouse.Query{Top: top, Tags: c.tags, Samples: c.samples}
	var err error
	if q.Monitored, q.Since, q.Until, err = mf.selection(since, until); err != nil {
		return nil, err
	}
	ctx := context.Background()
	ws, err := existingWorkspace(wsPath)
	if err != nil {
		return nil, err
	}
	if ws != nil {
		defer ws.Close()
		if len(q.Monitored) == 0 {
			if q.Monitored, err = ws.Monitored(ctx); err != nil {
				return nil, err
			}
		}
	}
	s, err := clickhouse.Open(ctx, c.store)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	convs, err := s.Conversations(ctx, q)
	if err != nil || ws == nil {
		return convs, err
	}
	return convs, ws.Label(ctx, convs)
}

// existingWorkspace opens the workspace at path read-only when the file
// exists (nil otherwise): readers of a store use its inventory, monitored
// set and rule edits, but never create it.
func existingWorkspace(path string) (*workspace.Workspace, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return openWorkspaceToRead(path)
}

// storeSources describes the store for the workbook's Sources sheet.
func (c *cli) storeSources() ([]export.Source, error) {
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, c.store)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	in, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	out := []export.Source{{Path: in.Address, Events: int64(in.Sessions), Imported: time.Now()}}
	for _, col := range in.Collectors {
		out = append(out, export.Source{Path: fmt.Sprintf("collector %s (%s)", col.Name, col.Workspace),
			Events: int64(col.Records), Imported: col.Seen})
	}
	return out, nil
}

// forwarder is a collector's link to its store: it sends the workspace's
// journal of session records (Drain), and for a listener after every
// commit (Kick), in the background. It connects when it first sends, and
// again after a failure: a collector runs while its store is down.
type forwarder struct {
	url   string
	addr  clickhouse.Address
	store *clickhouse.Store // nil until connected; guarded by drain
	ws    *workspace.Workspace
	coll  clickhouse.Collector

	kick chan struct{}
	quit chan struct{}
	done chan struct{}

	drain sync.Mutex // one Drain at a time
	mu    sync.Mutex // guards sent and err
	sent  int64
	last  int64 // sent by the Drain under way
	err   error
}

// collector attaches the workspace to the store at url (--store) and
// returns its forwarder; nil without --store. A workspace holding data
// imported without the store cannot become a collector. A workspace
// attached already runs while the store is down (its records wait); the
// first attachment needs the store to answer, so that a mistyped address
// does not become the collector's.
func (c *cli) collector(ctx context.Context, ws *workspace.Workspace) (*forwarder, error) {
	if c.store == "" {
		return nil, nil
	}
	addr, err := clickhouse.ParseURL(c.store)
	if err != nil {
		return nil, usagef("--store: %v", err)
	}
	f := &forwarder{url: c.store, addr: addr, ws: ws}
	if cur, _, err := ws.Attachment(ctx); err != nil {
		return nil, err
	} else if cur != addr.String() {
		if f.store, err = clickhouse.Open(ctx, c.store); err != nil {
			return nil, err
		}
	}
	id, err := ws.Attach(ctx, addr.String())
	if err != nil {
		f.Close()
		if errors.Is(err, workspace.ErrNotEmpty) {
			return nil, fmt.Errorf("%w: a collector's workspace starts empty (give --workspace NEW.flowsleuth), "+
				"so that the store holds every session it counted", err)
		}
		return nil, err
	}
	host, _ := os.Hostname()
	path, err := filepath.Abs(ws.Path())
	if err != nil {
		path = ws.Path()
	}
	f.coll = clickhouse.Collector{ID: id, Name: host, Workspace: path}
	return f, nil
}

// Drain sends everything the journal holds, connecting first if need be.
func (f *forwarder) Drain(ctx context.Context) (int64, error) {
	f.drain.Lock()
	defer f.drain.Unlock()
	if f.store == nil {
		s, err := clickhouse.Open(ctx, f.url)
		if err != nil {
			f.setErr(err)
			return 0, err
		}
		f.store = s
	}
	n, err := f.store.Forward(ctx, f.ws, f.coll, func(sent int64) {
		f.mu.Lock()
		f.sent += sent - f.last
		f.last = sent
		f.mu.Unlock()
	})
	f.setErr(err)
	if err != nil { // reconnect next time: the server may have gone
		f.store.Close()
		f.store = nil
	}
	return n, err
}

func (f *forwarder) setErr(err error) {
	f.mu.Lock()
	f.err, f.last = err, 0
	f.mu.Unlock()
}

// Close closes the connection to the store.
func (f *forwarder) Close() {
	f.drain.Lock()
	defer f.drain.Unlock()
	if f.store != nil {
		f.store.Close()
		f.store = nil
	}
}

// Start drains in the background whenever kicked, and every minute (a
// store that was down gets what waited).
func (f *forwarder) Start() {
	f.kick, f.quit, f.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(f.done)
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-f.quit:
				return
			case <-f.kick:
			case <-t.C:
			}
			f.Drain(context.Background())
		}
	}()
}

// Kick asks the background loop to drain; it never blocks.
func (f *forwarder) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Stop ends the background loop, drains a last time and closes the store.
func (f *forwarder) Stop() error {
	if f.quit != nil {
		close(f.quit)
		<-f.done
	}
	_, err := f.Drain(context.Background())
	f.Close()
	return err
}

// Status says what was sent, and what waits when the store failed.
func (f *forwarder) Status(ctx context.Context) string {
	f.mu.Lock()
	sent, err := f.sent, f.err
	f.mu.Unlock()
	s := fmt.Sprintf("store %s: %s session records sent", f.addr, group(sent))
	if err != nil {
		_, waiting, _ := f.ws.Unforwarded(ctx)
		s += fmt.Sprintf("; %s wait in the workspace (%v)", group(waiting), err)
	}
	return s
}

// parseTags reads --tag's comma-separated tags.
func parseTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// storeWithoutWorkspace reports whether a reading command reads a store
// and there is no workspace (for edits) to open: none is created for it.
func (c *cli) storeWithoutWorkspace(wsPath string) bool {
	if c.store == "" {
		return false
	}
	_, err := os.Stat(wsPath)
	return errors.Is(err, os.ErrNotExist)
}

// workspaceOrStore returns the conversations of the store (--store), else
// of the workspace.
func (c *cli) workspaceOrStore(ctx context.Context, ws *workspace.Workspace) (*analysis.Table, error) {
	if c.store == "" {
		return ws.Table(ctx, workspace.Query{})
	}
	var mf modelFlags
	return c.tableOfStore(&mf, ws.Path(), nil, "", "", 0)
}

// forwardImport sends what an import journaled to the store and says so.
func (c *cli) forwardImport(fw *forwarder) error {
	ctx := context.Background()
	start := time.Now()
	n, err := fw.Drain(ctx)
	fw.Close()
	if err != nil {
		_, waiting, _ := fw.ws.Unforwarded(ctx)
		return fmt.Errorf("store %s: %w (%s session records sent; %s wait in the workspace for the next --store run)",
			fw.addr, err, group(n), group(waiting))
	}
	secs := max(time.Since(start).Seconds(), 1e-3)
	fmt.Fprintf(c.stdout, "store %s: %s session records sent in %.2f s (%s/s)\n", fw.addr, group(n), secs,
		group(int64(float64(n)/secs)))
	return nil
}

// storeSource is a store as the app's conversation source.
type storeSource struct{ s *clickhouse.Store }

// openStoreSource opens the store at url for the app (app.Options.OpenStore).
func openStoreSource(ctx context.Context, url string) (app.ConversationSource, error) {
	s, err := clickhouse.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return storeSource{s}, nil
}

// Conversations computes the store's conversations, with their evidence
// lines (the Flows view shows them).
func (s storeSource) Conversations(ctx context.Context, mon []netip.Prefix) ([]analysis.Conversation, error) {
	return s.s.Conversations(ctx, clickhouse.Query{Monitored: mon, Samples: true})
}

func (s storeSource) String() string { return s.s.Address().String() }
func (s storeSource) Close() error   { return s.s.Close() }

// selection reads the flags that select conversations from a workspace or
// a store: --monitored, --since and --until.
func (f *modelFlags) selection(since, until string) (mon []netip.Prefix, from, to time.Time, err error) {
	if mon, err = f.prefixes(); err != nil {
		return
	}
	if from, err = parseTime("--since", since); err != nil {
		return
	}
	to, err = parseTime("--until", until)
	return
}
