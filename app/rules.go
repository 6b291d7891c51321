package app

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
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
	sh      *shell
	check   *checkView // its verdicts, when a policy is checked
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
	debounce   debounce      // the knobs'
	// onRules is called after a re-synthesis is shown, for tests.
	onRules func(*Snapshot)
}

// Rule table columns: the deliverable's first, with exactly its headers
// (the XLSX Rules sheet's), then what a checked policy does to each rule's
// traffic (checkView.ruleVerdict; empty without a check), then the rest.
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

func newRulesView(sh *shell, check *checkView) *rulesView {
	v := &rulesView{sh: sh, check: check, selected: -1, debounce: debounce{sh: sh}}
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
		return v.check.ruleVerdict(v.snap, &v.snap.Rules.Rules[v.order[row]])
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
			c = strings.Compare(v.check.ruleVerdict(v.snap, &rules[a]), v.check.ruleVerdict(v.snap, &rules[b]))
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
	if t := v.check.ruleVerdict(v.snap, r); t != "" {
		fmt.Fprintf(&b, "Checked policy: %s\n", t)
	}
	b.WriteString("\n")
	for n, i := range e.Rows {
		if n == 50 {
			fmt.Fprintf(&b, "… and %s more\n", plural(len(e.Rows)-n, "conversation"))
			break
		}
		t, row := v.snap.Rules.Table, int(i)
		fmt.Fprintf(&b, "%s → %s %s: %s\n", withVM(t.Src(row), t.SrcVM(row).VM), withVM(t.Dst(row), t.DstVM(row).VM),
			services.Label(t.Proto(row), t.DPort(row)), plural64(t.Sessions(row), "session"))
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
	v.summary.SetText("Synthesising…")
	v.debounce.arm(250*time.Millisecond, func() {
		v.run(func(ctx context.Context, p *Project) (*Snapshot, error) {
			s, err := p.SetKnobs(ctx, k)
			if err == nil {
				saveKnobs(v.sh.app.Preferences(), p.Path(), k) // the workspace opens with them next time
			}
			return s, err
		})
	})
}

// run does project work in the background and shows the new rules.
func (v *rulesView) run(fn func(context.Context, *Project) (*Snapshot, error)) {
	p := v.sh.Project()
	if p == nil {
		return
	}
	v.sh.background(func() {
		s, err := fn(v.sh.ctx, p)
		if s != nil {
			v.sh.do(func() { v.sh.showNewRules(s) })
		}
		v.sh.showError(err)
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
		v.sh.showErrorNow(err)
		return
	}
	k := v.snap.Knobs
	k.Focus = focus
	v.summary.SetText("Synthesising…")
	v.run(func(ctx context.Context, p *Project) (*Snapshot, error) { return p.SetKnobs(ctx, k) })
}

// colRuleCheck is the Rules table's column of the check, right after the
// deliverable's five (rules.go).
const colRuleCheck = rcCheck

// checkChanged follows a new check (or its removal): with a check, the
// Checked policy column stays in view beside the Description where the
// width allows it (1920 px; at 1280 the Description keeps the width, and
// the column is the first reached by scrolling).
func (v *rulesView) checkChanged(checked bool) {
	keep := 0
	if checked {
		keep = 1
	}
	v.table.keepAfterFlex(keep)
	v.table.Refresh()
}

// edit records an edit of the selected rule.
func (v *rulesView) edit(op rules.EditOp, arg string) {
	if v.selected < 0 && op != rules.EditExclude {
		dialog.ShowInformation("No rule selected", "Select a rule in the table first.", v.sh.win)
		return
	}
	e := rules.Edit{Op: op, Arg: arg}
	if op != rules.EditExclude {
		e.Rule = v.snap.Rules.Rules[v.selected].ID
	}
	v.run(func(ctx context.Context, p *Project) (*Snapshot, error) { return p.Edit(ctx, e) })
}

// formDialog shows a one-field form, wide enough for its entry, that Enter
// in the entry submits (when valid).
func (v *rulesView) formDialog(title, confirm, label string, field fyne.CanvasObject, entry *widget.Entry, done func()) *dialog.FormDialog {
	d := dialog.NewForm(title, confirm, "Cancel", []*widget.FormItem{widget.NewFormItem(label, field)}, func(ok bool) {
		if ok {
			done()
		}
	}, v.sh.win)
	if entry != nil {
		entry.OnSubmitted = func(string) { d.Submit() }
	}
	d.Resize(fyne.NewSize(dialogWidth, d.MinSize().Height))
	d.Show()
	if entry != nil {
		v.sh.win.Canvas().Focus(entry)
	}
	return d
}

// askText asks for a name or description of the selected rule; it returns
// the dialog and its entry (nil when no rule is selected).
func (v *rulesView) askText(title, label string, op rules.EditOp) (*dialog.FormDialog, *widget.Entry) {
	if v.selected < 0 {
		v.edit(op, "") // explains
		return nil, nil
	}
	r := &v.snap.Rules.Rules[v.selected]
	entry := widget.NewEntry()
	entry.SetText(r.Name)
	if op == rules.EditDescribe {
		entry.SetText(r.Description)
	}
	entry.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("say something")
		}
		return nil
	}
	d := v.formDialog(title, "Save", label, entry, entry, func() { v.edit(op, strings.TrimSpace(entry.Text)) })
	return d, entry
}

// askDelete asks before deleting the selected rule; the Edits tab can undo
// it too.
func (v *rulesView) askDelete() {
	if v.selected < 0 {
		v.edit(rules.EditDelete, "") // explains
		return
	}
	r := &v.snap.Rules.Rules[v.selected]
	msg := fmt.Sprintf("Delete the rule %s?\nIts %s go to the Review list. Undo it in the Edits tab.",
		ruleLabel(r), plural(r.Evidence.Conversations, "conversation"))
	d := dialog.NewConfirm("Delete rule", printable.Text(msg), func(ok bool) {
		if ok {
			v.edit(rules.EditDelete, "")
		}
	}, v.sh.win)
	d.SetConfirmText("Delete")
	d.SetDismissText("Cancel")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

// askMerge asks which rule to fold into the selected one.
func (v *rulesView) askMerge() {
	if v.selected < 0 {
		v.edit(rules.EditMerge, "")
		return
	}
	r := &v.snap.Rules.Rules[v.selected]
	var names, ids []string
	for _, o := range v.snap.Rules.Rules {
		if o.ID != r.ID && o.Service.Proto == r.Service.Proto {
			names = append(names, printable.Field(o.Name+" — "+o.Service.Label()))
			ids = append(ids, o.ID)
		}
	}
	if len(names) == 0 {
		dialog.ShowInformation("Merge", "No other rule has the same protocol.", v.sh.win)
		return
	}
	sel := widget.NewSelect(names, nil)
	v.formDialog("Merge into "+printable.Field(r.Name), "Merge", "Rule", sel, nil, func() {
		if sel.SelectedIndex() >= 0 {
			v.edit(rules.EditMerge, ids[sel.SelectedIndex()])
		}
	})
}

// askExclude asks for a peer to keep out of every rule.
func (v *rulesView) askExclude() (*dialog.FormDialog, *widget.Entry) {
	entry := widget.NewEntry()
	entry.SetPlaceHolder("10.1.2.3 or 10.1.2.0/24")
	entry.Validator = func(s string) error {
		_, err := analysis.ParsePeer(strings.TrimSpace(s))
		return err
	}
	d := v.formDialog("Exclude a peer from every rule", "Exclude", "Address or CIDR", entry, entry, func() {
		v.edit(rules.EditExclude, strings.TrimSpace(entry.Text))
	})
	return d, entry
}
