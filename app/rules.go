package app

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/services"
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
	focus       *widget.Entry
	summary     *widget.Label
	table       *dataTable
	review      *dataTable
	edits       *widget.List
	evidence    *widget.Label
	samples     *widget.Label
	sub         *container.AppTabs

	// UI goroutine only.
	snap       *Snapshot
	order      []int         // rule indices in display order
	selected   int           // index into snap.Rules.Rules, or -1
	selectedID string        // its ID: the selection survives edits and knob changes
	groups     []reviewGroup // the review list, one row per source, destination and reason
	settling   bool          // while show sets the knobs
	debounce   *time.Timer

	pendingMu sync.Mutex
	pending   rules.Knobs // the knobs the debounce timer applies
	// onRules is called after a re-synthesis is shown, for tests.
	onRules func(*Snapshot)
}

// Rule table columns: the deliverable's first, with exactly its headers
// (the XLSX Rules sheet's), then what a checked policy does to each rule's
// traffic (check_rules.go; empty without a check), then the rest.
const (
	rcSource = iota
	rcDestination
	rcProtocol
	rcPorts
	rcDescription
	rcCheck
	rcName
	rcDirection
	rcSessions
)

var ruleHeaders = []string{"Source", "Destination", "Protocol", "Destination Port", "Description", "Checked policy",
	"Name", "Direction", "Sessions"}
var ruleSamples = []string{"HTTPS alternate clients", "HTTPS alternate clients", "ICMPv6", "8000-8080, 8443", "",
	"⚠ 12 would block of 345", "SGTSWEB to 10.10.0.10, 10.10.0.11 DNS", "OUTBOUND", "1,234,567"}
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
	v.focus = widget.NewEntry()
	v.focus.SetPlaceHolder("addresses, CIDRs or VMs")
	v.focus.OnSubmitted = func(string) { v.focusChanged() }
	v.summary = widget.NewLabel("")
	v.summary.Wrapping = fyne.TextWrapWord
	v.summary.TextStyle.Bold = true
	knobs := container.NewVBox(
		widget.NewLabelWithStyle("Generalisation", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		v.collapseMin.box, v.coverage.box, v.anyPeers.box, v.scanPorts.box, v.suspect,
		widget.NewLabelWithStyle("Focus", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.focus,
		focusHint())

	v.table = newDataTable(ruleHeaders, columnWidths(ruleHeaders, ruleSamples),
		func() int { return len(v.order) }, v.ruleCell)
	v.table.setFlex(rcDescription, 280) // the rest of the width: the deliverable's columns need no scrolling
	v.table.onSort = func(col int, desc bool) { v.sortRules(col, desc); v.table.Refresh() }
	v.table.onSelect = func(row int) {
		if row < 0 || row >= len(v.order) {
			v.selectRule(-1)
			return
		}
		v.selectRule(v.order[row])
	}
	v.review = newDataTable(reviewHeaders, []float32{170, 170, 260, 90, 380},
		func() int { return len(v.groups) }, v.reviewCell)
	v.review.setFlex(4, 300) // the reason takes the rest of the width
	v.edits = widget.NewList(func() int {
		if v.snap == nil {
			return 0
		}
		return len(v.snap.Edits)
	}, func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), nil), l)
	}, v.updateEdit)

	actions := container.NewHBox(
		widget.NewButtonWithIcon("Rename…", theme.DocumentCreateIcon(), func() { v.askText("Rename rule", "Name", rules.EditRename) }),
		widget.NewButtonWithIcon("Describe…", theme.DocumentCreateIcon(), func() {
			v.askText("Describe rule", "Description", rules.EditDescribe)
		}),
		widget.NewButtonWithIcon("Merge into…", theme.ContentAddIcon(), v.askMerge),
		widget.NewButtonWithIcon("Split", theme.ContentCutIcon(), func() { v.edit(rules.EditSplit, "") }),
		widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), v.askDelete),
		widget.NewButtonWithIcon("Exclude peer…", theme.VisibilityOffIcon(), func() { v.askExclude() }),
	)
	v.evidence = widget.NewLabel(noRuleSelected)
	v.evidence.Wrapping = fyne.TextWrapWord
	var samples fyne.CanvasObject
	v.samples, samples = rawText()
	details := container.NewHSplit(container.NewVScroll(v.evidence), panel("Sample lines", samples))
	details.Offset = 0.5
	// The evidence goes below the table, so that the table has the width.
	split := container.NewVSplit(v.table, details)
	split.Offset = 0.6
	rulesPane := container.NewBorder(container.NewVBox(v.summary, actions), nil, nil, nil, split)
	v.sub = container.NewAppTabs(
		container.NewTabItem("Rules", rulesPane),
		container.NewTabItem("Review", v.review),
		container.NewTabItem("Edits", v.edits),
	)
	left := container.NewVScroll(knobs)
	left.SetMinSize(fyne.NewSize(230, 0))
	v.content = container.NewBorder(nil, nil, left, nil, v.sub)
	return v
}

// noRuleSelected is the evidence pane with no rule selected.
const noRuleSelected = "Select a rule (click it, or use the arrow keys) to see its full description and evidence."

// updateEdit fills row i of the Edits list: what the edit did, in words.
func (v *rulesView) updateEdit(i widget.ListItemID, o fyne.CanvasObject) {
	if v.snap == nil || i >= len(v.snap.Edits) {
		return
	}
	r := v.snap.Edits[i]
	c := o.(*fyne.Container)
	c.Objects[0].(*widget.Label).SetText(printable.Text(editText(r, &v.snap.Rules)))
	seq := r.Edit.Seq
	c.Objects[1].(*widget.Button).OnTapped = func() {
		v.run(func(ctx context.Context, p *Project) (*Snapshot, error) { return p.Unedit(ctx, seq) })
	}
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
		v.summary.SetText(fmt.Sprintf("Synthesising rules from %s…", plural(s.Convs.Len(), "conversation")))
	} else {
		v.summary.SetText(fmt.Sprintf("%s · %s to review · %s outside the scope · the rules admit %s never seen, for %s observed",
			plural(len(rs.Rules), "rule"), plural(len(rs.Review), "conversation"), thousands(len(rs.Outside)),
			plural64(rs.Permissiveness, "(source, destination, port) combination"), thousandsU(rs.Observed)))
	}
	v.order = v.order[:0]
	for i := range rs.Rules {
		v.order = append(v.order, i)
	}
	if v.table.sortCol >= 0 {
		v.sortRules(v.table.sortCol, v.table.desc)
	}
	// The review list, then the conversations outside the scope: one row
	// per source, destination, protocol and reason each.
	v.groups = append(groupReview(rs.Table, rs.Review), groupReview(rs.Table, rs.Outside)...)
	v.sub.Items[1].Text = "Review (" + thousands(len(rs.Review)+len(rs.Outside)) + ")"
	v.sub.Items[2].Text = "Edits (" + thousands(len(s.Edits)) + ")"
	v.sub.Refresh()
	v.reselect()
	v.review.Refresh()
	v.edits.Refresh()
	if v.onRules != nil {
		v.onRules(s)
	}
}

// reselect selects the rule that was selected before new rules came (an
// edit, a knob change, new data), or clears the selection when it is gone.
func (v *rulesView) reselect() {
	row := slices.IndexFunc(v.order, func(i int) bool { return v.snap.Rules.Rules[i].ID == v.selectedID })
	v.table.SelectRow(row)
	v.table.Refresh()
	if row < 0 {
		v.selectRule(-1)
		return
	}
	v.table.ScrollTo(widget.TableCellID{Row: row, Col: v.table.focusCol})
	v.selectRule(v.order[row])
}

func (v *rulesView) ruleCell(row, col int) string {
	if col == colRuleCheck {
		return v.u.check.ruleVerdict(v.snap, &v.snap.Rules.Rules[v.order[row]])
	}
	return ruleText(&v.snap.Rules.Rules[v.order[row]], col)
}

// ruleText renders column col of the rule table.
func ruleText(r *rules.Rule, col int) string {
	switch col {
	case rcName:
		return r.Name
	case rcSource:
		return r.Src.Name
	case rcDestination:
		return r.Dst.Name
	case rcProtocol:
		return ingest.ProtoName(r.Service.Proto)
	case rcPorts:
		return r.Service.PortList()
	case rcDirection:
		return r.Direction.String()
	case rcSessions:
		return thousandsU(r.Evidence.Sessions)
	case rcDescription:
		return r.Description
	}
	return ""
}

func (v *rulesView) sortRules(col int, desc bool) {
	rules := v.snap.Rules.Rules
	slices.SortStableFunc(v.order, func(a, b int) int {
		var c int
		if col == rcCheck { // the check's words: what it blocks (⚠…) after what it allows
			c = strings.Compare(v.u.check.ruleVerdict(v.snap, &rules[a]), v.u.check.ruleVerdict(v.snap, &rules[b]))
		} else {
			c = compareRules(&rules[a], &rules[b], col)
		}
		if desc {
			return -c
		}
		return c
	})
}

// compareRules orders two rules by column col: addresses numerically (as
// the flow table does), ports by number, the rest as text.
func compareRules(a, b *rules.Rule, col int) int {
	switch col {
	case rcSource:
		return compareEndpoints(&a.Src, &b.Src)
	case rcDestination:
		return compareEndpoints(&a.Dst, &b.Dst)
	case rcProtocol:
		return cmp.Compare(a.Service.Proto, b.Service.Proto)
	case rcPorts:
		return cmp.Or(slices.CompareFunc(a.Service.Ports, b.Service.Ports, func(x, y rules.PortRange) int {
			return cmp.Or(cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To))
		}), cmp.Compare(a.Service.Proto, b.Service.Proto))
	case rcDirection:
		return cmp.Compare(a.Direction, b.Direction)
	case rcSessions:
		return cmp.Compare(a.Evidence.Sessions, b.Evidence.Sessions)
	}
	return strings.Compare(ruleText(a, col), ruleText(b, col))
}

// compareEndpoints puts groups first (by name), then addresses (by their
// prefixes, numerically), then Any.
func compareEndpoints(a, b *rules.Endpoint) int {
	rank := func(e *rules.Endpoint) int {
		switch e.Kind {
		case rules.KindGroup:
			return 0
		case rules.KindAddresses:
			return 1
		}
		return 2
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 || a.Kind != rules.KindAddresses {
		return cmp.Or(c, strings.Compare(a.Name, b.Name))
	}
	return slices.CompareFunc(a.Prefixes, b.Prefixes, func(x, y netip.Prefix) int {
		return cmp.Or(x.Addr().Compare(y.Addr()), cmp.Compare(x.Bits(), y.Bits()))
	})
}

func (v *rulesView) reviewCell(row, col int) string {
	return v.groups[row].cell(col)
}

// selectRule shows rule i's evidence (-1: none).
func (v *rulesView) selectRule(i int) {
	v.selected = i
	if i < 0 || i >= len(v.snap.Rules.Rules) {
		v.selected, v.selectedID = -1, ""
		v.evidence.SetText(noRuleSelected)
		v.samples.SetText("")
		return
	}
	r := &v.snap.Rules.Rules[i]
	v.selectedID = r.ID
	e := &r.Evidence
	var b strings.Builder
	fmt.Fprintf(&b, "%s  (%s)\n%s\n\n", r.Name, r.ID, r.Description)
	fmt.Fprintf(&b, "%s → %s, %s, %s\n", r.Src.Name, r.Dst.Name, r.Service.Label(), strings.ToLower(r.Direction.String()))
	fmt.Fprintf(&b, "Evidence: %s, %s, %s, %s\n", plural(e.Conversations, "conversation"),
		plural64(e.Sessions, "session"), plural64(e.Packets, "packet"), export.HumanBytes(e.Bytes))
	fmt.Fprintf(&b, "Seen %s → %s, reported by %s\n", when(e.First), when(e.Last), strings.Join(e.Hosts, ", "))
	if t := v.u.check.ruleVerdict(v.snap, r); t != "" { // check_rules.go
		fmt.Fprintf(&b, "Checked policy: %s\n", t)
	}
	b.WriteString("\n")
	for n, i := range e.Rows {
		if n == 50 {
			fmt.Fprintf(&b, "… and %s more\n", plural(len(e.Rows)-n, "conversation"))
			break
		}
		c := v.snap.Rules.Table.Conv(int(i))
		fmt.Fprintf(&b, "%s → %s %s: %s\n", withVM(c.Src, c.SrcVM), withVM(c.Dst, c.DstVM),
			services.Label(c.Proto, c.DPort), plural64(c.Sessions, "session"))
	}
	v.evidence.SetText(printable.Text(b.String()))
	v.samples.SetText(printable.Text(strings.Join(v.snap.Rules.Samples(r), "\n"))) // read from the workspace
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
		v.run(func(ctx context.Context, p *Project) (*Snapshot, error) {
			s, err := p.SetKnobs(ctx, k)
			if err == nil {
				saveKnobs(v.u.app.Preferences(), p.Path(), k) // the workspace opens with them next time
			}
			return s, err
		})
	})
}

// run does project work in the background and shows the new rules.
func (v *rulesView) run(fn func(context.Context, *Project) (*Snapshot, error)) {
	p := v.u.Project()
	if p == nil {
		return
	}
	v.u.background(func() {
		s, err := fn(v.u.ctx, p)
		if s != nil {
			v.u.do(func() { v.u.showRules(s) })
		}
		v.u.showError(err)
	})
}

// focusHint explains the focus field.
func focusHint() fyne.CanvasObject {
	l := widget.NewLabel("Only traffic to or from these, named after their VM or address (Enter applies; empty: the monitored set)")
	l.Wrapping = fyne.TextWrapWord
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// focusChanged re-synthesises with the focus typed in, VM names resolved
// through the conversations' inventory names.
func (v *rulesView) focusChanged() {
	if v.snap == nil {
		return
	}
	vms := map[string][]netip.Addr{}
	t := v.snap.Convs
	add := func(label int, a netip.Addr) {
		if vm := strings.ToLower(t.VMLabelOf(label).VM); vm != "" && !slices.Contains(vms[vm], a) {
			vms[vm] = append(vms[vm], a)
		}
	}
	for i := range t.Len() {
		if l := t.SrcLabel(i); l != 0 {
			add(l, t.Src(i))
		}
		if l := t.DstLabel(i); l != 0 {
			add(l, t.Dst(i))
		}
	}
	focus, err := analysis.ParseFocus(v.focus.Text, func(name string) []netip.Addr { return vms[strings.ToLower(name)] })
	if err != nil {
		v.u.showErrorNow(err)
		return
	}
	k := v.snap.Knobs
	k.Focus = focus
	v.summary.SetText("Synthesising…")
	v.run(func(ctx context.Context, p *Project) (*Snapshot, error) { return p.SetKnobs(ctx, k) })
}
