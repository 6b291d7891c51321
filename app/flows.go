package app

import (
	"bufio"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/services"
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
	sh      *shell
	check   *checkView // its verdicts, when a policy is checked
	content fyne.CanvasObject

	search   *widget.Entry
	tagSel   *widget.Select
	tagOpts  tagChoices
	dirSel   *widget.Select
	actSel   *widget.Select
	protoSel *widget.Select
	verdSel  *widget.Select // a checked policy's verdicts
	from, to *widget.Entry
	chips    *fyne.Container
	count    *widget.Label
	table    *dataTable
	empty    *widget.Label // over the table when nothing matches
	detail   *widget.Label
	hourly   *chart.TimeBars
	evidence *widget.Label

	// UI goroutine only.
	snap     *Snapshot
	view     *FlowView
	filter   FlowFilter
	sortCol  int
	desc     bool
	updating bool          // while setting the selects from a filter
	selKey   *analysis.Key // the selected conversation, kept across new views

	gen    atomic.Int64 // latest requested view
	sorted orderCache   // the last sorted view of every row
	selMu  sync.Mutex   // guards selKey, read by the background view builder
	// onView is called (on the UI goroutine) after each new view, for tests.
	onView   func(*FlowView)
	debounce debounce // the search field's
}

func newFlowsView(sh *shell, check *checkView) *flowsView {
	v := &flowsView{sh: sh, check: check, sortCol: -1, debounce: debounce{sh: sh}}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder(TextHelp)
	v.search.OnChanged = func(s string) {
		v.debounce.arm(150*time.Millisecond, func() {
			v.filter.Text = strings.TrimSpace(s)
			v.refresh()
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
	v.verdSel = v.newVerdictSelect()
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

	v.table = newDataTable(slices.Clone(flowHeaders[:]), columnWidths(flowHeaders[:], flowSamples[:]), func() int {
		if v.view == nil {
			return 0
		}
		return v.view.Len()
	}, func(row, col int) string {
		if col == ColVerdict {
			return v.verdictCell(row)
		}
		return v.view.Cell(row, col)
	})
	v.table.setFlex(ColActions, v.table.widths[ColActions]) // the last column: the rest of a wide window
	v.table.onSort = func(col int, desc bool) {
		v.sortCol, v.desc = col, desc
		v.refresh()
	}
	v.table.onSelect = v.selectRow
	// One line, never wrapped: in the centre a wrapped label is as narrow
	// as a letter and as tall as the text, and the window grew to hold it.
	v.empty = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	v.empty.Truncation = fyne.TextTruncateEllipsis
	v.empty.Hide()

	v.detail = widget.NewLabel(noFlowSelected)
	v.detail.Wrapping = fyne.TextWrapWord
	v.hourly = chart.NewTimeBars()
	v.hourly.Unit = "sessions"
	var evidence fyne.CanvasObject
	v.evidence, evidence = rawText()
	right := container.NewVSplit(panel("Sessions per hour", v.hourly), panel("Evidence: raw lines", evidence))
	right.Offset = 0.4
	details := container.NewHSplit(container.NewVScroll(v.detail), right)
	details.Offset = 0.38

	selects := container.NewGridWithColumns(6, v.tagSel, v.dirSel, v.actSel, v.protoSel, v.from, v.to)
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(clear, copyBtn, exportBtn), selects)
	top := container.NewVBox(v.search, bar, container.NewBorder(nil, nil, v.verdSel, v.count, container.NewHScroll(v.chips)))
	// The details go below the table, so that its figures fit the width.
	split := container.NewVSplit(container.NewStack(v.table, container.NewVBox(layout.NewSpacer(), v.empty, layout.NewSpacer())), details)
	split.Offset = 0.62
	v.content = container.NewBorder(top, nil, nil, nil, split)
	return v
}

// noFlowSelected is the details pane with no conversation selected.
const noFlowSelected = "Select a conversation (click it, or use the arrow keys) to see its details."

func (v *flowsView) show(s *Snapshot) {
	v.snap = s
	tags := make([]string, len(s.Overview.Tags))
	for i, t := range s.Overview.Tags {
		tags[i] = t.Name
	}
	v.tagSel.Options = v.tagOpts.options("Any tag", tags)
	v.refresh()
}

// setFilter replaces the filter (from the overview's charts or Clear).
func (v *flowsView) setFilter(f FlowFilter) {
	f.Verdicts = v.verdictFunc()
	v.filter = f
	v.updating = true
	v.search.SetText(f.Text)
	v.tagSel.SetSelected(cmp.Or(tagOption(f.Tag), "Any tag"))
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
	v.verdSel.SetSelected(cmp.Or(f.Verdict, "Any verdict"))
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
	f.Tag = v.tagOpts.tag(v.tagSel.Selected)
	if strings.HasPrefix(f.Tag, "Any ") {
		f.Tag = ""
	}
	f.Direction, f.DirSet = ingest.ParseDirection(v.dirSel.Selected)
	f.Action = v.actSel.Selected
	if strings.HasPrefix(f.Action, "Any ") {
		f.Action = ""
	}
	f.Verdict, f.Verdicts = v.verdSel.Selected, v.verdictFunc()
	if strings.HasPrefix(f.Verdict, "Any ") {
		f.Verdict = ""
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
	v.sh.background(func() {
		view := v.sorted.view(s.Convs, f, col, desc)
		sel := v.findSelected(view)
		v.sh.do(func() {
			if v.gen.Load() != gen {
				return
			}
			v.showView(view, sel)
		})
	})
}

// findSelected returns the selected conversation's row in view, or -1;
// off the UI goroutine (it reads only view and selKey's copy).
func (v *flowsView) findSelected(view *FlowView) int {
	v.selMu.Lock()
	key := v.selKey
	v.selMu.Unlock()
	if key == nil {
		return -1
	}
	for i, r := range view.Rows {
		if view.Convs.Key(int(r)) == *key {
			return i
		}
	}
	return -1
}

// showView shows a new view: the count, the table, and the selection when
// the selected conversation is still in it (else the details clear).
func (v *flowsView) showView(view *FlowView, sel int) {
	v.view = view
	f := &view.Filter
	all := view.Convs.Len()
	text := fmt.Sprintf("%s of %s", thousands(view.Len()), plural(all, "conversation"))
	if f.Timed() {
		text = fmt.Sprintf("%s active in %s, of %s · %s in that time (bytes, first and last seen: the whole period)",
			thousands(view.Len()), timeRange(f.Since, f.Until), thousands(all), plural64(view.Sessions, "session"))
	}
	v.count.SetText(text)
	if view.Len() == 0 && all > 0 {
		v.empty.SetText("No conversation matches these filters: remove one (×), or Clear filters.")
		v.empty.Show()
	} else {
		v.empty.Hide()
	}
	hdr := flowHeaders[ColSessions]
	if f.Timed() {
		hdr = sessionsInRange
	}
	v.table.headers[ColSessions] = hdr
	if sel < 0 {
		v.clearDetails()
		v.table.ScrollToTop()
	}
	v.table.SelectRow(sel)
	v.table.Refresh()
	if sel >= 0 {
		v.table.ScrollTo(widget.TableCellID{Row: sel})
		v.showDetails(sel)
	}
	if v.onView != nil {
		v.onView(view)
	}
}

// showChips lists the active filters (FlowFilter.Chips), each removable.
func (v *flowsView) showChips() {
	v.chips.RemoveAll()
	for _, c := range v.filter.Chips() {
		v.chips.Add(widget.NewButtonWithIcon(printable.Field(c.Label), theme.CancelIcon(), func() { // tags are log text
			nf := v.filter
			c.Clear(&nf)
			v.setFilter(nf)
		}))
	}
}

// selectRow shows a conversation's details (row -1: none).
func (v *flowsView) selectRow(row int) {
	if v.view == nil || row < 0 || row >= v.view.Len() {
		v.setSelKey(nil)
		v.clearDetails()
		return
	}
	k := v.view.Convs.Key(int(v.view.Rows[row]))
	v.setSelKey(&k)
	v.showDetails(row)
}

func (v *flowsView) setSelKey(k *analysis.Key) {
	v.selMu.Lock()
	v.selKey = k
	v.selMu.Unlock()
}

// clearDetails empties the details pane.
func (v *flowsView) clearDetails() {
	v.setSelKey(nil)
	v.detail.SetText(noFlowSelected)
	v.hourly.SetData(time.Time{}, time.Hour, nil)
	v.evidence.SetText("")
}

// showDetails shows the conversation of row in the details pane, read
// through the table's accessors.
func (v *flowsView) showDetails(row int) {
	tb, i := v.view.Convs, int(v.view.Rows[row])
	src, dst := tb.SrcVM(i), tb.DstVM(i)
	var b strings.Builder
	fmt.Fprintf(&b, "%s → %s  %s\n", withVM(tb.Src(i), src.VM), withVM(tb.Dst(i), dst.VM), services.Label(tb.Proto(i), services.Port(tb.Proto(i), tb.DPort(i))))
	fmt.Fprintf(&b, "Direction: %s\n", tb.Direction(i))
	for _, t := range tb.Tags(i) {
		fmt.Fprintf(&b, "Tag: %s (%s)\n", t.Name, strings.ToLower(t.Direction.String()))
	}
	fmt.Fprintf(&b, "Sessions: %s (%s never answered)\n", thousandsU(tb.Sessions(i)), thousandsU(tb.Unanswered(i)))
	if f := &v.view.Filter; f.Timed() {
		fmt.Fprintf(&b, "Sessions in %s: %s\n", timeRange(f.Since, f.Until), thousandsU(v.view.sessions(i)))
	}
	origPkts, origBytes, replyPkts, replyBytes := tb.Counters(i)
	fmt.Fprintf(&b, "Sent: %s, %s · Received: %s, %s\n", plural64(origPkts, "packet"),
		export.HumanBytes(origBytes), plural64(replyPkts, "packet"), export.HumanBytes(replyBytes))
	fmt.Fprintf(&b, "Seen: %s → %s\n", when(tb.First(i)), when(tb.Last(i)))
	fmt.Fprintf(&b, "Actions: %s\n", FlowCell(tb, i, ColActions))
	fmt.Fprintf(&b, "Reported by: %s\n", strings.Join(tb.Hosts(i), ", "))
	if len(src.Groups)+len(dst.Groups) > 0 {
		fmt.Fprintf(&b, "Groups: %s → %s\n", strings.Join(src.Groups, ", "), strings.Join(dst.Groups, ", "))
	}
	if tb.Suspect(i) {
		b.WriteString("⚠ Never answered: a probable scan, or traffic to nowhere.\n")
	}
	b.WriteString(v.verdictDetail(row))
	v.detail.SetText(printable.Text(b.String()))
	start, step, vals := timeSeries(tb.Hourly(i), time.Hour, tb.First(i), tb.Last(i))
	v.hourly.SetData(start, step, vals)
	v.evidence.SetText(printable.Text(strings.Join(tb.Samples(i), "\n"))) // one read of the workspace
}

// The view's share of a policy check (checkView): a Verdict column and
// a verdict filter.

// newVerdictSelect is the Flows view's verdict filter.
func (v *flowsView) newVerdictSelect() *widget.Select {
	s := widget.NewSelect(verdictChoices, func(string) { v.fromSelects() })
	s.PlaceHolder = "Any verdict"
	return s
}

// verdictOf returns what the check says of conversation i of the flows'
// snapshot, and whether it would break; ok is false without a check of it.
func (v *flowsView) verdictOf(i int) (o policy.Outcome, breaks, ok bool) {
	st := v.check.state
	if st == nil || !sameConvs(st.snap, v.snap) || i >= len(st.breaks) {
		return 0, false, false
	}
	return st.x.Result.Verdicts[i].Outcome, st.breaks[i], true
}

// verdictCell renders the Verdict column of row.
func (v *flowsView) verdictCell(row int) string {
	o, breaks, ok := v.verdictOf(int(v.view.Rows[row]))
	switch {
	case !ok:
		return ""
	case breaks:
		return o.String() + " ⚠"
	}
	return o.String()
}

// verdictFunc returns the filter's view of the current check.
func (v *flowsView) verdictFunc() func(i int) (string, bool) {
	return func(i int) (string, bool) {
		o, breaks, ok := v.verdictOf(i)
		if !ok {
			return "", false
		}
		return o.String(), breaks
	}
}

// checkChanged follows a new check (or its removal): the filter sees the
// new verdicts, and the table shows them.
func (v *flowsView) checkChanged() {
	v.filter.Verdicts = v.verdictFunc()
	if v.filter.Verdict != "" || v.sortCol == ColVerdict {
		v.refresh()
		return
	}
	v.table.Refresh()
}

// verdictDetail is the details pane's line on the checked policy's verdict
// of row ("" without a check).
func (v *flowsView) verdictDetail(row int) string {
	i := int(v.view.Rows[row])
	if _, _, ok := v.verdictOf(i); !ok {
		return ""
	}
	st := v.check.state
	vd := &st.x.Result.Verdicts[i]
	s := "Checked policy: " + vd.Why + "\n"
	if st.breaks[i] {
		s = "⚠ " + s
	}
	if vd.Uncertain != "" {
		s += "Uncertain: " + vd.Uncertain + "\n"
	}
	return s
}

// copyView copies the view's rows (at most copyLimit) as CSV.
func (v *flowsView) copyView() {
	view := v.view
	if view == nil {
		return
	}
	v.sh.status.SetText(fmt.Sprintf("Preparing the copy of %s…", plural(min(view.Len(), copyLimit), "conversation")))
	v.sh.background(func() {
		b, n := flowsCSV(view, copyLimit)
		v.sh.do(func() {
			v.sh.app.Clipboard().SetContent(string(b))
			msg := fmt.Sprintf("Copied %s as CSV.", plural(min(n, copyLimit), "conversation"))
			if n > copyLimit {
				msg += fmt.Sprintf(" (%s more: use Export view.)", thousands(n-copyLimit))
			}
			v.sh.status.SetText(msg)
		})
	})
}

// exportView asks for a file and writes the view's rows to it as CSV.
func (v *flowsView) exportView() {
	view := v.view
	if view == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			v.sh.showError(err)
			return
		}
		path := w.URI().Path()
		w.Close()
		v.sh.setStatus(fmt.Sprintf("Writing %s to %s…", plural(view.Len(), "conversation"), path))
		v.sh.background(func() {
			err := export.WriteFile(path, func(bw *bufio.Writer) error { return export.WriteFlowsCSV(bw, view.Convs, view.Rows) })
			if err != nil {
				v.sh.showError(err)
				return
			}
			v.sh.setStatus(fmt.Sprintf("Wrote %s to %s", plural(view.Len(), "conversation"), path))
		})
	}, v.sh.win)
	d.SetFileName("flows.csv")
	d.Show()
}
