// Package app is FlowSleuth's desktop interface, built with Fyne: sources,
// listener, overview, flows, rules and export views over one workspace.
//
// The package never imports fyne.io/fyne/v2/app (only package main does),
// so every view runs under Fyne's headless test driver. Data work happens
// in Project, off the UI goroutine; widgets are only touched through
// fyne.Do. The package never parses a log line: imports, the listener,
// synthesis and exports go through ingest, analysis and export.
//
// The files are layered: each uses only files below it. At the bottom, the
// data (Project, Snapshot, the flow queries) and widgets that know no view
// (dataTable, the chart); above them the shell (shell.go), which is all a
// view gets of the window: the open project, the status line, the
// background runner, error dialogs, and callbacks to show a snapshot in
// every view or the Flows view filtered. Each view is one file and one
// struct built on the shell; the Check view sits below Flows, Rules and
// Export, which read its verdicts. UI (ui.go) is on top: it alone knows
// every view and wires what one does to another. TestNoBackAndForthBetweenFiles
// (the module's filepairs_test.go) keeps it so.
package app

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/summary"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app/message"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// topN is how many services and peers the overview keeps per tag.
const topN = 8

// Project is an open workspace and what the views show of it: the
// conversations, their overview, the rule base. Its methods are safe for
// concurrent use; Snapshot returns a consistent, immutable view.
type Project struct {
	ws *workspace.Workspace

	mu     sync.Mutex
	snap   *Snapshot
	source ConversationSource // nil: the workspace's conversations (store.go)
}

// Snapshot is the state of the project at one moment. Views read it
// without locks; a reload replaces it whole.
type Snapshot struct {
	Path     string
	Info     workspace.Info
	Sources  []workspace.Source
	Convs    *analysis.Table // rows read from the workspace, which stays open for their samples
	Overview summary.Overview
	Knobs    rules.Knobs
	Rules    rules.Set
	Edits    []rules.EditResult
	Monitor  []string // declared monitored prefixes, for the export preview
	// RulesPending is set while the rules are being synthesised.
	RulesPending bool
	// Ready is the Overview's readiness line, when Reload computed it
	// (nil: not yet, or the knobs or edits changed since).
	Ready *Readied
}

// Readied is a readiness line computed: the hold-out's figures, without
// the held-out window (Readiness.Held), or why there are none.
type Readied struct {
	Res rules.Readiness
	Err error
}

// OpenProject opens (or creates) the workspace at path.
func OpenProject(path string) (*Project, error) {
	ws, err := workspace.Open(path)
	if err != nil {
		return nil, err
	}
	return &Project{ws: ws, snap: &Snapshot{Path: path}}, nil
}

// Close closes the workspace (and the store the conversations come from).
func (p *Project) Close() error {
	p.SetSource(nil)
	return p.ws.Close()
}

// Workspace returns the open workspace.
func (p *Project) Workspace() *workspace.Workspace { return p.ws }

// Path returns the workspace's file.
func (p *Project) Path() string { return p.ws.Path() }

// Snapshot returns the latest loaded state (never nil).
func (p *Project) Snapshot() *Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snap
}

// Reload reads everything from the workspace, computes the Overview's
// readiness line, and synthesises the rules with the current knobs. When
// early is not nil it gets the snapshot as soon as the conversations are
// in, before the rules (RulesPending), so views of a large workspace fill
// while synthesis runs, and again once the readiness line is computed
// (Ready).
func (p *Project) Reload(ctx context.Context, early func(*Snapshot)) (*Snapshot, error) {
	p.mu.Lock()
	knobs := p.snap.Knobs
	p.mu.Unlock()
	s := &Snapshot{Path: p.ws.Path(), Knobs: knobs}
	var err error
	if s.Sources, err = p.ws.Sources(ctx); err != nil {
		return nil, err
	}
	if s.Convs, err = p.conversations(ctx); err != nil {
		return nil, err
	}
	if s.Info, err = p.info(ctx, s); err != nil {
		return nil, err
	}
	s.Monitor = s.Info.Monitored
	s.Overview = summary.Of(s.Convs, topN)
	p.early(s, early)
	// The readiness line's synthesis is the app's peak of memory: made
	// beside the rules, it held them too (wstag1m: 610–630 MB, against
	// 540 MB now, the rules showing seconds later).
	s.Ready = readied(p, s, (*Project).readiness)
	p.early(s, early)
	if s.Rules, s.Edits, err = p.ws.Synthesize(ctx, s.Convs, knobs); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.snap = s
	p.mu.Unlock()
	return s, nil
}

// early makes s, its rules pending, the project's snapshot, and gives it
// to early (when not nil).
func (p *Project) early(s *Snapshot, early func(*Snapshot)) {
	if early == nil {
		return
	}
	e := *s
	e.RulesPending = true
	p.mu.Lock()
	p.snap = &e
	p.mu.Unlock()
	early(&e)
}

// readinessHoldout is how much of the observations the Overview holds out.
const readinessHoldout = 24 * time.Hour

// readied computes the readiness line of s with compute. The synthesis in
// it is the app's peak of memory: what the load left free goes back to the
// system first, the collector keeps the heap tight while it runs
// (memory.go), and what it leaves goes back after. The held-out window (28
// bytes for each conversation of the last day) is let go: the line shows
// figures, and tapping it filters the snapshot's table.
func readied(p *Project, s *Snapshot, compute func(*Project, *Snapshot) (rules.Readiness, error)) *Readied {
	debug.FreeOSMemory()
	defer debug.FreeOSMemory()
	release := tightMemory()
	res, err := compute(p, s)
	release()
	res.Held = nil
	return &Readied{Res: res, Err: err}
}

// readiness computes the hold-out of the last day with the workspace's
// exclusions and edits.
func (p *Project) readiness(s *Snapshot) (rules.Readiness, error) {
	cut, err := rules.HoldoutCut(s.Convs, readinessHoldout)
	if err != nil {
		return rules.Readiness{}, err
	}
	k, edits, err := p.ws.Knobs(context.Background(), s.Knobs)
	if err != nil {
		return rules.Readiness{}, err
	}
	// The replay asks only what each rule admits: the lean synthesis, with
	// the edits replayed as Workspace.Synthesize replays them, makes the same
	// rules without what people read of them (the whole readiness of
	// wstag1m, one run each at load 8–11: 11.5 s instead of 15.6 s, 785 MB
	// allocated instead of 885; the same figures).
	return rules.CheckReadiness(s.Convs, cut, k, func(before *analysis.Table) (rules.Set, error) {
		rs, _ := rules.ApplyEdits(rules.SynthesizeMembers(before, k), edits)
		return rs, nil
	})
}

// info is what the views show of the workspace: its sources' totals, its
// conversations and the declared monitored set. Workspace.Info says more,
// but its queries read every stored conversation again (3 s and 300 MB on
// a million), which the snapshot has just done.
func (p *Project) info(ctx context.Context, s *Snapshot) (workspace.Info, error) {
	in := workspace.Info{Path: s.Path, Sources: int64(len(s.Sources)), Conversations: int64(s.Convs.Len())}
	for _, src := range s.Sources {
		in.Lines += src.Stats.Lines
		in.Events += src.Stats.Events
		in.Malformed += src.Stats.Malformed
	}
	mon, err := p.ws.Monitored(ctx)
	for _, m := range mon {
		in.Monitored = append(in.Monitored, m.String())
	}
	return in, err
}

// UseKnobs sets the knobs the next Reload synthesises with.
func (p *Project) UseKnobs(k rules.Knobs) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := *p.snap
	s.Knobs, s.Ready = k, nil
	p.snap = &s
}

// SetKnobs re-synthesises the rules with k (edits replayed) and returns
// the new snapshot.
func (p *Project) SetKnobs(ctx context.Context, k rules.Knobs) (*Snapshot, error) {
	cur := p.Snapshot()
	rs, results, err := p.ws.Synthesize(ctx, cur.Convs, k)
	if err != nil {
		return nil, err
	}
	s := *cur
	s.Knobs, s.Rules, s.Edits, s.Ready = k, rs, results, nil
	p.mu.Lock()
	p.snap = &s
	p.mu.Unlock()
	return &s, nil
}

// Edit records a rule edit in the workspace and re-synthesises.
func (p *Project) Edit(ctx context.Context, e rules.Edit) (*Snapshot, error) {
	if e.Op == rules.EditExclude {
		if _, err := analysis.ParsePeer(e.Arg); err != nil {
			return nil, err
		}
	}
	if _, err := p.ws.AddEdit(ctx, e); err != nil {
		return nil, err
	}
	s, err := p.SetKnobs(ctx, p.Snapshot().Knobs)
	if err != nil {
		return nil, err
	}
	for _, r := range s.Edits {
		if r.Edit.Op == e.Op && r.Edit.Rule == e.Rule && r.Edit.Arg == e.Arg && !r.Applied {
			return s, fmt.Errorf("the edit was saved but does not apply: %s", r.Why)
		}
	}
	return s, nil
}

// Unedit removes edit seq and re-synthesises.
func (p *Project) Unedit(ctx context.Context, seq int64) (*Snapshot, error) {
	if err := p.ws.RemoveEdit(ctx, seq); err != nil {
		return nil, err
	}
	return p.SetKnobs(ctx, p.Snapshot().Knobs)
}

// ErrNoFiles is returned by Import when given nothing to read.
var ErrNoFiles error = message.New("No files", "There are no files to import.", "Choose one or more log files.")

// Import reads files into the workspace, reporting progress, then reloads.
// Files are read one at a time in the order of their first events (as the
// workspace reads files given together), each committed on its own:
// committed, when not nil, is called after each file but the last, so the
// views can show what is in. Cancelling ctx stops the file being read;
// files already committed stay.
func (p *Project) Import(ctx context.Context, files []string, progress func(analysis.Progress), committed func()) ([]workspace.FileResult, error) {
	if len(files) == 0 {
		return nil, ErrNoFiles
	}
	// One core fewer than the machine has parses, so the UI always has one.
	parse := []ingest.Option{ingest.WithWorkers(max(1, runtime.NumCPU()-1))}
	files = analysis.InTimeOrder(files, parse...)
	var out []workspace.FileResult
	var err error
	for i, name := range files {
		opts := workspace.ImportOptions{Parse: parse}
		if progress != nil {
			opts.Progress = func(pr analysis.Progress) {
				pr.FileIndex, pr.Files = i, len(files)
				progress(pr)
			}
		}
		var res []workspace.FileResult
		res, err = p.ws.Import(ctx, []string{name}, opts)
		out = append(out, res...)
		if err != nil {
			break
		}
		if committed != nil && i < len(files)-1 {
			committed()
		}
	}
	if _, rerr := p.Reload(context.WithoutCancel(ctx), nil); err == nil {
		err = rerr
	}
	return out, err
}

// ConversationSource is where the views take conversations from instead of
// the workspace: a ClickHouse store shared by collectors, which computes
// the conversation table itself. Package main opens it (Options.OpenStore),
// so the app needs no database driver. The workspace stays open: its
// inventory names the endpoints, its monitored set and rule edits apply,
// imports still go to it.
type ConversationSource interface {
	// Conversations returns the conversations, with directions relative
	// to monitored when it is not empty.
	Conversations(ctx context.Context, monitored []netip.Prefix) (*analysis.Table, error)
	// String names the source for people (an address without password).
	String() string
	Close() error
}

// ErrNoStores is returned when the app was started without a way to open
// stores (Options.OpenStore).
var ErrNoStores error = message.New("Stores not available", "This build of FlowSleuth cannot open ClickHouse stores.",
	"Use the flowsleuth command built with store support, or read the workspace.")

// SetSource makes the project read its conversations from src (nil: from
// the workspace again), closing the previous source; call Reload then.
func (p *Project) SetSource(src ConversationSource) {
	p.mu.Lock()
	old := p.source
	p.source = src
	p.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// Source returns the project's conversation source, nil for the workspace.
func (p *Project) Source() ConversationSource {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.source
}

// conversations reads the conversations from the source, else from the
// workspace.
func (p *Project) conversations(ctx context.Context) (*analysis.Table, error) {
	src := p.Source()
	if src == nil {
		return p.ws.Table(ctx, workspace.Query{})
	}
	mon, err := p.ws.Monitored(ctx)
	if err != nil {
		return nil, err
	}
	t, err := src.Conversations(ctx, mon)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return p.ws.Label(ctx, t)
}
