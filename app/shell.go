package app

import (
	"context"
	"errors"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/app/message"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// errNoWorkspace refuses what needs a workspace when none is open.
var errNoWorkspace = message.New("No workspace open", "This needs a workspace: it keeps the conversations, the inventory and the rule edits.",
	"Open one or create one in the File menu.")

// Preference keys.
const (
	prefWorkspace = "workspace"
	prefWidth     = "window.width"
	prefHeight    = "window.height"
	prefTheme     = "theme" // "system", "light", "dark"
	prefExportDir = "export.dir"
)

// shell is what a view needs of the window around it, and all it gets:
// the window and the app's preferences, the open project, the status line
// and its progress bar, the background runner, error display, and ways to
// show a new snapshot everywhere or another view. The views are built on
// it and know nothing of each other or of UI: what one view does to
// another goes through the callbacks UI sets (ui.go). Safe for concurrent
// use where a method says "from any goroutine".
type shell struct {
	app fyne.App
	win fyne.Window
	log *message.Log // errors in full (showErrorNow)

	mu   sync.Mutex
	proj *Project // nil until a workspace is open

	status  *widget.Label
	busy    *fyne.Container     // beside the status line while an import runs
	busyBar *widget.ProgressBar // its progress
	tabs    *container.AppTabs  // the views, by title (selectTab)

	// ctx is the background work's: UI.Shutdown cancels it and waits for
	// that work (loads) to end.
	ctx   context.Context
	loads sync.WaitGroup
	// debounced counts the debounce timers armed and not yet run or
	// stopped (debounce): tests wait for it to reach zero (wait_test.go).
	debounced atomic.Int64

	// Set by UI (ui.go), called on the UI goroutine: showAll shows a new
	// snapshot in every view, showReadiness its readiness line (computed
	// before its rules), showNewRules a new rule base, showFlows the Flows
	// view filtered by f.
	showAll       func(s *Snapshot)
	showReadiness func(s *Snapshot)
	showNewRules  func(s *Snapshot)
	showFlows     func(f FlowFilter)
}

// newShell makes the shell of the window w of a, its log going to log.
func newShell(ctx context.Context, a fyne.App, w fyne.Window, log *message.Log) *shell {
	sh := &shell{app: a, win: w, log: log, ctx: ctx}
	sh.status = widget.NewLabel("")
	sh.status.Truncation = fyne.TextTruncateEllipsis
	sh.busyBar = widget.NewProgressBar()
	return sh
}

// Project returns the open project, or nil; from any goroutine.
func (sh *shell) Project() *Project {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.proj
}

// swapProject makes p the open project and returns the one it replaces.
func (sh *shell) swapProject(p *Project) *Project {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.proj
	sh.proj = p
	return old
}

// background runs fn on a new goroutine the UI owns: Wait waits for it,
// and Shutdown cancels sh.ctx, which fn's work takes, and waits for it. All
// the app's goroutines start here.
func (sh *shell) background(fn func()) {
	sh.loads.Add(1)
	go func() {
		defer sh.loads.Done()
		fn()
	}()
}

// debounce is a timer that runs fn on the UI goroutine once input has
// been quiet for its delay: each call to arm restarts the wait. The shell
// counts the timers armed and not yet run, so tests wait for them to fire
// rather than sleep. UI goroutine only.
type debounce struct {
	sh *shell
	t  *time.Timer
}

// arm (re)starts the wait: fn runs on the UI goroutine after d, unless
// arm is called again first.
func (db *debounce) arm(d time.Duration, fn func()) {
	if db.t != nil && db.t.Stop() {
		db.sh.debounced.Add(-1) // stopped before it fired: its function never runs
	}
	db.sh.debounced.Add(1)
	db.t = time.AfterFunc(d, func() {
		db.sh.do(func() {
			defer db.sh.debounced.Add(-1) // after fn has started its work (background)
			fn()
		})
	})
}

// do runs fn on the UI goroutine (fyne.Do), from any goroutine.
func (sh *shell) do(fn func()) { fyne.Do(fn) }

// setStatus sets the status line from any goroutine.
func (sh *shell) setStatus(text string) { sh.do(func() { sh.status.SetText(printable.Text(text)) }) } // file names

// showBusy shows long work's progress in the status bar, on every view;
// on the UI goroutine.
func (sh *shell) showBusy(text string, frac float64) {
	sh.status.SetText(printable.Text(text)) // file names
	sh.busyBar.SetValue(frac)
	sh.busy.Show()
}

// hideBusy hides the progress; on the UI goroutine.
func (sh *shell) hideBusy() { sh.busy.Hide() }

// showError shows err in a dialog, from any goroutine.
func (sh *shell) showError(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	sh.do(func() { sh.showErrorNow(err) })
}

// showErrorNow shows err as people read it (message.For: a title, what
// happened and what to do) and logs its whole chain; on the UI goroutine
// (inside do, which must not nest).
func (sh *shell) showErrorNow(err error) {
	m := message.For(err)
	logged := "Details: " + sh.log.Path()
	if lerr := sh.log.Record("app", err); lerr != nil {
		fyne.LogError("flowsleuth: "+m.Title, err)
		logged = "The details could not be logged (" + lerr.Error() + ")."
	}
	// The words quote log text and file names.
	sh.status.SetText(printable.Text("Error: " + m.Title + ": " + m.Text))
	box := container.NewVBox(wrapped(m.Text, fyne.TextStyle{}))
	if m.Hint != "" {
		box.Add(wrapped(m.Hint, fyne.TextStyle{Italic: true}))
	}
	box.Add(wrapped(logged, fyne.TextStyle{}))
	// The chain, folded: its layers may name what the words cannot (which
	// record, which process), for whoever asks.
	box.Add(widget.NewAccordion(widget.NewAccordionItem("Technical details", wrapped(err.Error(), fyne.TextStyle{Monospace: true}))))
	d := dialog.NewCustom(printable.Text(m.Title), "OK", box, sh.win)
	d.Resize(fyne.NewSize(480, 0))
	d.Show()
}

// wrapped is a word-wrapped label of text (escaped: it may quote log text).
func wrapped(text string, style fyne.TextStyle) *widget.Label {
	l := widget.NewLabelWithStyle(printable.Text(text), fyne.TextAlignLeading, style)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// selectTab shows the view titled title ("Flows"), or the view named
// title in any case ("flows") when fold; false when there is none.
func (sh *shell) selectTab(title string, fold bool) bool {
	for _, t := range sh.tabs.Items {
		if t.Text == title || fold && strings.EqualFold(t.Text, title) {
			sh.tabs.Select(t)
			return true
		}
	}
	return false
}

// chooseFile shows the file dialog (for files ending in one of exts, or
// any file) and calls fn with the chosen path.
func (sh *shell) chooseFile(exts []string, fn func(path string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			sh.showError(err)
			return
		}
		path := r.URI().Path()
		r.Close()
		fn(path)
	}, sh.win)
	if len(exts) > 0 {
		d.SetFilter(storage.NewExtensionFileFilter(exts))
	}
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

// load reads p and shows it: the conversations first, the rules when
// synthesised. Runs off the UI goroutine.
func (sh *shell) load(p *Project) {
	snap, err := p.Reload(sh.ctx, func(s *Snapshot) {
		if s.Ready != nil { // the same snapshot, with its readiness line
			sh.do(func() { sh.showReadiness(s) })
			return
		}
		// The readiness line's work, next, waits for the views to show s:
		// the collector, kept tight during that work, slowed the Overview.
		shown := make(chan struct{})
		sh.do(func() {
			sh.showAll(s)
			close(shown)
		})
		select {
		case <-shown:
		case <-sh.ctx.Done():
		}
	})
	if err != nil {
		sh.showError(err)
		return
	}
	sh.do(func() { sh.showNewRules(snap) })
	// The synthesis's garbage is collected, and the memory it freed given
	// back, now rather than as the heap grows next (the sorts of Flows,
	// 20 MB each on a million rows): wstag1m's peak otherwise came after
	// the rules.
	debug.FreeOSMemory()
}

// reload re-reads the open project in the background and shows it.
func (sh *shell) reload() {
	p := sh.Project()
	if p == nil {
		return
	}
	sh.background(func() { sh.load(p) })
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
