package app

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app/message"
)

// UI is the main window: its shell (shell.go), the views built on it, the
// menu and the title. It alone knows every view; it wires what one view
// does to another (New) and shows each snapshot in all of them.
type UI struct {
	*shell
	opts Options
	stop context.CancelFunc // cancels the shell's ctx (Shutdown)

	title *widget.Label
	// themeItems are the View menu's theme choices, by name; the one in use is ticked.
	themeItems map[string]*fyne.MenuItem
	banner     *fyne.Container
	sources    *sourcesView
	listener   *listenerView
	overview   *overviewView
	flows      *flowsView
	rules      *rulesView
	check      *checkView
	export     *exportView

	// started is when Start was called; onShown, when set, is called (on
	// the UI goroutine) after every view shows a snapshot (probe.go).
	started time.Time
	onShown func(s *Snapshot, rules bool)
	after   sync.WaitGroup // own's goroutines: AfterLoad's functions, the probes
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
	log := o.Log
	if log == nil {
		log = message.NewLog(message.DefaultLogPath())
	}
	ctx, stop := context.WithCancel(context.Background())
	u := &UI{shell: newShell(ctx, a, w, log), opts: o, stop: stop}
	if o.Theme != "" {
		applyTheme(a, o.Theme)
	} else {
		applyTheme(a, a.Preferences().StringWithFallback(prefTheme, "system"))
	}
	u.title = widget.NewLabel("")
	u.title.TextStyle.Bold = true
	u.title.Truncation = fyne.TextTruncateEllipsis
	u.banner = container.NewVBox()
	u.busy = container.NewHBox(container.NewGridWrap(fyne.NewSize(200, u.busyBar.MinSize().Height), u.busyBar),
		widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { u.sources.cancelImport() }))
	u.busy.Hide()
	u.buildViews()
	u.buildMenu()
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

// buildViews makes the views on the shell and wires what one does to
// another: the shell shows snapshots in all of them and the Flows view
// filtered; a check shows its verdicts in Flows and Rules.
func (u *UI) buildViews() {
	sh := u.shell
	u.check = newCheckView(sh)
	u.sources = newSourcesView(sh, u.opts.OpenStore)
	u.listener = newListenerView(sh)
	u.overview = newOverviewView(sh)
	u.flows = newFlowsView(sh, u.check)
	u.rules = newRulesView(sh, u.check)
	u.export = newExportView(sh, u.check)
	u.check.onChange = func(checked bool) {
		u.flows.checkChanged()
		u.rules.checkChanged(checked)
	}
	sh.showAll, sh.showNewRules, sh.showReadiness = u.showEverywhere, u.showRulesEverywhere, u.overview.ready.update
	sh.showFlows = func(f FlowFilter) {
		sh.selectTab("Flows", false)
		u.flows.setFilter(f)
	}
	sh.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Overview", theme.GridIcon(), u.overview.content),
		container.NewTabItemWithIcon("Flows", theme.ListIcon(), u.flows.content),
		container.NewTabItemWithIcon("Rules", theme.DocumentIcon(), u.rules.content),
		container.NewTabItemWithIcon("Check", theme.ConfirmIcon(), u.check.content),
		container.NewTabItemWithIcon("Sources", theme.FolderOpenIcon(), u.sources.content),
		container.NewTabItemWithIcon("Listener", theme.MediaRecordIcon(), u.listener.content),
		container.NewTabItemWithIcon("Export", theme.DocumentSaveIcon(), u.export.content),
	)
	sh.tabs.SetTabLocation(container.TabLocationLeading)
}

// buildMenu sets the window's main menu and its shortcuts.
func (u *UI) buildMenu() {
	open := func(path string) { u.openWorkspaceAt(path, false) }
	export := func() { u.selectTab("Export", false) }
	var menu *fyne.MainMenu
	menu, u.themeItems = newMainMenu(menuActions{
		importLogs:      u.sources.chooseFiles,
		openWorkspace:   func() { chooseWorkspace(u.shell, open) },
		newWorkspace:    func() { newWorkspace(u.shell, open) },
		importInventory: func() { chooseInventory(u.shell) },
		editMonitored:   func() { editMonitored(u.shell) },
		export:          export,
		filter:          u.focusFilter,
		shortcuts:       u.showShortcuts,
		about:           u.showAbout,
		chooseTheme:     u.setTheme,
	})
	u.win.SetMainMenu(menu)
	u.markTheme()
	addShortcuts(u.win.Canvas(), map[fyne.KeyName]func(){fyne.KeyO: u.sources.chooseFiles, fyne.KeyE: export, fyne.KeyF: u.focusFilter})
}

// markTheme ticks the theme in use in the View menu.
func (u *UI) markTheme() {
	cur := u.opts.Theme
	if cur == "" {
		cur = u.app.Preferences().StringWithFallback(prefTheme, "system")
	}
	markTheme(u.themeItems, cur, u.win)
}

// focusFilter shows the Flows view with its filter field focused.
func (u *UI) focusFilter() {
	u.selectTab("Flows", false)
	u.win.Canvas().Focus(u.flows.search)
}

// Content returns the window's content.
func (u *UI) Content() fyne.CanvasObject {
	top := container.NewBorder(nil, nil, nil, nil, u.title)
	bottom := container.NewBorder(nil, nil, nil, u.busy, u.status)
	return container.NewBorder(container.NewVBox(top, u.banner), bottom, nil, nil, u.tabs)
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
		u.openWorkspaceAt(path, demo)
	})
}

// Import imports files into the open workspace, as a drop on the window
// would; from any goroutine.
func (u *UI) Import(files []string) { u.do(func() { u.sources.importFiles(files) }) }

// AfterLoad runs fn off the UI goroutine once the loads started so far
// have finished (as the CLI's gui command does with --store, --policy and
// files to import); the UI owns it like its background work: Shutdown
// cancels what has not started and waits for what has.
func (u *UI) AfterLoad(fn func()) {
	u.own(func() {
		u.loads.Wait()
		if u.ctx.Err() == nil {
			fn()
		}
	})
}

// own runs fn on a goroutine the UI owns beside its background work, for
// work that outlives loads (AfterLoad's functions, the probes): Shutdown
// cancels u.ctx, which fn heeds, and waits for it; Wait and AfterLoad do
// not.
func (u *UI) own(fn func()) {
	u.after.Add(1)
	go func() {
		defer u.after.Done()
		fn()
	}()
}

// openingStatus is the status line while the workspace at path opens: an
// older schema's is upgraded first, which takes a while when it is large.
func openingStatus(path string) string {
	if from, to, ok := workspace.Behind(path); ok {
		took, _ := workspace.UpgradeEstimate(from)
		return fmt.Sprintf("Upgrading %s from schema %d to %d, once (%s for a million conversations)…",
			path, from, to, took)
	}
	return "Opening " + path + "…"
}

// openWorkspaceAt opens the workspace at path and loads it; runs off the
// UI goroutine.
func (u *UI) openWorkspaceAt(path string, demo bool) {
	status := openingStatus(path)
	u.setStatus(status)
	stop := workspace.WatchUpgrade(path, 500*time.Millisecond, func(done, total int64) {
		u.setStatus(fmt.Sprintf("%s %d%%", status, done*100/total))
	})
	p, err := OpenProject(path)
	stop()
	if err != nil {
		u.showError(err)
		return
	}
	p.UseKnobs(loadKnobs(u.app.Preferences(), path))
	if old := u.swapProject(p); old != nil {
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

// showEverywhere displays s in every view; on the UI goroutine.
func (u *UI) showEverywhere(s *Snapshot) {
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

// showRulesEverywhere displays a new rule base (after a knob change or an edit).
func (u *UI) showRulesEverywhere(s *Snapshot) {
	u.overview.showRules(s)
	u.rules.show(s)
	u.export.show(s)
	if u.onShown != nil {
		u.onShown(s, true)
	}
}

// SelectView shows a view by its name in lower case ("flows"); false when
// there is no such view.
func (u *UI) SelectView(name string) bool { return u.selectTab(name, true) }

// CheckPolicies checks the policy files in the Check view, as Load policy
// would; from any goroutine.
func (u *UI) CheckPolicies(files []string) { u.do(func() { u.check.addPolicies(files) }) }

// OpenStore makes the views read the conversations of the store at url,
// or of the workspace again when url is empty; from any goroutine. Loading
// runs in the background, as for a workspace.
func (u *UI) OpenStore(url string) { u.sources.store.open(url) }

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
