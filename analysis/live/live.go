// Package live connects a syslog listener to the flow model and the
// workspace: received events go into a delta model that is committed to the
// workspace every few seconds, together with the position in the raw
// archive it covers, in one transaction.
//
// Crash safety comes from the archive: every message is archived before it
// enters the model, and each commit records how many bytes of its archive
// segment the workspace holds. On start, the segments not wholly committed
// are imported from that point (the workspace's tail import) before
// listening. A kill at any moment therefore loses nothing that was
// archived, and counts nothing twice.
package live

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

// DefaultFlushEvery is how often the model is committed by default.
const DefaultFlushEvery = 5 * time.Second

// DefaultArchive returns the archive directory of the workspace at path:
// NAME.archive beside NAME.flowsleuth. Each workspace has its own, so a
// restart never imports another workspace's segments; the CLI and the
// desktop app should both use it.
func DefaultArchive(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".archive"
}

// Config configures a Session.
type Config struct {
	Listen     listen.Config
	Workspace  *workspace.Workspace // nil: keep everything in memory (Session.Model)
	FlushEvery time.Duration
	Model      analysis.Options
}

// Stats are a session's figures: the listener's and the flushes'.
type Stats struct {
	listen.Stats
	Flushes   int64
	LastFlush time.Time
	FlushErr  error // the last flush error, nil after a successful flush
	Recovered []workspace.FileResult
	Events    int64 // events added to the model this session

	// The conversation table: the workspace's after the last commit, or the
	// in-memory model's conversations (Sessions is the workspace's only).
	Conversations, Sessions int64
}

// Session is a running listener feeding the model. Its methods are safe for
// concurrent use.
type Session struct {
	cfg Config
	srv *listen.Server
	ws  *workspace.Workspace

	mu      sync.Mutex
	delta   *analysis.Model // events since the last cut
	seg     string
	end     int64
	stats   ingest.Stats // lines since the last cut
	dirty   bool
	pending []cut // cut deltas not yet committed, in order
	events  int64

	flushMu   sync.Mutex // one flush at a time
	hookMu    sync.Mutex
	hooks     []func()
	flushes   int64
	lastFlush time.Time
	flushErr  error
	recovered []workspace.FileResult
	convs     int64 // in the workspace after the last commit
	sessions  int64

	runErr  chan error
	stopped chan struct{}
	stop    sync.Once
	stopErr error
	release func() // the workspace's writer lock
}

// cut is a delta model ready to commit: the events of one segment's lines
// up to end.
type cut struct {
	model *analysis.Model
	seg   string
	end   int64
	stats ingest.Stats
}

// Start recovers what an earlier run archived but did not commit, then
// starts listening. With a workspace, cfg.Listen.Archive is required. ctx
// bounds the recovery only: the session runs until Stop.
func Start(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	if cfg.Listen.Parse == nil { // as listen.New: go-syslog reads the headers
		cfg.Listen.Parse = []ingest.Option{ingest.WithSyslogLibrary(true)}
	}
	s := &Session{cfg: cfg, ws: cfg.Workspace, runErr: make(chan error, 1), stopped: make(chan struct{})}
	s.delta = analysis.NewModel(cfg.Model)
	if s.ws != nil {
		if cfg.Listen.Archive == "" {
			return nil, errors.New("live: a workspace needs an archive directory")
		}
		release, err := s.ws.Hold("listen")
		if err != nil {
			return nil, err
		}
		s.release = release
		if err := s.recover(ctx); err != nil {
			release()
			return nil, err
		}
		m, err := s.ws.Continue(ctx, cfg.Model)
		if err != nil {
			release()
			return nil, err
		}
		s.delta, s.cfg.Model.Records = m, m.Recording() // a collector's workspace keeps session records
		cfg.Listen.HoldSegments = true
	}
	srv, err := listen.New(cfg.Listen, s.handle)
	if err != nil {
		if s.release != nil {
			s.release()
		}
		return nil, err
	}
	s.srv = srv
	go func() { s.runErr <- srv.Run(context.Background()) }()
	go s.flushLoop()
	return s, nil
}

// recover imports the archive segments an earlier run left uncompressed:
// the workspace reads only the bytes it does not hold yet. Then they are
// compressed.
func (s *Session) recover(ctx context.Context) error {
	segs, err := listen.Segments(s.cfg.Listen.Archive)
	if err != nil || len(segs) == 0 {
		return err
	}
	res, err := s.ws.RecoverArchive(ctx, segs, workspace.ImportOptions{Parse: s.cfg.Listen.Parse, Model: s.cfg.Model,
		Unauthenticated: func(seg string) bool {
			_, err := os.Stat(listen.UDPMarker(seg))
			return err == nil
		}})
	s.recovered = res
	if err != nil {
		return fmt.Errorf("recover the archive: %w", err)
	}
	for _, seg := range segs {
		if err := listen.CompressSegment(seg); err != nil {
			return err
		}
	}
	return nil
}

// handle runs on the listener's consumer goroutine, after the batch's lines
// were archived.
func (s *Session) handle(b *listen.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws != nil && s.dirty && b.Segment != s.seg {
		s.cutLocked() // a new segment: the delta so far belongs to the old one
	}
	s.delta.AddBatch(b.Events)
	s.events += int64(len(b.Events))
	s.seg, s.end, s.dirty = b.Segment, b.End, true
	s.stats.Add(&b.Stats)
}

// cutLocked queues the delta for commit and continues with a fresh one
// restored from its open connections.
func (s *Session) cutLocked() {
	s.pending = append(s.pending, cut{model: s.delta, seg: s.seg, end: s.end, stats: s.stats})
	sessions, clocks := s.delta.Sessions()
	seq := s.delta.RecordSeq()
	s.delta = analysis.NewModel(s.cfg.Model)
	s.delta.Restore(sessions, clocks)
	s.delta.SetRecordSeq(seq)
	s.stats, s.dirty = ingest.Stats{}, false
}

func (s *Session) flushLoop() {
	t := time.NewTicker(s.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopped:
			return
		case <-t.C:
			s.Flush(context.Background())
		}
	}
}

// Flush commits what was received since the last flush, then calls the
// OnFlush hooks. A failed commit is kept and retried by the next flush.
func (s *Session) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	err := s.commit(ctx)
	var convs, sessions int64
	var terr error
	if s.ws != nil {
		convs, sessions, terr = s.ws.Totals(ctx)
	}
	s.hookMu.Lock()
	if s.ws != nil && terr == nil {
		s.convs, s.sessions = convs, sessions
	}
	s.flushes++
	s.lastFlush = time.Now()
	s.flushErr = err
	hooks := append([]func(){}, s.hooks...)
	s.hookMu.Unlock()
	for _, h := range hooks {
		h()
	}
	return err
}

func (s *Session) commit(ctx context.Context) error {
	if s.ws == nil {
		return nil
	}
	s.mu.Lock()
	if s.dirty {
		s.cutLocked()
	}
	todo := s.pending
	s.mu.Unlock()
	done := 0
	var err error
	for _, c := range todo {
		if err = syncFile(c.seg); err != nil {
			break
		}
		err = s.ws.CommitLive(ctx, c.model, workspace.LiveCommit{Segment: c.seg, End: c.end, Stats: c.stats})
		if err != nil {
			break
		}
		s.srv.Commit(c.seg, c.end)
		done++
	}
	s.mu.Lock()
	s.pending = s.pending[done:]
	s.mu.Unlock()
	return err
}

// syncFile makes the archived bytes durable before the workspace counts
// them, so a power loss never leaves the workspace ahead of the archive.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// OnFlush registers fn, called after every flush (from the flushing
// goroutine): a view reads the workspace again.
func (s *Session) OnFlush(fn func()) {
	s.hookMu.Lock()
	s.hooks = append(s.hooks, fn)
	s.hookMu.Unlock()
}

// Addrs returns the listener's addresses.
func (s *Session) Addrs() listen.Addrs { return s.srv.Addrs() }

// Stats returns the session's figures.
func (s *Session) Stats() Stats {
	st := Stats{Stats: s.srv.Stats()}
	s.hookMu.Lock()
	st.Flushes, st.LastFlush, st.Recovered = s.flushes, s.lastFlush, s.recovered
	st.Conversations, st.Sessions = s.convs, s.sessions
	st.FlushErr = s.flushErr
	s.hookMu.Unlock()
	s.mu.Lock()
	st.Events = s.events
	if s.ws == nil {
		st.Conversations = int64(s.delta.Stats().Conversations)
	}
	s.mu.Unlock()
	return st
}

// Stop stops listening, hands every message already read to the model,
// commits it, and returns the first error of the listener or the flush.
// It is safe to call more than once.
func (s *Session) Stop() error {
	s.stop.Do(func() {
		s.srv.Close()
		runErr := <-s.runErr
		close(s.stopped)
		s.stopErr = errors.Join(runErr, s.Flush(context.Background()))
		if s.release != nil {
			s.release()
		}
	})
	return s.stopErr
}
