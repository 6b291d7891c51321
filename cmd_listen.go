package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/live"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

const listenHelp = "Receives syslog from Nutanix AHV hosts and ESXi over UDP, TCP (octet-counting or LF framing,\n" +
	"detected per connection) and TLS, archives every message under --archive before it enters the\n" +
	"model, and commits the model to the workspace every --flush. Only senders in --allow are accepted\n" +
	"(an injected line would become a firewall rule): without --allow or --allow-any it refuses to start.\n" +
	"The allowlist cannot authenticate UDP: anyone who reaches the port can forge an allowed source\n" +
	"address, so conversations seen only over UDP are listed for review, not made into rules. TCP's\n" +
	"handshake proves the address; to trust the senders themselves, use --tls with --client-ca.\n" +
	"Without --udp, --tcp and --tls it listens on UDP and TCP port 514 when permitted, else 5514.\n" +
	"A restart first imports what the archive holds beyond the workspace. Ctrl-C or SIGTERM stops it\n" +
	"after a last commit."

type listenFlags struct {
	udp, tcp, tlsAddr, cert, key string
	clientCA                     string
	allow, archive, monitored    string
	allowAny, noWorkspace        bool
	library                      bool
	maxMessage, maxConns, queue  int
	rcvbuf                       int
	connIdle, flush, status, age time.Duration
	segment                      int64
	cpuProfile                   string
}

func (f *listenFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	IntVar(*int, string, int, string)
	Int64Var(*int64, string, int64, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}) {
	fs.StringVar(&f.udp, "udp", "", "UDP address to listen on, e.g. :514 (default: see above)")
	fs.StringVar(&f.tcp, "tcp", "", "TCP address to listen on")
	fs.StringVar(&f.tlsAddr, "tls", "", "TLS address to listen on (RFC 5425; needs --cert and --key)")
	fs.StringVar(&f.cert, "cert", "", "TLS certificate (PEM)")
	fs.StringVar(&f.key, "key", "", "TLS private key (PEM)")
	fs.StringVar(&f.clientCA, "client-ca", "", "TLS: accept only senders with a certificate from these CAs (PEM; RFC 5425 mutual authentication): the way to trust senders")
	fs.StringVar(&f.allow, "allow", "", "senders accepted, as IPs or CIDRs, comma separated (UDP source addresses can be forged: see above)")
	fs.BoolVar(&f.allowAny, "allow-any", false, "accept every sender (only on a trusted network)")
	fs.StringVar(&f.archive, "archive", "", "archive directory (default: NAME.archive beside the workspace NAME.flowsleuth)")
	fs.BoolVar(&f.noWorkspace, "no-workspace", false, "keep the model in memory only (the archive is still written)")
	fs.StringVar(&f.monitored, "monitored", "", "the monitored set as IPs or CIDRs, comma separated (default: learned)")
	fs.IntVar(&f.maxMessage, "max-message", listen.DefaultMaxMessage, "longest message in bytes; longer ones are counted and skipped")
	fs.IntVar(&f.maxConns, "max-conns", listen.DefaultMaxConns, "TCP and TLS connections open at once")
	fs.IntVar(&f.queue, "queue", listen.DefaultQueue, "messages waiting for the parser, at most (UDP drops beyond)")
	fs.IntVar(&f.rcvbuf, "rcvbuf", listen.DefaultReadBuffer, "UDP socket receive buffer to ask the kernel for (bytes)")
	fs.DurationVar(&f.connIdle, "conn-idle", listen.DefaultConnIdle, "close a connection silent this long")
	fs.DurationVar(&f.flush, "flush", live.DefaultFlushEvery, "commit to the workspace this often")
	fs.DurationVar(&f.status, "status", 5*time.Second, "print a status line this often (0: never)")
	fs.Int64Var(&f.segment, "segment-size", listen.DefaultSegmentSize, "rotate archive segments past this size (bytes)")
	fs.DurationVar(&f.age, "segment-age", listen.DefaultSegmentAge, "… or this age")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	fs.BoolVar(&f.library, "syslog-library", true, "read RFC 5424/3164 headers with go-syslog (false: the fast path, same events, less CPU)")
}

func (c *cli) listenCmd(args []string) error {
	fs := c.newFlagSet("listen", "[flags]", listenHelp)
	var f listenFlags
	f.register(fs)
	wsPath := workspaceFlag(fs)
	c.storeFlag(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	cfg, err := f.config(c.stderr, *wsPath)
	if err != nil {
		return err
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if f.noWorkspace && c.store != "" {
		return usagef("--store needs the workspace: a collector tracks sessions there")
	}
	var fw *forwarder
	if !f.noWorkspace {
		ws, err := c.openWorkspace(*wsPath)
		if err != nil {
			return err
		}
		defer ws.Close()
		cfg.Workspace = ws
		if fw, err = c.collector(context.Background(), ws); err != nil {
			return err
		}
	}
	return c.serve(cfg, f.status, fw)
}

// config turns the flags into a live.Config (live.Settings checks them) and
// prints the warnings.
func (f *listenFlags) config(stderr io.Writer, wsPath string) (live.Config, error) {
	cfg, warnings, err := live.Settings{UDP: f.udp, TCP: f.tcp, TLS: f.tlsAddr, Defaults: true,
		Cert: f.cert, Key: f.key, ClientCA: f.clientCA, Allow: f.allow, AllowAny: f.allowAny, Monitored: f.monitored,
		Archive: f.archive, Workspace: wsPath, MaxMessage: f.maxMessage, MaxConns: f.maxConns, Queue: f.queue,
		ReadBuffer: f.rcvbuf, ConnIdle: f.connIdle, SegmentSize: f.segment, SegmentAge: f.age, FlushEvery: f.flush,
		SyslogLibrary: f.library}.Config()
	var se *live.SettingsError
	if errors.As(err, &se) {
		return cfg, &usageError{msg: se.Describe(flagName), hint: se.Hint(flagName)}
	}
	if err != nil {
		return cfg, err
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "flowsleuth listen: %s\n", w)
	}
	return cfg, nil
}

// flagName is a listener setting as the CLI spells it: "--allow".
func flagName(s live.Setting) string { return "--" + string(s) }

// serve runs the session until SIGINT or SIGTERM; fw, when not nil,
// forwards every commit to the store.
func (c *cli) serve(cfg live.Config, every time.Duration, fw *forwarder) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := live.Start(ctx, cfg)
	if err != nil {
		if errors.Is(err, listen.ErrNoAllowlist) {
			return usagef("%v", err)
		}
		return err
	}
	c.announce(s, cfg)
	if fw != nil {
		fw.Start()
		s.OnFlush(fw.Kick)
		fw.Kick() // what a previous run journaled, or recovered from the archive
	}
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	watch := time.NewTicker(time.Second) // what cannot wait for the status line
	defer watch.Stop()
	var alerts alerter
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick:
			fmt.Fprintln(c.stderr, statusLine(s.Stats()))
			if fw != nil {
				fmt.Fprintln(c.stderr, fw.Status(ctx))
			}
		case <-watch.C:
			alerts.check(c.stderr, s.Stats())
		}
	}
	stop()
	fmt.Fprintln(c.stderr, "flowsleuth listen: stopping: archiving and committing what was received")
	err = s.Stop()
	c.summary(s.Stats(), cfg)
	if fw != nil {
		err = errors.Join(err, fw.Stop())
		fmt.Fprintln(c.stderr, "  "+fw.Status(context.Background()))
	}
	return err
}

// announce prints where the session listens and what it recovered.
func (c *cli) announce(s *live.Session, cfg live.Config) {
	a := s.Addrs()
	st := s.Stats()
	for _, r := range st.Recovered {
		if r.Outcome != workspace.Already {
			fmt.Fprintf(c.stderr, "flowsleuth listen: recovered %s lines archived but not committed by the last run (%s)\n",
				group(r.Stats.Lines), r.Name)
		}
	}
	if a.UDP != nil {
		fmt.Fprintf(c.stderr, "flowsleuth listen: udp %s (receive buffer: asked %s, kernel granted %s)\n", a.UDP,
			export.HumanBytes(uint64(st.RcvBufRequest)), export.HumanBytes(uint64(st.RcvBufGranted)))
	}
	if a.TCP != nil {
		fmt.Fprintf(c.stderr, "flowsleuth listen: tcp %s\n", a.TCP)
	}
	if a.TLS != nil {
		fmt.Fprintf(c.stderr, "flowsleuth listen: tls %s\n", a.TLS)
	}
	where := "memory only"
	if cfg.Workspace != nil {
		where = "workspace " + cfg.Workspace.Path()
	}
	fmt.Fprintf(c.stderr, "flowsleuth listen: archive %s, %s, commit every %v\n", cfg.Listen.Archive, where, cfg.FlushEvery)
}

// statusLine is the periodic one-line report.
func statusLine(st live.Stats) string {
	line := fmt.Sprintf("%s msg/s  received %s  archived %s  parsed %s  skipped %s  malformed %s  rejected %s  "+
		"dropped %s app / %s kernel  oversize %s  conns %d  archive %s  conversations %s",
		group(int64(st.Rate)), group(st.Received), group(st.Accepted), group(st.Parsed), group(st.Skipped), group(st.Malformed),
		group(st.Rejected), group(st.Dropped), group(st.KernelDrops), group(st.Oversize), st.OpenConns,
		archiveSize(st.Stats), group(st.Conversations))
	if st.FramingErrors > 0 {
		line += fmt.Sprintf("  framing errors %s (last: %s)", group(st.FramingErrors), st.LastFramingError)
	}
	if st.ArchiveDown {
		line += "  " + archiveDown(st.Stats)
	}
	return line
}

// archiveDown says that the archive fails and what the listener does meanwhile.
func archiveDown(st listen.Stats) string {
	return fmt.Sprintf("ARCHIVE FAILING since %s: %s: not accepting messages until it can write again "+
		"(TCP senders held back, %s UDP datagrams dropped)", st.ArchiveDownSince.Format("15:04:05"), st.ArchiveErr,
		group(st.ArchiveDropped))
}

// alerter prints, as soon as they happen, the events the status line would
// tell only later: the archive failing and working again.
type alerter struct {
	down    bool
	framing int64
}

func (a *alerter) check(w io.Writer, st live.Stats) {
	if st.FramingErrors > a.framing {
		fmt.Fprintf(w, "flowsleuth listen: closed a connection it could not frame: %s\n", st.LastFramingError)
		a.framing = st.FramingErrors
	}
	switch {
	case st.ArchiveDown && !a.down:
		fmt.Fprintf(w, "flowsleuth listen: %s\n", archiveDown(st.Stats))
	case !st.ArchiveDown && a.down:
		fmt.Fprintf(w, "flowsleuth listen: the archive can be written again: accepting messages (%s UDP datagrams were dropped meanwhile)\n",
			group(st.ArchiveDropped))
	}
	a.down = st.ArchiveDown
}

// archiveSize is the archive's size, and how many closed segments wait for
// compression (it waits while messages arrive fast).
func archiveSize(st listen.Stats) string {
	s := export.HumanBytes(uint64(max(st.ArchiveBytes, 0)))
	if st.Uncompressed > 0 {
		s += fmt.Sprintf(" (%d to gzip)", st.Uncompressed)
	}
	return s
}

// summary prints the session's totals, the senders and what went wrong.
func (c *cli) summary(st live.Stats, cfg live.Config) {
	w := c.stderr
	fmt.Fprintf(w, "flowsleuth listen: %s received in %v: %s accepted, %s events, %s skipped, %s unsupported, "+
		"%s malformed; %s oversize, %s dropped (queue), %s dropped (kernel), %s rejected\n",
		group(st.Received), time.Since(st.Started).Round(time.Second), group(st.Accepted), group(st.Parsed),
		group(st.Skipped), group(st.Unsupported), group(st.Malformed), group(st.Oversize), group(st.Dropped),
		group(st.KernelDrops), group(st.Rejected))
	for _, s := range st.Senders {
		fmt.Fprintf(w, "  sender %-15s %s messages, %s, %s malformed\n", s.Addr, group(s.Messages),
			export.HumanBytes(uint64(s.Bytes)), group(s.Malformed))
	}
	for _, s := range st.RejectedBy {
		fmt.Fprintf(w, "  rejected %-13s %s times (not in --allow)\n", s.Addr, group(s.Rejected))
	}
	for _, l := range st.MalformedLines {
		fmt.Fprintf(w, "  malformed from %s\n", l)
	}
	if st.FramingErrors+st.TLSErrors+st.Refused+st.Timeouts > 0 {
		fmt.Fprintf(w, "  connections closed: %d bad framing, %d failed TLS handshakes, %d over --max-conns, %d timed out\n",
			st.FramingErrors, st.TLSErrors, st.Refused, st.Timeouts)
	}
	if st.FlushErr != nil {
		fmt.Fprintf(w, "  last commit failed: %v\n", st.FlushErr)
	}
	if st.ArchiveFailures > 0 {
		fmt.Fprintf(w, "  the archive failed %d times (last: %s): %s UDP datagrams dropped meanwhile, %s messages "+
			"read but never archived (not in the workspace)\n", st.ArchiveFailures, st.ArchiveErr,
			group(st.ArchiveDropped), group(st.Unarchived))
	}
	fmt.Fprintf(w, "  archive %s: %s in %d segments this run\n", cfg.Listen.Archive,
		export.HumanBytes(uint64(st.ArchiveBytes)), st.Segments)
	if cfg.Workspace != nil {
		fmt.Fprintf(w, "  workspace %s: %s conversations, %s sessions\n", cfg.Workspace.Path(),
			group(st.Conversations), group(st.Sessions))
	}
}
