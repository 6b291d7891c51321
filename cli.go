package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app/message"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// cli carries the streams of one invocation, so tests can run it in-process.
// stdout and stderr escape what a terminal would obey (printable): tables,
// summaries and messages quote log text. rawOut is standard output as it
// is, for machine formats (CSV, JSON, demo logs), which keep the data
// exactly; rawErr, standard error as it is, for the progress bar.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	rawOut, rawErr io.Writer
	loaded         []analysis.FileResult // what load read, for the workbook's Sources

	// A reading command's ClickHouse store (--store, cmd_store.go), the tags
	// it keeps and whether it needs evidence lines.
	store   string
	tags    []string
	samples bool

	log *message.Log // where errors are logged in full (report)
}

// output is where a command writes in format: the raw standard output for
// machine formats, the escaping one for people ("table").
func (c *cli) output(format string) io.Writer {
	if format == "table" {
		return c.stdout
	}
	return c.rawOut
}

// usageError makes run exit with code 2.
type usageError struct {
	msg      string
	hint     string // what to do, printed under msg ("" for none)
	reported bool   // the flag package has printed it with the usage already
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// newFlagSet returns a FlagSet that prints its usage to stderr.
func (c *cli) newFlagSet(name, args, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: flowsleuth %s %s\n\n%s\n\nFlags:\n", name, args, help)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags wherever they stand among the arguments (Go's flag
// package stops at the first non-flag), and returns the other arguments.
// "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error(), reported: true}
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// modelFlags are the flags shared by the commands that read logs.
type modelFlags struct {
	monitored  string
	year       int
	zone       *time.Location // of RFC 3164 stamps (nil: UTC)
	host       string
	workers    int
	idle       time.Duration
	library    bool
	cpuProfile string
	quiet      bool
	noSamples  bool     // the command shows no sample lines: the model need not keep them
	noHourly   bool     // … nor sessions per hour
	countOnly  bool     // … nor conversations: only their counts (analysis.Options.CountOnly)
	countFile  *os.File // with countOnly: holds what the model remembers of them (analysis.Options.CountFile)
}

func (f *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.monitored, "monitored", "", "the monitored set as IPs or CIDRs, comma separated (default: learned from the logs)")
	fs.IntVar(&f.year, "year", 0, "year of RFC 3164 timestamps, which have none (default: from each file's modification time)")
	fs.Func("timezone", "zone of RFC 3164 timestamps, which carry none: an IANA name such as Europe/Berlin, or Local (default UTC)", f.setZone)
	fs.StringVar(&f.host, "host", "", "reporting host for lines that name none (ESXi local files)")
	fs.IntVar(&f.workers, "workers", 0, fmt.Sprintf("parsing goroutines (default: one per CPU; at most %d)", ingest.MaxWorkers))
	fs.DurationVar(&f.idle, "idle-timeout", analysis.DefaultIdleTimeout, "forget a connection not logged for this long, "+
		"whatever its protocol (default: the vendor's own idle timers by protocol and state, plus "+analysis.Grace.String()+")")
	fs.BoolVar(&f.library, "syslog-library", false, "read RFC 5424/3164 headers with go-syslog instead of the fast path")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	fs.BoolVar(&f.quiet, "q", false, "no progress bar")
}

func (f *modelFlags) parseOptions() []ingest.Option {
	return []ingest.Option{ingest.WithYear(f.year), ingest.WithLocation(f.zone), ingest.WithDefaultHost(f.host),
		ingest.WithWorkers(f.workers), ingest.WithSyslogLibrary(f.library)}
}

// setZone reads --timezone: a syslog server that writes RFC 3164 headers
// (Visual Syslog Server, rsyslog's default file format) writes its own
// local time without saying which.
func (f *modelFlags) setZone(name string) error {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		return fmt.Errorf("unknown time zone %q: give an IANA name such as Europe/Berlin, UTC or Local", name)
	}
	f.zone = loc
	return nil
}

// prefixes returns the --monitored prefixes.
func (f *modelFlags) prefixes() ([]netip.Prefix, error) { return parsePrefixes(f.monitored) }

// parsePrefixes reads "10.0.0.0/8,192.0.2.7" into prefixes (an IP is a /32 or /128).
func parsePrefixes(s string) ([]netip.Prefix, error) {
	out, err := analysis.ParsePeers(s)
	if err != nil {
		return nil, usagef("--monitored: %v", err)
	}
	return out, nil
}

// profile starts the CPU profile --cpuprofile asks for, once: a command
// that profiles more than its reading (reading a workspace, synthesising,
// writing) starts it first, and the reading then starts none. stop ends it.
func (f *modelFlags) profile() (stop func(), err error) {
	stop, err = startCPUProfile(f.cpuProfile)
	if err == nil {
		f.cpuProfile = ""
	}
	return stop, err
}

// startCPUProfile starts a CPU profile written to path (none when path is
// empty); stop ends it. stop is never nil.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	pf, err := os.Create(path)
	if err != nil {
		return func() {}, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return func() {}, err
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}

// run starts what every reading command needs: a CPU profile if asked, a
// progress bar on a terminal, and a context cancelled by Ctrl-C. done undoes it.
func (c *cli) start(f *modelFlags) (ctx context.Context, progress func(analysis.Progress), done func(), err error) {
	var undo []func()
	done = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	stopProfile, err := f.profile()
	if err != nil {
		return nil, nil, done, err
	}
	undo = append(undo, stopProfile)
	if bar := newProgressBar(c.rawErr); bar != nil && !f.quiet {
		progress = bar.update
		undo = append(undo, bar.finish)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	undo = append(undo, stop)
	return ctx, progress, done, nil
}

// load reads files into a new in-memory Model.
func (c *cli) load(f *modelFlags, files []string) (*analysis.Model, []analysis.FileResult, time.Duration, error) {
	if len(files) == 0 {
		return nil, nil, 0, usagef("no input files (use - for standard input)")
	}
	mon, err := f.prefixes()
	if err != nil {
		return nil, nil, 0, err
	}
	ctx, progress, done, err := c.start(f)
	defer done()
	if err != nil {
		return nil, nil, 0, err
	}
	o := analysis.Options{Monitored: mon, IdleTimeout: f.idle}
	if f.noSamples {
		o.Samples = -1
	}
	o.NoHourly, o.CountOnly, o.CountFile = f.noHourly, f.countOnly, f.countFile
	m := analysis.NewModel(o)
	start := time.Now()
	res, err := analysis.Import(ctx, m, files, analysis.ImportOptions{Parse: f.parseOptions(), Progress: progress,
		Workers: f.workers, Procs: analysis.ReadProcs()})
	c.loaded = res
	return m, res, time.Since(start), err
}

// workspaceFlag registers --workspace.
func workspaceFlag(fs *flag.FlagSet) *string {
	def, err := workspace.DefaultPath()
	if err != nil {
		def = "default.flowsleuth"
	}
	return fs.String("workspace", def, "workspace file")
}

// openWorkspace opens the workspace named by --workspace, for a command
// that writes.
func (c *cli) openWorkspace(path string) (*workspace.Workspace, error) {
	if path == "" {
		return nil, usagef("--workspace is empty")
	}
	defer c.noteUpgrade(path)()
	return workspace.Open(path)
}

// noteUpgrade tells the user, before the workspace at path is opened, that
// opening it will upgrade its schema: a large workspace takes a while. On a
// terminal a progress bar follows the upgrade until done is called, after
// the open. Nothing is said of a file this process may not write, which a
// reading command then refuses with its own message.
func (c *cli) noteUpgrade(path string) (done func()) {
	from, to, ok := workspace.Behind(path)
	if !ok {
		return func() {}
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	f.Close()
	took, frees := workspace.UpgradeEstimate(from)
	compact := ""
	if frees {
		compact = " ('flowsleuth workspace compact' then gives back the space it frees)"
	}
	fmt.Fprintf(c.stderr, "flowsleuth: upgrading workspace %s from schema %d to %d, once: %s for a million conversations%s\n",
		path, from, to, took, compact)
	bar := newProgressBar(c.rawErr)
	if bar == nil {
		return func() {}
	}
	stop := workspace.WatchUpgrade(path, 250*time.Millisecond, func(done, total int64) {
		bar.update(analysis.Progress{Done: done, Total: total})
	})
	return func() {
		stop()
		bar.finish()
	}
}

// noWorkspace is the error of a command finding no workspace at path to
// read, hint telling what to do: one an import is making says so.
func noWorkspace(path, hint string) error {
	if err := workspace.NotYet(path); err != nil {
		return err
	}
	return fmt.Errorf("no workspace at %s%s", path, hint)
}

// openWorkspaceToRead opens the workspace named by --workspace read-only,
// for a command that only reads: it works where the workspace cannot be
// written, and beside a writer.
func (c *cli) openWorkspaceToRead(path string) (*workspace.Workspace, error) {
	if path == "" {
		return nil, usagef("--workspace is empty")
	}
	defer c.noteUpgrade(path)()
	return workspace.OpenReadOnly(path)
}

// storeFlag registers --store on a reading or collecting command.
func (c *cli) storeFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "", "ClickHouse store, clickhouse://HOST[:PORT]/DATABASE (see 'flowsleuth store -h')")
}

// group writes n with thousands separators: 1234567 → "1,234,567".
func group(n int64) string {
	if n < 0 {
		return "-" + analysis.Thousands(uint64(-n))
	}
	return analysis.Thousands(uint64(n))
}
