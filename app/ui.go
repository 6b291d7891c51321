package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
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

// Options configure the UI.
type Options struct {
	Version string
	// DemoDir holds the built-in demo workspace, made on first use when the
	// user has no workspace of their own.
	DemoDir string
	// DefaultWorkspace is the CLI's default workspace file.
	DefaultWorkspace string
	// Theme overrides the remembered theme for this run: "light", "dark"
	// or "system"; "" keeps the user's choice.
	Theme string
	// OpenStore opens a ClickHouse store the views can read conversations
	// from (store.go); nil: the app reads workspaces only.
	OpenStore func(ctx context.Context, url string) (ConversationSource, error)
	// Log is where errors are logged in full; nil: the default log
	// (message.DefaultLogPath).
	Log *message.Log
}

// UI is the main window's content and its views.
type UI struct {
	app  fyne.App
	win  fyne.Window
	opts Options
	log  *message.Log // errors in full (showErrorNow)

	mu   sync.Mutex
	proj *Project // nil until a workspace is open

	tabs    *container.AppTabs
	title   *widget.Label
	status  *widget.Label
	busy    *fyne.Container     // beside the status line while an import runs
	busyBar *widget.ProgressBar // its progress
	// themeItems are the View menu's theme choices, by name; the one in use is ticked.
	themeItems map[string]*fyne.MenuItem
	banner     *fyne.Container
	sources    *sourcesView
	listener   *listenerView
	overview   *overviewView
	flows      *flowsView
	rules      *rulesView
	check      *checkView // check.go
	export     *exportView

	// ctx is the background work's: Shutdown cancels it (stop) and waits
	// for that work (loads) to end.
	ctx   context.Context
	stop  context.CancelFunc
	loads sync.WaitGroup

	// started is when Start was called; onShown, when set, is called (on
	// the UI goroutine) after every view shows a snapshot (probe.go).
	started time.Time
	onShown func(s *Snapshot, rules bool)
	after   sync.WaitGroup // AfterLoad's functions
}

// New builds the UI in w. Call Start to open the workspace.
func New(a fyne.App, w fyne.Window, o Options) *UI {
	// The app holds a workspace's conversations (a table of pointer-free
	// rows) for as long as it shows them, and each reload, synthesis or
	// sort leaves garbage beside them: collecting once the heap has grown
	// by a quarter of what is live, rather than doubled, keeps the process
	// near what it shows, for little work (the collector has little to
	// mark). 1 M conversations, opening: 786 MB peak at the default, 675
	// at 50, 560-590 at 25, for the same CPU time.
	debug.SetGCPercent(25)
	u := &UI{app: a, win: w, opts: o, log: o.Log}
	u.ctx, u.stop = context.WithCancel(context.Background())
	if u.log == nil {
		u.log = message.NewLog(message.DefaultLogPath())
	}
	if o.Theme != "" {
		applyTheme(a, o.Theme)
	} else {
		applyTheme(a, a.Preferences().StringWithFallback(prefTheme, "system"))
	}
	u.title = widget.NewLabel("")
	u.title.TextStyle.Bold = true
	u.title.Truncation = fyne.TextTruncateEllipsis
	u.status = widget.NewLabel("")
	u.status.Truncation = fyne.TextTruncateEllipsis
	u.banner = container.NewVBox()
	u.busyBar = widget.NewProgressBar()
	u.busy = container.NewHBox(container.NewGridWrap(fyne.NewSize(200, u.busyBar.MinSize().Height), u.busyBar),
		widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { u.sources.cancelImport() }))
	u.busy.Hide()

	u.sources = newSourcesView(u)
	u.listener = newListenerView(u)
	u.overview = newOverviewView(u)
	u.flows = newFlowsView(u)
	u.rules = newRulesView(u)
	u.check = newCheckView(u)
	u.export = newExportView(u)
	u.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Overview", theme.GridIcon(), u.overview.content),
		container.NewTabItemWithIcon("Flows", theme.ListIcon(), u.flows.content),
		container.NewTabItemWithIcon("Rules", theme.DocumentIcon(), u.rules.content),
		container.NewTabItemWithIcon("Check", theme.ConfirmIcon(), u.check.content),
		container.NewTabItemWithIcon("Sources", theme.FolderOpenIcon(), u.sources.content),
		container.NewTabItemWithIcon("Listener", theme.MediaRecordIcon(), u.listener.content),
		container.NewTabItemWithIcon("Export", theme.DocumentSaveIcon(), u.export.content),
	)
	u.tabs.SetTabLocation(container.TabLocationLeading)
	w.SetMainMenu(u.menu())
	u.shortcuts()
	w.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) {
		var files []string
		for _, uri := range uris {
			if uri.Scheme() == "file" {
				files = append(files, uri.Path())
			}
		}
		u.sources.importFiles(files)
	})
	return u
}

// Content returns the window's content.
func (u *UI) Content() fyne.CanvasObject {
	top := container.NewBorder(nil, nil, nil, nil, u.title)
	bottom := container.NewBorder(nil, nil, nil, u.busy, u.status)
	return container.NewBorder(container.NewVBox(top, u.banner), bottom, nil, nil, u.tabs)
}

// showBusy shows long work's progress in the status bar, on every view;
// on the UI goroutine.
func (u *UI) showBusy(text string, frac float64) {
	u.status.SetText(printable.Text(text)) // file names
	u.busyBar.SetValue(frac)
	u.busy.Show()
}

// hideBusy hides the progress; on the UI goroutine.
func (u *UI) hideBusy() { u.busy.Hide() }

// Project returns the open project, or nil.
func (u *UI) Project() *Project {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.proj
}

// Start opens path, or else the last workspace, or else the CLI's default
// workspace when it exists, or else the built-in demo. It returns at once;
// loading happens in the background.
func (u *UI) Start(path string) {
	u.started = time.Now()
	demo := false
	if path == "" {
		path = u.app.Preferences().String(prefWorkspace)
		if path != "" && !exists(path) {
			path = ""
		}
	}
	if path == "" && u.opts.DefaultWorkspace != "" && exists(u.opts.DefaultWorkspace) {
		path = u.opts.DefaultWorkspace
	}
	if path == "" && u.opts.DemoDir != "" {
		demo = true
	}
	u.background(func() {
		if demo {
			u.setStatus("Building the demo workspace…")
			p, err := EnsureDemo(u.ctx, u.opts.DemoDir)
			if err != nil {
				u.showError(fmt.Errorf("demo workspace: %w", err))
				return
			}
			path = p
		}
		if path == "" {
			u.setStatus("No workspace: File → Open workspace, or import logs (Ctrl+O).")
			return
		}
		u.open(path, demo)
	})
}

// Import imports files into the open workspace, as a drop on the window
// would; from any goroutine.
func (u *UI) Import(files []string) { u.do(func() { u.sources.importFiles(files) }) }

// background runs fn on a new goroutine the UI owns: Wait waits for it,
// and Shutdown cancels u.ctx, which fn's work takes, and waits for it. All
// the app's goroutines start here.
func (u *UI) background(fn func()) {
	u.loads.Add(1)
	go func() {
		defer u.loads.Done()
		fn()
	}()
}

// AfterLoad runs fn off the UI goroutine once the loads started so far
// have finished (as the CLI's gui command does with --store, --policy and
// files to import); the UI owns it like its background work: Shutdown
// cancels what has not started and waits for what has.
func (u *UI) AfterLoad(fn func()) {
	u.after.Add(1)
	go func() {
		defer u.after.Done()
		u.loads.Wait()
		if u.ctx.Err() == nil {
			fn()
		}
	}()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// open opens the workspace at path and loads it; runs off the UI goroutine.
func (u *UI) open(path string, demo bool) {
	u.setStatus("Opening " + path + "…")
	p, err := OpenProject(path)
	if err != nil {
		u.showError(err)
		return
	}
	p.UseKnobs(loadKnobs(u.app.Preferences(), path))
	u.mu.Lock()
	old := u.proj
	u.proj = p
	u.mu.Unlock()
	if old != nil {
		u.listener.stop()
		old.Close()
	}
	if !demo {
		u.app.Preferences().SetString(prefWorkspace, path)
	}
	u.do(func() {
		u.banner.RemoveAll()
		if demo {
			l := widget.NewLabel("This is the built-in demo workspace: an application seen by NSX-V and Nutanix Flow. " +
				"Import your own logs (Ctrl+O or drag and drop), or open a workspace from the File menu.")
			l.Wrapping = fyne.TextWrapWord
			closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { u.banner.RemoveAll() })
			closeBtn.Importance = widget.LowImportance
			u.banner.Add(container.NewBorder(nil, nil, nil, closeBtn, l))
		}
	})
	u.load(p)
}

// load reads p and shows it: the conversations first, the rules when
// synthesised. Runs off the UI goroutine.
func (u *UI) load(p *Project) {
	snap, err := p.Reload(u.ctx, func(s *Snapshot) {
		u.do(func() { u.show(s) })
	})
	if err != nil {
		u.showError(err)
		return
	}
	u.do(func() { u.showRules(snap) })
}

// reload re-reads the project in the background and shows it.
func (u *UI) reload() {
	p := u.Project()
	if p == nil {
		return
	}
	u.background(func() {
		u.load(p)
	})
}

// show displays snap in every view; on the UI goroutine.
func (u *UI) show(s *Snapshot) {
	u.title.SetText(fmt.Sprintf("%s — %s, %s", filepath.Base(s.Path),
		plural(s.Convs.Len(), "conversation"), plural64(s.Overview.Sessions, "session")))
	u.win.SetTitle("FlowSleuth — " + filepath.Base(s.Path))
	u.status.SetText(fmt.Sprintf("Workspace %s · %s · %s read · %s malformed", s.Path,
		plural(len(s.Sources), "source"), plural64(uint64(max(s.Info.Lines, 0)), "line"), thousands64(s.Info.Malformed)))
	u.overview.show(s)
	u.flows.show(s)
	u.rules.show(s)
	u.sources.show(s)
	u.export.show(s)
	u.check.show(s)
	if u.onShown != nil {
		u.onShown(s, !s.RulesPending)
	}
}

// showRules displays a new rule base (after a knob change or an edit).
func (u *UI) showRules(s *Snapshot) {
	u.overview.showRules(s)
	u.rules.show(s)
	u.export.show(s)
	if u.onShown != nil {
		u.onShown(s, true)
	}
}

// do runs fn on the UI goroutine (fyne.Do), from any goroutine.
func (u *UI) do(fn func()) { fyne.Do(fn) }

// setStatus sets the status line from any goroutine.
func (u *UI) setStatus(text string) { u.do(func() { u.status.SetText(printable.Text(text)) }) } // file names

// showError shows err in a dialog, from any goroutine.
func (u *UI) showError(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	u.do(func() { u.showErrorNow(err) })
}

// showErrorNow shows err as people read it (message.For: a title, what
// happened and what to do) and logs its whole chain; on the UI goroutine
// (inside do, which must not nest).
func (u *UI) showErrorNow(err error) {
	m := message.For(err)
	logged := "Details: " + u.log.Path()
	if lerr := u.log.Record("app", err); lerr != nil {
		fyne.LogError("flowsleuth: "+m.Title, err)
		logged = "The details could not be logged (" + lerr.Error() + ")."
	}
	// The words quote log text and file names.
	u.status.SetText(printable.Text("Error: " + m.Title + ": " + m.Text))
	box := container.NewVBox(wrapped(m.Text, fyne.TextStyle{}))
	if m.Hint != "" {
		box.Add(wrapped(m.Hint, fyne.TextStyle{Italic: true}))
	}
	box.Add(wrapped(logged, fyne.TextStyle{}))
	// The chain, folded: its layers may name what the words cannot (which
	// record, which process), for whoever asks.
	box.Add(widget.NewAccordion(widget.NewAccordionItem("Technical details", wrapped(err.Error(), fyne.TextStyle{Monospace: true}))))
	d := dialog.NewCustom(printable.Text(m.Title), "OK", box, u.win)
	d.Resize(fyne.NewSize(480, 0))
	d.Show()
}

// wrapped is a word-wrapped label of text (escaped: it may quote log text).
func wrapped(text string, style fyne.TextStyle) *widget.Label {
	l := widget.NewLabelWithStyle(printable.Text(text), fyne.TextAlignLeading, style)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// SelectView shows a view by its name in lower case ("flows"); false when
// there is no such view.
func (u *UI) SelectView(name string) bool {
	for _, t := range u.tabs.Items {
		if strings.EqualFold(t.Text, name) {
			u.tabs.Select(t)
			return true
		}
	}
	return false
}

// selectTab shows the view named title.
func (u *UI) selectTab(title string) {
	for _, t := range u.tabs.Items {
		if t.Text == title {
			u.tabs.Select(t)
			return
		}
	}
}

func (u *UI) showShortcuts() {
	dialog.ShowInformation("Keyboard shortcuts",
		"Ctrl+O   import log files\nCtrl+E   export\nCtrl+F   filter the flows\n"+
			"↑ ↓ Page Up/Down Home End   move the selection in a table\nEnter   save a dialog\n\n"+
			"Drop log files on the window to import them.", u.win)
}

func (u *UI) showAbout() {
	site, _ := url.Parse("https://github.com/flowsleuth/flowsleuth")
	dialog.ShowCustom("About FlowSleuth", "Close", container.NewVBox(
		widget.NewLabelWithStyle("FlowSleuth "+u.opts.Version, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("Turns Nutanix Flow and VMware NSX firewall logs into a\nmicro-segmentation rule base. "+
			"Everything stays on this machine."),
		widget.NewHyperlink("Project page", site),
	), u.win)
}

func (u *UI) setTheme(name string) {
	u.app.Preferences().SetString(prefTheme, name)
	u.opts.Theme = "" // the choice now overrides --theme
	applyTheme(u.app, name)
	u.markTheme()
}

// chooseFile shows the file dialog (for files ending in one of exts, or
// any file) and calls fn with the chosen path.
func (u *UI) chooseFile(exts []string, fn func(path string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			u.showError(err)
			return
		}
		path := r.URI().Path()
		r.Close()
		fn(path)
	}, u.win)
	if len(exts) > 0 {
		d.SetFilter(storage.NewExtensionFileFilter(exts))
	}
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

// chooseWorkspace lets the user open another workspace file.
func (u *UI) chooseWorkspace() {
	u.chooseFile([]string{".flowsleuth"}, func(path string) {
		u.background(func() { u.open(path, false) })
	})
}

// chooseInventory imports a VM inventory (RVTools, Prism Central, CSV or
// XLSX) so conversations show VM names and groups.
func (u *UI) chooseInventory() {
	u.chooseFile([]string{".csv", ".xlsx"}, u.importInventory)
}

// importInventory stores the inventory at path and reloads the views.
func (u *UI) importInventory(path string) {
	p := u.Project()
	if p == nil {
		u.showErrorNow(errNoWorkspace)
		return
	}
	u.background(func() {
		res, err := p.Workspace().ImportInventory(u.ctx, path)
		if err != nil {
			u.showError(err)
			return
		}
		u.load(p)
		u.setStatus(fmt.Sprintf("Inventory %s (%s format): %s, %s.", filepath.Base(path),
			res.Report.Format, plural(res.VMs, "VM"), plural(res.Addresses, "address")))
	})
}

// editMonitored lets the user declare the monitored (protected) prefixes
// that directions are relative to; empty means learned from the logs.
func (u *UI) editMonitored() {
	p := u.Project()
	if p == nil {
		u.showErrorNow(errNoWorkspace)
		return
	}
	entry := widget.NewMultiLineEntry()
	entry.SetPlaceHolder("one address or CIDR per line, e.g. 10.20.0.0/16\n(empty: learned from the logs)")
	entry.SetText(strings.Join(p.Snapshot().Monitor, "\n"))
	entry.Validator = func(s string) error { _, err := analysis.ParsePeers(s); return err }
	d := dialog.NewForm("Monitored addresses", "Save", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Prefixes", entry)}, func(ok bool) {
		if !ok {
			return
		}
		prefixes, _ := analysis.ParsePeers(entry.Text)
		u.background(func() {
			if err := p.Workspace().SetMonitored(u.ctx, prefixes); err != nil {
				u.showError(err)
				return
			}
			u.load(p)
		})
	}, u.win)
	d.Resize(fyne.NewSize(480, 360))
	d.Show()
}

// newWorkspace lets the user create an empty workspace.
func (u *UI) newWorkspace() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			u.showError(err)
			return
		}
		path := w.URI().Path()
		w.Close()
		os.Remove(path) // the dialog created it empty; the workspace makes its own
		if filepath.Ext(path) != ".flowsleuth" {
			path += ".flowsleuth"
		}
		u.background(func() { u.open(path, false) })
	}, u.win)
	d.SetFileName("project.flowsleuth")
	d.Show()
}

// RememberSize stores the window size when the window closes.
func (u *UI) RememberSize() {
	s := u.win.Canvas().Size()
	u.app.Preferences().SetFloat(prefWidth, float64(s.Width))
	u.app.Preferences().SetFloat(prefHeight, float64(s.Height))
}

// WindowSize is the remembered window size, or a default.
func WindowSize(a fyne.App) fyne.Size {
	p := a.Preferences()
	return fyne.NewSize(float32(p.FloatWithFallback(prefWidth, 1280)), float32(p.FloatWithFallback(prefHeight, 800)))
}

// Shutdown cancels the background work, stops the listener, waits for
// that work to end and closes the workspace. Calling it again does nothing
// more.
func (u *UI) Shutdown() {
	u.stop()
	u.listener.stop()
	u.after.Wait() // before loads: an AfterLoad function may start a load
	u.loads.Wait()
	if p := u.Project(); p != nil {
		p.Close()
	}
}
