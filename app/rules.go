package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// rulesView shows the synthesised rule base: the generalisation knobs with
// their trade-off, the rules, the review list, the edits, and the evidence
// of the selected rule.
type rulesView struct {
	u       *UI
	content fyne.CanvasObject

	collapseMin *knob
	coverage    *knob
	anyPeers    *knob
	scanPorts   *knob
	suspect     *widget.Check
	summary     *widget.Label
	table       *dataTable
	review      *dataTable
	edits       *widget.List
	evidence    *widget.Label
	samples     *widget.Entry
	sub         *container.AppTabs

	// UI goroutine only.
	snap     *Snapshot
	order    []int // rule indices in display order
	selected int   // index into snap.Rules.Rules, or -1
	settling bool  // while show sets the knobs
	debounce *time.Timer

	pendingMu sync.Mutex
	pending   analysis.Knobs // the knobs the debounce timer applies
	// onRules is called after a re-synthesis is shown, for tests.
	onRules func(*Snapshot)
}

var ruleHeaders = []string{"Name", "Source", "Destination", "Protocol", "Ports", "Direction", "Sessions", "Description"}
var reviewHeaders = []string{"Source", "Destination", "Service", "Sessions", "Reason"}

// knob is a labelled slider for one integer setting.
type knob struct {
	slider *widget.Slider
	value  *widget.Label
	box    fyne.CanvasObject
}

func newKnob(label, help string, lo, hi float64, onChange func()) *knob {
	k := &knob{slider: widget.NewSlider(lo, hi), value: widget.NewLabel("")}
	k.slider.Step = 1
	k.slider.OnChanged = func(f float64) {
		k.value.SetText(strconv.Itoa(int(f)))
		onChange()
	}
	title := widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	hint := widget.NewLabel(help)
	hint.Wrapping = fyne.TextWrapWord
	hint.SizeName = theme.SizeNameCaptionText
	k.box = container.NewVBox(container.NewBorder(nil, nil, title, k.value), k.slider, hint)
	return k
}

func (k *knob) set(v int) {
	k.slider.SetValue(float64(v))
	k.value.SetText(strconv.Itoa(v))
}

func (k *knob) get() int { return int(k.slider.Value) }

func newRulesView(u *UI) *rulesView {
	v := &rulesView{u: u, selected: -1}
	changed := func() { v.knobsChanged() }
	v.collapseMin = newKnob("Collapse peers", "into their /24 when at least this many hosts of it were seen", 1, 64, changed)
	v.coverage = newKnob("…covering at least (%)", "of the hosts using the same service there", 1, 100, changed)
	v.anyPeers = newKnob("Any above", "distinct peers on one service make that side Any", 1, 256, changed)
	v.scanPorts = newKnob("Port scan at", "unanswered ports of one host from one source", 2, 100, changed)
	v.suspect = widget.NewCheck("Make rules of suspect traffic too", func(bool) { changed() })
	v.summary = widget.NewLabel("")
	v.summary.Wrapping = fyne.TextWrapWord
	v.summary.TextStyle.Bold = true
	knobs := container.NewVBox(
		widget.NewLabelWithStyle("Generalisation", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		v.collapseMin.box, v.coverage.box, v.anyPeers.box, v.scanPorts.box, v.suspect)

	v.table = newDataTable(ruleHeaders, []float32{200, 170, 170, 70, 120, 90, 90, 420},
		func() int { return len(v.order) }, v.ruleCell)
	v.table.onSort = func(col int, desc bool) { v.sortRules(col, desc); v.table.Refresh() }
	v.table.onSelect = func(row int) { v.selectRule(v.order[row]) }
	v.review = newDataTable(reviewHeaders, []float32{170, 170, 150, 90, 380},
		func() int {
			if v.snap == nil {
				return 0
			}
			return len(v.snap.Rules.Review)
		}, v.reviewCell)
	v.edits = widget.NewList(func() int {
		if v.snap == nil {
			return 0
		}
		return len(v.snap.Edits)
	}, func() fyne.CanvasObject {
		return container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), nil), widget.NewLabel(""))
	}, func(i widget.ListItemID, o fyne.CanvasObject) {
		if v.snap == nil || i >= len(v.snap.Edits) {
			return
		}
		r := v.snap.Edits[i]
		c := o.(*fyne.Container)
		label := fmt.Sprintf("#%d %s %s %s", r.Edit.Seq, r.Edit.Op, r.Edit.Rule, r.Edit.Arg)
		if !r.Applied {
			label += " — no longer applies: " + r.Why
		}
		c.Objects[0].(*widget.Label).SetText(label)
		seq := r.Edit.Seq
		c.Objects[1].(*widget.Button).OnTapped = func() { v.run(func(ctx context.Context, p *Project) (*Snapshot, error) { return p.Unedit(ctx, seq) }) }
	})

	actions := container.NewHBox(
		widget.NewButtonWithIcon("Rename…", theme.DocumentCreateIcon(), func() { v.askText("Rename rule", "Name", analysis.EditRename) }),
		widget.NewButtonWithIcon("Describe…", theme.DocumentCreateIcon(), func() { v.askText("Describe rule", "Description", analysis.EditDescribe) }),
		widget.NewButtonWithIcon("Merge into…", theme.ContentAddIcon(), v.askMerge),
		widget.NewButtonWithIcon("Split", theme.ContentCutIcon(), func() { v.edit(analysis.EditSplit, "") }),
		widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), func() { v.edit(analysis.EditDelete, "") }),
		widget.NewButtonWithIcon("Exclude peer…", theme.VisibilityOffIcon(), v.askExclude),
	)
	v.evidence = widget.NewLabel("Select a rule to see its evidence.")
	v.evidence.Wrapping = fyne.TextWrapWord
	v.samples = widget.NewMultiLineEntry()
	v.samples.TextStyle.Monospace = true
	v.samples.Disable()
	evidence := container.NewVSplit(container.NewVScroll(v.evidence), panel("Sample lines", v.samples))
	split := container.NewHSplit(v.table, evidence)
	split.Offset = 0.7
	rulesPane := container.NewBorder(container.NewVBox(v.summary, actions), nil, nil, nil, split)
	v.sub = container.NewAppTabs(
		container.NewTabItem("Rules", rulesPane),
		container.NewTabItem("Review", v.review),
		container.NewTabItem("Edits", v.edits),
	)
	left := container.NewVScroll(knobs)
	left.SetMinSize(fyne.NewSize(260, 0))
	v.content = container.NewBorder(nil, nil, left, nil, v.sub)
	return v
}

func (v *rulesView) show(s *Snapshot) {
	v.snap = s
	k := s.Rules.Knobs
	v.settling = true
	v.collapseMin.set(k.CollapseMin)
	v.coverage.set(int(k.CollapseCoverage))
	v.anyPeers.set(k.AnyPeers)
	v.scanPorts.set(k.ScanPorts)
	v.suspect.SetChecked(k.IncludeSuspect)
	v.settling = false
	rs := &s.Rules
	if s.RulesPending {
		v.summary.SetText(fmt.Sprintf("Synthesising rules from %s conversations…", thousands(len(s.Convs))))
	} else {
		v.summary.SetText(fmt.Sprintf("%d rules · %d conversations to review · the rules admit %s (source, destination, port) combinations never seen, for %s observed",
			len(rs.Rules), len(rs.Review), thousandsU(rs.Permissiveness), thousandsU(rs.Observed)))
	}
	v.order = v.order[:0]
	for i := range rs.Rules {
		v.order = append(v.order, i)
	}
	if v.table.sortCol >= 0 {
		v.sortRules(v.table.sortCol, v.table.desc)
	}
	v.sub.Items[1].Text = fmt.Sprintf("Review (%d)", len(rs.Review))
	v.sub.Items[2].Text = fmt.Sprintf("Edits (%d)", len(s.Edits))
	v.sub.Refresh()
	v.selected = -1
	v.table.UnselectAll()
	v.table.Refresh()
	v.review.Refresh()
	v.edits.Refresh()
	v.evidence.SetText("Select a rule to see its evidence.")
	v.samples.SetText("")
	if v.onRules != nil {
		v.onRules(s)
	}
}

func (v *rulesView) ruleCell(row, col int) string {
	return ruleText(&v.snap.Rules.Rules[v.order[row]], col)
}

// ruleText renders column col of the rule table.
func ruleText(r *analysis.Rule, col int) string {
	switch col {
	case 0:
		return r.Name
	case 1:
		return r.Src.Name
	case 2:
		return r.Dst.Name
	case 3:
		return ingest.ProtoName(r.Service.Proto)
	case 4:
		return r.Service.PortList()
	case 5:
		return r.Direction.String()
	case 6:
		return thousandsU(r.Evidence.Sessions)
	case 7:
		return r.Description
	}
	return ""
}

func (v *rulesView) sortRules(col int, desc bool) {
	rules := v.snap.Rules.Rules
	slices.SortStableFunc(v.order, func(a, b int) int {
		var c int
		if col == 6 {
			c = cmp.Compare(rules[a].Evidence.Sessions, rules[b].Evidence.Sessions)
		} else {
			c = strings.Compare(ruleText(&rules[a], col), ruleText(&rules[b], col))
		}
		if desc {
			return -c
		}
		return c
	})
}

func (v *rulesView) reviewCell(row, col int) string {
	it := &v.snap.Rules.Review[row]
	c := &it.Conversation
	switch col {
	case 0:
		return withVM(c.Src, c.SrcVM)
	case 1:
		return withVM(c.Dst, c.DstVM)
	case 2:
		return analysis.ServiceLabel(c.Proto, analysis.ServicePort(c))
	case 3:
		return thousandsU(c.Sessions)
	case 4:
		return it.Reason
	}
	return ""
}

// selectRule shows rule i's evidence.
func (v *rulesView) selectRule(i int) {
	v.selected = i
	r := &v.snap.Rules.Rules[i]
	e := &r.Evidence
	var b strings.Builder
	fmt.Fprintf(&b, "%s  (%s)\n%s\n\n", r.Name, r.ID, r.Description)
	fmt.Fprintf(&b, "%s → %s, %s, %s\n", r.Src.Name, r.Dst.Name, r.Service.Label(), strings.ToLower(r.Direction.String()))
	fmt.Fprintf(&b, "Evidence: %s conversations, %s sessions, %s packets, %s\n", thousands(e.Conversations),
		thousandsU(e.Sessions), thousandsU(e.Packets), export.HumanBytes(e.Bytes))
	fmt.Fprintf(&b, "Seen %s → %s, reported by %s\n\n", when(e.First), when(e.Last), strings.Join(e.Hosts, ", "))
	for n, c := range e.Flows {
		if n == 50 {
			fmt.Fprintf(&b, "… and %d more conversations\n", len(e.Flows)-n)
			break
		}
		fmt.Fprintf(&b, "%s → %s %s: %s sessions\n", withVM(c.Src, c.SrcVM), withVM(c.Dst, c.DstVM),
			analysis.ServiceLabel(c.Proto, analysis.ServicePort(&c)), thousandsU(c.Sessions))
	}
	v.evidence.SetText(printable.Text(b.String()))
	v.samples.SetText(printable.Text(strings.Join(e.Samples, "\n")))
}

// knobsChanged re-synthesises after the knobs settle.
func (v *rulesView) knobsChanged() {
	if v.settling || v.snap == nil {
		return
	}
	k := v.snap.Knobs
	k.CollapseMin, k.AnyPeers, k.ScanPorts = v.collapseMin.get(), v.anyPeers.get(), v.scanPorts.get()
	k.CollapseCoverage = float64(v.coverage.get())
	k.IncludeSuspect = v.suspect.Checked
	if v.debounce != nil {
		v.debounce.Stop()
	}
	v.summary.SetText("Synthesising…")
	v.pendingMu.Lock()
	v.pending = k
	v.pendingMu.Unlock()
	v.debounce = time.AfterFunc(250*time.Millisecond, func() {
		v.pendingMu.Lock()
		k := v.pending
		v.pendingMu.Unlock()
		v.run(func(ctx context.Context, p *Project) (*Snapshot, error) { return p.SetKnobs(ctx, k) })
	})
}

// run does project work in the background and shows the new rules.
func (v *rulesView) run(fn func(context.Context, *Project) (*Snapshot, error)) {
	p := v.u.Project()
	if p == nil {
		return
	}
	v.u.background(func() {
		s, err := fn(context.Background(), p)
		if s != nil {
			v.u.do(func() { v.u.showRules(s) })
		}
		v.u.showError(err)
	})
}

// edit records an edit of the selected rule.
func (v *rulesView) edit(op analysis.EditOp, arg string) {
	if v.selected < 0 && op != analysis.EditExclude {
		dialog.ShowInformation("No rule selected", "Select a rule in the table first.", v.u.win)
		return
	}
	e := analysis.Edit{Op: op, Arg: arg}
	if op != analysis.EditExclude {
		e.Rule = v.snap.Rules.Rules[v.selected].ID
	}
	v.run(func(ctx context.Context, p *Project) (*Snapshot, error) { return p.Edit(ctx, e) })
}

// askText asks for a name or description of the selected rule.
func (v *rulesView) askText(title, label string, op analysis.EditOp) {
	if v.selected < 0 {
		v.edit(op, "") // explains
		return
	}
	r := &v.snap.Rules.Rules[v.selected]
	entry := widget.NewEntry()
	entry.SetText(r.Name)
	if op == analysis.EditDescribe {
		entry.SetText(r.Description)
	}
	dialog.ShowForm(title, "Save", "Cancel", []*widget.FormItem{widget.NewFormItem(label, entry)}, func(ok bool) {
		if ok && strings.TrimSpace(entry.Text) != "" {
			v.edit(op, strings.TrimSpace(entry.Text))
		}
	}, v.u.win)
}

// askMerge asks which rule to fold into the selected one.
func (v *rulesView) askMerge() {
	if v.selected < 0 {
		v.edit(analysis.EditMerge, "")
		return
	}
	r := &v.snap.Rules.Rules[v.selected]
	var names, ids []string
	for _, o := range v.snap.Rules.Rules {
		if o.ID != r.ID && o.Service.Proto == r.Service.Proto {
			names = append(names, o.Name+" — "+o.Service.Label())
			ids = append(ids, o.ID)
		}
	}
	if len(names) == 0 {
		dialog.ShowInformation("Merge", "No other rule has the same protocol.", v.u.win)
		return
	}
	sel := widget.NewSelect(names, nil)
	dialog.ShowForm("Merge into "+r.Name, "Merge", "Cancel", []*widget.FormItem{widget.NewFormItem("Rule", sel)}, func(ok bool) {
		if ok && sel.SelectedIndex() >= 0 {
			v.edit(analysis.EditMerge, ids[sel.SelectedIndex()])
		}
	}, v.u.win)
}

// askExclude asks for a peer to keep out of every rule.
func (v *rulesView) askExclude() {
	entry := widget.NewEntry()
	entry.SetPlaceHolder("10.1.2.3 or 10.1.2.0/24")
	entry.Validator = func(s string) error {
		_, err := analysis.ParsePeer(strings.TrimSpace(s))
		return err
	}
	dialog.ShowForm("Exclude a peer from every rule", "Exclude", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Address or CIDR", entry)}, func(ok bool) {
		if ok {
			v.edit(analysis.EditExclude, strings.TrimSpace(entry.Text))
		}
	}, v.u.win)
}
