package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// sourcesView imports files and lists the workspace's sources with their
// line counts and malformed lines.
type sourcesView struct {
	sh      *shell
	content fyne.CanvasObject

	table     *dataTable
	malformed *widget.Label
	progress  *widget.ProgressBar
	progLabel *widget.Label
	cancelBtn *widget.Button
	progBox   *fyne.Container
	store     *storeBox

	srcs []workspace.Source // shown; UI goroutine only

	mu     sync.Mutex
	queue  [][]string
	cancel context.CancelFunc
	busy   bool
	// Done is called after each import batch (tests wait on it).
	onDone func([]workspace.FileResult, error)
}

var sourceHeaders = []string{"File", "Size", "Lines", "Events", "Skipped", "Unsupported", "Malformed", "Last imported"}

// newSourcesView makes the Sources view; openStore opens ClickHouse
// stores (Options.OpenStore), nil when there is none.
func newSourcesView(sh *shell, openStore func(ctx context.Context, url string) (ConversationSource, error)) *sourcesView {
	v := &sourcesView{sh: sh}
	v.table = newDataTable(sourceHeaders, []float32{380, 90, 100, 100, 90, 100, 90, 150},
		func() int { return len(v.srcs) }, v.sourceCell)
	v.table.onSelect = v.selectSource
	v.malformed = widget.NewLabel("Select a source to see its malformed lines.")
	v.malformed.Wrapping = fyne.TextWrapWord
	v.progress = widget.NewProgressBar()
	v.progLabel = widget.NewLabel("")
	v.progLabel.Truncation = fyne.TextTruncateEllipsis
	v.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), v.cancelImport)
	v.progBox = container.NewBorder(nil, nil, nil, v.cancelBtn, container.NewVBox(v.progLabel, v.progress))
	v.progBox.Hide()
	importBtn := widget.NewButtonWithIcon("Import logs…", theme.FolderOpenIcon(), v.chooseFiles)
	importBtn.Importance = widget.HighImportance
	hint := widget.NewLabel("Syslog files from Visual Syslog Server, rsyslog, ESXi or NSX, plain or gzipped. Drop files on the window, or use Ctrl+O.")
	hint.Wrapping = fyne.TextWrapWord
	v.store = newStoreBox(sh, openStore)
	top := container.NewVBox(container.NewBorder(nil, nil, importBtn, v.store.content, hint), v.progBox)
	split := container.NewVSplit(v.table, container.NewVScroll(v.malformed))
	split.Offset = 0.65
	v.content = container.NewBorder(top, nil, nil, nil, split)
	return v
}

func (v *sourcesView) sourceCell(row, col int) string {
	s := &v.srcs[row]
	switch col {
	case 0:
		return filepath.Base(s.Path) + "  (" + filepath.Dir(s.Path) + ")"
	case 1:
		return export.HumanBytes(uint64(max(s.Size, 0)))
	case 2:
		return thousands64(s.Stats.Lines)
	case 3:
		return thousands64(s.Stats.Events)
	case 4:
		return thousands64(s.Stats.Skipped)
	case 5:
		return thousands64(s.Stats.Unsupported)
	case 6:
		return thousands64(s.Stats.Malformed)
	case 7:
		return when(s.LastImported)
	}
	return ""
}

func (v *sourcesView) show(s *Snapshot) {
	v.srcs = s.Sources
	v.table.Refresh()
}

func (v *sourcesView) selectSource(row int) {
	if row < 0 || row >= len(v.srcs) {
		v.malformed.SetText("Select a source to see its malformed lines.")
		return
	}
	s := &v.srcs[row]
	if len(s.Malformed) == 0 {
		v.malformed.SetText(fmt.Sprintf("%s: no malformed lines.", s.Path))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s; the first %d:\n", s.Path, plural64(uint64(max(s.Stats.Malformed, 0)), "malformed line"), len(s.Malformed))
	for _, m := range s.Malformed {
		fmt.Fprintf(&b, "%s:%d: %s\n    %s\n", filepath.Base(s.Path), m.Line, m.Reason, m.Text)
	}
	v.malformed.SetText(printable.Text(b.String()))
}

// chooseFiles opens the import dialog (File → Import logs).
func (v *sourcesView) chooseFiles() { newImportDialog(v.sh, v.importFiles).d.Show() }

// importFiles queues files for import; imports run one batch at a time.
func (v *sourcesView) importFiles(files []string) {
	if len(files) == 0 {
		return
	}
	if v.sh.Project() == nil {
		v.sh.showError(errNoWorkspace)
		return
	}
	v.sh.selectTab("Sources", false)
	v.mu.Lock()
	v.queue = append(v.queue, files)
	start := !v.busy
	v.busy = true
	v.mu.Unlock()
	if start {
		v.sh.background(v.run)
	}
}

// run imports the queued batches; one goroutine at a time.
func (v *sourcesView) run() {
	for {
		v.mu.Lock()
		if len(v.queue) == 0 {
			v.busy = false
			v.mu.Unlock()
			v.sh.do(v.progBox.Hide)
			return
		}
		files := v.queue[0]
		v.queue = v.queue[1:]
		ctx, cancel := context.WithCancel(v.sh.ctx)
		v.cancel = cancel
		v.mu.Unlock()
		v.sh.do(func() {
			v.progress.SetValue(0)
			v.progLabel.SetText(printable.Field("Starting " + filepath.Base(files[0]) + "…"))
			v.progBox.Show()
			v.sh.showBusy("Importing "+plural(len(files), "file")+"…", 0)
		})
		res, err := v.importBatch(ctx, files)
		cancel()
		if v.onDone != nil {
			v.onDone(res, err)
		}
		if snap := v.sh.Project().Snapshot(); snap != nil {
			v.sh.do(func() { v.sh.showAll(snap) })
		}
		v.sh.do(v.sh.hideBusy)
		v.report(res, err)
	}
}

// refreshEvery is the least time between two refreshes of the views while
// an import commits file after file (a refresh re-reads the workspace).
const refreshEvery = 5 * time.Second

// importBatch imports files with a progress display throttled to 10 Hz, in
// the Sources view and in the status bar (seen from every view), and
// refreshes the views as files are committed.
func (v *sourcesView) importBatch(ctx context.Context, files []string) ([]workspace.FileResult, error) {
	var fileStart time.Time
	var last analysis.Progress
	var pending sync.Mutex // at most one progress update queued on the UI
	p := v.sh.Project()
	var lastRefresh time.Time // the first file committed shows at once
	var took time.Duration
	committed := func() {
		if time.Since(lastRefresh) < max(refreshEvery, 4*took) {
			return // a big workspace takes a while to re-read: mostly import
		}
		start := time.Now()
		v.sh.load(p)
		lastRefresh, took = time.Now(), time.Since(start)
	}
	return p.Import(ctx, files, func(pr analysis.Progress) {
		if pr.File != last.File || pr.FileIndex != last.FileIndex {
			fileStart = time.Now()
		}
		last = pr
		if !pending.TryLock() {
			return
		}
		text, frac := progressText(pr, time.Since(fileStart))
		v.sh.do(func() {
			defer pending.Unlock()
			v.progLabel.SetText(printable.Text(text))
			v.progress.SetValue(frac)
			v.sh.showBusy("Importing "+text, frac)
		})
	}, committed)
}

// progressText describes an import's progress: "web.log (1/3) · 120 MB of
// 1.7 GB · 804 MB/s · 2 s left".
func progressText(p analysis.Progress, fileElapsed time.Duration) (string, float64) {
	name := filepath.Base(p.File)
	if p.Files > 1 {
		name += fmt.Sprintf(" (%d/%d)", p.FileIndex+1, p.Files)
	}
	rate := float64(p.Done) / max(fileElapsed.Seconds(), 1e-3)
	parts := []string{name, export.HumanBytes(uint64(max(p.Done, 0)))}
	frac := 0.0
	if p.Total > 0 {
		parts[1] += " of " + export.HumanBytes(uint64(p.Total))
		frac = min(float64(p.Done)/float64(p.Total), 1)
	}
	parts = append(parts, export.HumanBytes(uint64(rate))+"/s")
	if p.Total > 0 && rate > 0 && p.Done < p.Total {
		left := time.Duration(float64(p.Total-p.Done) / rate * float64(time.Second))
		parts = append(parts, left.Round(time.Second).String()+" left")
	}
	return strings.Join(parts, " · "), frac
}

func (v *sourcesView) cancelImport() {
	v.mu.Lock()
	if v.cancel != nil {
		v.cancel()
	}
	v.queue = nil
	v.mu.Unlock()
}

// report tells the user what an import did.
func (v *sourcesView) report(res []workspace.FileResult, err error) {
	var b strings.Builder
	for _, r := range res {
		fmt.Fprintf(&b, "%s: %s", filepath.Base(r.Name), r.Outcome)
		if r.Outcome != workspace.Already {
			fmt.Fprintf(&b, " — %s, %s, %s skipped, %s malformed", plural64(uint64(max(r.Stats.Lines, 0)), "line"),
				plural64(uint64(max(r.Stats.Events, 0)), "event"), thousands64(r.Stats.Skipped), thousands64(r.Stats.Malformed))
		}
		if r.Err != nil {
			fmt.Fprintf(&b, " (read error: %v)", r.Err)
		}
		b.WriteString("\n")
	}
	switch {
	case errors.Is(err, context.Canceled):
		v.sh.setStatus("Import cancelled; files finished before it are in the workspace.")
	case err != nil:
		v.sh.showError(err)
	default:
		v.sh.setStatus(strings.ReplaceAll(strings.TrimSpace(b.String()), "\n", "; "))
	}
}
