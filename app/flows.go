package app

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/app/chart"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// copyLimit is the most rows Copy puts on the clipboard; Export writes any number.
const copyLimit = 100_000

// flowsView is the conversation table: text filter, filter chips, sort on
// any column, a details pane, copy and export of the filtered view.
type flowsView struct {
	u       *UI
	content fyne.CanvasObject

	search   *widget.Entry
	tagSel   *widget.Select
	dirSel   *widget.Select
	actSel   *widget.Select
	protoSel *widget.Select
	from, to *widget.Entry
	chips    *fyne.Container
	count    *widget.Label
	table    *dataTable
	detail   *widget.Label
	hourly   *chart.TimeBars
	evidence *widget.Entry

	// UI goroutine only.
	snap     *Snapshot
	view     *FlowView
	filter   FlowFilter
	sortCol  int
	desc     bool
	updating bool // while setting the selects from a filter

	gen      atomic.Int64 // latest requested view
	searchMu sync.Mutex
	searchOf *Snapshot // snapshot whose search texts are in searchTx
	searchTx []string
	// onView is called (on the UI goroutine) after each new view, for tests.
	onView   func(*FlowView)
	debounce *time.Timer
}

func newFlowsView(u *UI) *flowsView {
	v := &flowsView{u: u, sortCol: -1}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Filter: address, VM, tag, service, port, host (Ctrl+F)")
	v.search.OnChanged = func(s string) {
		if v.debounce != nil {
			v.debounce.Stop()
		}
		v.debounce = time.AfterFunc(150*time.Millisecond, func() {
			v.u.do(func() {
				v.filter.Text = strings.TrimSpace(s)
				v.refresh()
			})
		})
	}
	v.tagSel = widget.NewSelect(nil, func(s string) { v.fromSelects() })
	v.tagSel.PlaceHolder = "Any tag"
	v.dirSel = widget.NewSelect([]string{"Any direction", "INBOUND", "OUTBOUND", "INTRA", "UNKNOWN"}, func(string) { v.fromSelects() })
	v.dirSel.PlaceHolder = "Any direction"
	v.actSel = widget.NewSelect([]string{"Any action", "ALLOW", "MONITOR", "DROP", "REJECT"}, func(string) { v.fromSelects() })
	v.actSel.PlaceHolder = "Any action"
	v.protoSel = widget.NewSelect([]string{"Any protocol", "TCP", "UDP", "ICMP", "ICMPv6"}, func(string) { v.fromSelects() })
	v.protoSel.PlaceHolder = "Any protocol"
	v.from = widget.NewEntry()
	v.from.SetPlaceHolder("from date")
	v.to = widget.NewEntry()
	v.to.SetPlaceHolder("to date")
	for _, e := range []*widget.Entry{v.from, v.to} {
		e.Validator = func(s string) error { _, err := analysis.ParseTime(s); return err }
		e.OnChanged = func(string) { v.fromTimes() }
	}
	v.chips = container.NewHBox()
	v.count = widget.NewLabel("")
	clear := widget.NewButtonWithIcon("Clear filters", theme.ContentClearIcon(), func() { v.setFilter(FlowFilter{}) })
	copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), v.copyView)
	exportBtn := widget.NewButtonWithIcon("Export view…", theme.DocumentSaveIcon(), v.exportView)

	v.table = newDataTable(flowHeaders[:], flowWidths[:], func() int {
		if v.view == nil {
			return 0
		}
		return v.view.Len()
	}, func(row, col int) string { return FlowCell(v.view.At(row), col) })
	v.table.onSort = func(col int, desc bool) {
		v.sortCol, v.desc = col, desc
		v.refresh()
	}
	v.table.onSelect = v.selectRow

	v.detail = widget.NewLabel("Select a conversation to see its details.")
	v.detail.Wrapping = fyne.TextWrapWord
	v.hourly = chart.NewTimeBars()
	v.hourly.Unit = "sessions"
	v.evidence = widget.NewMultiLineEntry()
	v.evidence.Wrapping = fyne.TextWrapOff
	v.evidence.TextStyle.Monospace = true
	v.evidence.Disable()
	details := container.NewVSplit(
		container.NewBorder(nil, nil, nil, nil, container.NewVScroll(v.detail)),
		container.NewVSplit(panel("Sessions per hour", v.hourly), panel("Evidence: raw lines", v.evidence)))

	selects := container.NewGridWithColumns(6, v.tagSel, v.dirSel, v.actSel, v.protoSel, v.from, v.to)
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(clear, copyBtn, exportBtn), selects)
	top := container.NewVBox(v.search, bar, container.NewBorder(nil, nil, nil, v.count, container.NewHScroll(v.chips)))
	split := container.NewHSplit(v.table, details)
	split.Offset = 0.72
	v.content = container.NewBorder(top, nil, nil, nil, split)
	return v
}

func (v *flowsView) show(s *Snapshot) {
	v.snap = s
	opts := []string{"Any tag"}
	for _, t := range s.Overview.Tags {
		opts = append(opts, t.Name)
	}
	v.tagSel.Options = opts
	v.refresh()
}

// setFilter replaces the filter (from the overview's charts or Clear).
func (v *flowsView) setFilter(f FlowFilter) {
	v.filter = f
	v.updating = true
	v.search.SetText(f.Text)
	v.tagSel.SetSelected(cmp.Or(f.Tag, "Any tag"))
	dir := "Any direction"
	if f.DirSet {
		dir = f.Direction.String()
	}
	v.dirSel.SetSelected(dir)
	v.actSel.SetSelected(cmp.Or(f.Action, "Any action"))
	proto := "Any protocol"
	if f.Proto != 0 && !f.Service {
		proto = ingest.ProtoName(f.Proto)
	}
	v.protoSel.SetSelected(proto)
	v.from.SetText(timeText(f.Since))
	v.to.SetText(timeText(f.Until))
	v.updating = false
	v.refresh()
}

// timeText writes a time bound as the range entries read it.
func timeText(t time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case t.Equal(t.Truncate(24 * time.Hour)):
		return t.UTC().Format(time.DateOnly)
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// fromTimes reads the time range entries; an invalid bound is ignored
// (the entry shows why) until corrected.
func (v *flowsView) fromTimes() {
	if v.updating {
		return
	}
	since, err1 := analysis.ParseTime(v.from.Text)
	until, err2 := analysis.ParseTime(v.to.Text)
	if err1 != nil || err2 != nil || since.Equal(v.filter.Since) && until.Equal(v.filter.Until) {
		return
	}
	v.filter.Since, v.filter.Until = since, until
	v.refresh()
}

// fromSelects reads the filter selects.
func (v *flowsView) fromSelects() {
	if v.updating {
		return
	}
	f := v.filter
	f.Tag = v.tagSel.Selected
	if strings.HasPrefix(f.Tag, "Any ") {
		f.Tag = ""
	}
	f.Direction, f.DirSet = ingest.ParseDirection(v.dirSel.Selected)
	f.Action = v.actSel.Selected
	if strings.HasPrefix(f.Action, "Any ") {
		f.Action = ""
	}
	if p, ok := ingest.ParseProto(v.protoSel.Selected); ok {
		if f.Proto != p {
			f.Proto, f.Service, f.Port = p, false, 0
		}
	} else if !f.Service {
		f.Proto = 0
	}
	v.filter = f
	v.refresh()
}

// refresh rebuilds the view in the background; the latest request wins.
func (v *flowsView) refresh() {
	s := v.snap
	if s == nil {
		return
	}
	f, col, desc := v.filter, v.sortCol, v.desc
	gen := v.gen.Add(1)
	v.showChips()
	v.count.SetText("filtering…")
	v.u.background(func() {
		var search []string
		if f.Text != "" {
			search = v.searchTexts(s)
		}
		view := NewFlowView(s.Convs, search, f, col, desc)
		v.u.do(func() {
			if v.gen.Load() != gen {
				return
			}
			v.view = view
			v.count.SetText(fmt.Sprintf("%s of %s conversations", thousands(view.Len()), thousands(len(s.Convs))))
			v.table.UnselectAll()
			v.table.Refresh()
			v.table.ScrollToTop()
			if v.onView != nil {
				v.onView(view)
			}
		})
	})
}

// searchTexts returns the text filter's haystack of s, computed once.
func (v *flowsView) searchTexts(s *Snapshot) []string {
	v.searchMu.Lock()
	defer v.searchMu.Unlock()
	if v.searchOf != s {
		tx := make([]string, len(s.Convs))
		for i := range s.Convs {
			tx[i] = SearchText(&s.Convs[i])
		}
		v.searchOf, v.searchTx = s, tx
	}
	return v.searchTx
}

// showChips lists the active filters, each removable.
func (v *flowsView) showChips() {
	v.chips.RemoveAll()
	f := v.filter
	add := func(label string, clear func(*FlowFilter)) {
		v.chips.Add(widget.NewButtonWithIcon(label, theme.CancelIcon(), func() {
			nf := v.filter
			clear(&nf)
			v.setFilter(nf)
		}))
	}
	if f.Text != "" {
		add(`"`+f.Text+`"`, func(f *FlowFilter) { f.Text = "" })
	}
	if f.Tag != "" {
		add("tag "+f.Tag, func(f *FlowFilter) { f.Tag = "" })
	}
	if f.DirSet {
		add(strings.ToLower(f.Direction.String()), func(f *FlowFilter) { f.DirSet = false })
	}
	if f.Action != "" {
		add(f.Action, func(f *FlowFilter) { f.Action = "" })
	}
	if f.Proto != 0 {
		label := ingest.ProtoName(f.Proto)
		if f.Service {
			label = analysis.ServiceLabel(f.Proto, f.Port)
		}
		add(label, func(f *FlowFilter) { f.Proto, f.Service, f.Port = 0, false, 0 })
	}
	if f.Peer.IsValid() {
		add("peer "+f.Peer.String(), func(f *FlowFilter) { f.Peer = netip.Addr{} })
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		add(timeRange(f.Since, f.Until), func(f *FlowFilter) { f.Since, f.Until = time.Time{}, time.Time{} })
	}
	if !f.NewSince.IsZero() {
		add("new "+timeRange(f.NewSince, f.NewUntil), func(f *FlowFilter) { f.NewSince, f.NewUntil = time.Time{}, time.Time{} })
	}
	if f.Suspect {
		add("suspect", func(f *FlowFilter) { f.Suspect = false })
	}
}

// selectRow shows a conversation's details.
func (v *flowsView) selectRow(row int) {
	if v.view == nil || row >= v.view.Len() {
		return
	}
	c := v.view.At(row)
	var b strings.Builder
	fmt.Fprintf(&b, "%s → %s  %s\n", withVM(c.Src, c.SrcVM), withVM(c.Dst, c.DstVM), analysis.ServiceLabel(c.Proto, analysis.ServicePort(c)))
	fmt.Fprintf(&b, "Direction: %s\n", c.Direction)
	for _, t := range c.Tags {
		fmt.Fprintf(&b, "Tag: %s (%s)\n", t.Name, strings.ToLower(t.Direction.String()))
	}
	fmt.Fprintf(&b, "Sessions: %s (%s never answered)\n", thousandsU(c.Sessions), thousandsU(c.Unanswered))
	fmt.Fprintf(&b, "Sent: %s packets, %s · Received: %s packets, %s\n", thousandsU(c.OrigPkts),
		export.HumanBytes(c.OrigBytes), thousandsU(c.ReplyPkts), export.HumanBytes(c.ReplyBytes))
	fmt.Fprintf(&b, "Seen: %s → %s\n", when(c.First), when(c.Last))
	fmt.Fprintf(&b, "Actions: %s\n", FlowCell(c, ColActions))
	fmt.Fprintf(&b, "Reported by: %s\n", strings.Join(c.Hosts, ", "))
	if len(c.SrcGroups)+len(c.DstGroups) > 0 {
		fmt.Fprintf(&b, "Groups: %s → %s\n", strings.Join(c.SrcGroups, ", "), strings.Join(c.DstGroups, ", "))
	}
	if c.Suspect() {
		b.WriteString("⚠ Never answered: a probable scan, or traffic to nowhere.\n")
	}
	v.detail.SetText(printable.Text(b.String()))
	start, step, vals := timeSeries(c.Hourly, time.Hour)
	v.hourly.SetData(start, step, vals)
	v.evidence.SetText(printable.Text(strings.Join(c.Samples, "\n")))
}

// viewCSV renders the current view as CSV (at most limit rows; 0 = all).
func (v *flowsView) viewCSV(limit int) ([]byte, int) {
	convs := v.view.Selected()
	n := len(convs)
	if limit > 0 && n > limit {
		convs = convs[:limit]
	}
	var buf bytes.Buffer
	export.WriteFlowsCSV(&buf, convs) // writes to memory: cannot fail
	return buf.Bytes(), n
}

func (v *flowsView) copyView() {
	if v.view == nil {
		return
	}
	b, n := v.viewCSV(copyLimit)
	v.u.win.Clipboard().SetContent(string(b))
	msg := fmt.Sprintf("Copied %s conversations as CSV.", thousands(min(n, copyLimit)))
	if n > copyLimit {
		msg += fmt.Sprintf(" (%s more: use Export view.)", thousands(n-copyLimit))
	}
	v.u.status.SetText(msg)
}

func (v *flowsView) exportView() {
	if v.view == nil {
		return
	}
	view := v.view
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			v.u.showError(err)
			return
		}
		path := w.URI().Path()
		w.Close()
		go func() {
			err := export.WriteFile(path, func(bw *bufio.Writer) error { return export.WriteFlowsCSV(bw, view.Selected()) })
			if err != nil {
				v.u.showError(err)
				return
			}
			v.u.setStatus(fmt.Sprintf("Wrote %s conversations to %s", thousands(view.Len()), path))
		}()
	}, v.u.win)
	d.SetFileName("flows.csv")
	d.Show()
}
