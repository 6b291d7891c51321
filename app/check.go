package app

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// checkView replays the workspace's conversations against a policy file
// (flowsleuth check): the verdicts go to the Flows view (a column and a
// filter) and the Rules view (what the policy does to each rule's traffic);
// this view shows the summary, what would break, the policy's rules with
// their hits (unused ones highlighted), blocked traffic by tag, suspect
// traffic still admitted, rules wider than their evidence and what could
// not be resolved.
type checkView struct {
	sh      *shell
	content fyne.CanvasObject

	files   *widget.Label
	defSel  *widget.Select
	enable  *widget.Check
	summary *widget.Label
	tabs    *container.AppTabs
	broken  *dataTable
	rules   *dataTable
	tags    *dataTable
	suspect *dataTable
	wide    *dataTable
	diff    *dataTable
	probs   *widget.Label

	// UI goroutine only.
	policies, against              []string
	members, categories, nsxGroups string
	state                          *checkState
	gen                            atomic.Int64
	// onChange is called (on the UI goroutine) when the check shown
	// changes, with whether there is one: the Flows and Rules views show
	// its verdicts (UI.buildViews).
	onChange func(checked bool)
	// onCheck is called (on the UI goroutine) after each check is shown, for tests.
	onCheck func(*checkState)
}

// checkState is a check of one snapshot's conversations; immutable.
type checkState struct {
	snap     *Snapshot
	x        *export.WhatIf
	breaks   []bool // by conversation: would break (blocked or would block, outside review)
	diffRows []int
	rules    *ruleVerdicts // the Rules view's column, made when first asked
}

func newCheckView(sh *shell) *checkView {
	v := &checkView{sh: sh}
	v.files = widget.NewLabel("")
	v.files.Wrapping = fyne.TextWrapWord
	v.defSel = widget.NewSelect([]string{"allow", "drop"}, func(string) { v.rerun() })
	v.defSel.SetSelected("allow")
	v.enable = widget.NewCheck("Disabled NSX rules as if on", func(bool) { v.rerun() })
	v.summary = widget.NewLabel("Load a policy to replay the observed traffic against it: an NSX Policy API body or GET, " +
		"Nutanix Flow v3 or v4 bodies or GETs (the format is detected).")
	v.summary.Wrapping = fyne.TextWrapWord
	v.summary.TextStyle.Bold = true
	v.probs = widget.NewLabel("")
	v.probs.Wrapping = fyne.TextWrapWord
	v.buildTables()
	load := widget.NewButtonWithIcon("Load policy…", theme.FolderOpenIcon(), func() {
		v.sh.chooseFile([]string{".json"}, func(path string) { v.policies = append(v.policies, path); v.rerun() })
	})
	compare := widget.NewButtonWithIcon("Compare with…", theme.ContentCopyIcon(), func() {
		v.sh.chooseFile([]string{".json"}, func(path string) { v.against = append(v.against, path); v.rerun() })
	})
	clearBtn := widget.NewButtonWithIcon("Clear", theme.ContentClearIcon(), v.clear)
	members := widget.NewButton("Members…", func() {
		v.sh.chooseFile([]string{".csv"}, func(path string) { v.members = path; v.rerun() })
	})
	cats := widget.NewButton("Categories…", func() {
		v.sh.chooseFile([]string{".json"}, func(path string) { v.categories = path; v.rerun() })
	})
	groups := widget.NewButton("NSX groups…", func() {
		v.sh.chooseFile([]string{".csv"}, func(path string) { v.nsxGroups = path; v.rerun() })
	})
	show := widget.NewButtonWithIcon("Show in Flows", theme.ListIcon(), v.showInFlows)
	bar := container.NewBorder(nil, nil, nil, show, container.NewHBox(load, compare, clearBtn))
	options := container.NewHBox(members, cats, groups, widget.NewSeparator(), widget.NewLabel("NSX default rule:"), v.defSel, v.enable)
	top := container.NewVBox(bar, options, v.files, v.summary)
	v.content = container.NewBorder(top, nil, nil, nil, v.tabs)
	return v
}

// buildTables makes the result tables and their tabs.
func (v *checkView) buildTables() {
	rows := func(n func(x *export.WhatIf) int) func() int {
		return func() int {
			if v.state == nil {
				return 0
			}
			return n(v.state.x)
		}
	}
	v.broken = newDataTable([]string{"Source", "Destination", "Service", "Sessions", "Verdict", "Rule", "Point", "Why"},
		[]float32{210, 210, 90, 80, 90, 240, 220, 500}, rows(func(x *export.WhatIf) int { return len(x.Result.Report.Broken) }),
		func(row, col int) string { return v.convCell(v.state.x.Result.Report.Broken[row], col) })
	headers := []string{"Rule", "Policy", "File", "Action", "Conversations", "Sessions", "Status"}
	// The rule's name is what people read: as wide as the longest of the
	// demo's export, the status (the last column) taking what is left.
	v.rules = newDataTable(headers, columnWidths(headers, []string{"HTTPS alternate clients to AppTier:App HTTPS alternate (8443/tcp)",
		"FlowSleuth discovered policy", "nsx-policy.json", "ALLOW", "12,345", "1,234,567", ruleUnused}),
		rows(func(x *export.WhatIf) int { return len(x.Result.Program.Rules()) }), v.policyRuleCell)
	v.highlightUnused()
	v.tags = newDataTable([]string{"Tag", "Direction", "Verdict", "Conversations", "Sessions", "Bytes"},
		[]float32{220, 100, 100, 110, 100, 100}, rows(func(x *export.WhatIf) int { return len(x.Result.Report.ByTag) }), v.tagCell)
	v.suspect = newDataTable([]string{"Source", "Destination", "Service", "Sessions", "Verdict", "Rule", "Point", "Review"},
		[]float32{210, 210, 90, 80, 90, 240, 220, 360}, rows(func(x *export.WhatIf) int { return len(x.Result.Report.SuspectAdmitted) }),
		func(row, col int) string {
			i := v.state.x.Result.Report.SuspectAdmitted[row]
			if col == 7 {
				return v.state.x.Review[i]
			}
			return v.convCell(i, col)
		})
	v.wide = newDataTable([]string{"Rule", "Policy", "Admitted", "Seen"}, []float32{360, 260, 120, 100},
		rows(func(x *export.WhatIf) int { return len(x.Result.Report.Wide) }), v.wideCell)
	v.diff = newDataTable([]string{"Source", "Destination", "Service", "Sessions", "Verdict", "Rule", "Point", "Other policy"},
		[]float32{210, 210, 90, 80, 90, 240, 220, 200}, func() int {
			if v.state == nil {
				return 0
			}
			return len(v.state.diffRows)
		}, func(row, col int) string {
			i := v.state.diffRows[row]
			if col == 7 {
				o := &v.state.x.AgainstCheck.Verdicts[i]
				return o.Outcome.String() + " by " + o.Rule.Name
			}
			return v.convCell(i, col)
		})
	// The last column of each table takes the width the others leave.
	for _, t := range []*dataTable{v.broken, v.rules, v.tags, v.suspect, v.wide, v.diff} {
		last := len(t.headers) - 1
		t.setFlex(last, t.widths[last])
	}
	v.tabs = container.NewAppTabs(
		container.NewTabItem("Would break", v.broken),
		container.NewTabItem("Policy rules", v.rules),
		container.NewTabItem("Blocked by tag", v.tags),
		container.NewTabItem("Suspect admitted", v.suspect),
		container.NewTabItem("Wider than evidence", v.wide),
		container.NewTabItem("Compared", v.diff),
		container.NewTabItem("Unresolved", container.NewVScroll(v.probs)),
	)
}

// convCell renders column col of conversation i for the verdict tables.
func (v *checkView) convCell(i, col int) string {
	x := v.state.x
	t, vd := x.Convs, &x.Result.Verdicts[i]
	switch col {
	case 0:
		return withVM(t.Src(i), t.SrcVM(i).VM)
	case 1:
		return withVM(t.Dst(i), t.DstVM(i).VM)
	case 2:
		return services.Label(t.Proto(i), t.DPort(i))
	case 3:
		return thousandsU(t.Sessions(i))
	case 4:
		return vd.Outcome.String()
	case 5:
		return vd.Rule.Name
	case 6:
		return vd.Point
	case 7:
		return vd.Why
	}
	return ""
}

// policyRuleCell is a cell of the policy's rules and their hits.
func (v *checkView) policyRuleCell(row, col int) string {
	x := v.state.x
	r := x.Result.Program.Rules()[row]
	h := x.Result.Report.Hits[row]
	switch col {
	case 0:
		return cmpOr(r.Name, r.ID)
	case 1:
		return r.Policy
	case 2:
		return filepath.Base(r.File)
	case 3:
		return r.Action
	case 4:
		return thousands(h.Conversations)
	case 5:
		return thousandsU(h.Sessions)
	case 6:
		return ruleStatus(r, h)
	}
	return ""
}

// ruleUnused is the status of a rule that matched nothing (in the danger
// colour; the tab's title counts them).
const ruleUnused = "⚠ unused"

// ruleStatus says whether a rule matched nothing.
func ruleStatus(r policy.RuleRef, h policy.Totals) string {
	switch {
	case r.Implicit:
		return "implicit"
	case h.Conversations == 0:
		return ruleUnused
	}
	return ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// highlightUnused shows the unused rules of the policy in the danger colour.
func (v *checkView) highlightUnused() {
	update := v.rules.UpdateCell
	v.rules.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) {
		update(id, o)
		l := cellLabel(o)
		imp := widget.MediumImportance
		if v.state != nil && id.Row < len(v.state.x.Result.Report.Hits) {
			r := v.state.x.Result.Program.Rules()[id.Row]
			if !r.Implicit && v.state.x.Result.Report.Hits[id.Row].Conversations == 0 {
				imp = widget.DangerImportance
			}
		}
		if l.Importance != imp {
			l.Importance = imp
			l.Refresh()
		}
	}
}

func (v *checkView) tagCell(row, col int) string {
	t := &v.state.x.Result.Report.ByTag[row]
	switch col {
	case 0:
		return cmpOr(t.Tag, "(no tag)")
	case 1:
		return t.Direction.String()
	case 2:
		return t.Outcome.String()
	case 3:
		return thousands(t.Conversations)
	case 4:
		return thousandsU(t.Sessions)
	case 5:
		return export.HumanBytes(t.Bytes)
	}
	return ""
}

func (v *checkView) wideCell(row, col int) string {
	w := &v.state.x.Result.Report.Wide[row]
	switch col {
	case 0:
		return cmpOr(w.Rule.Name, w.Rule.ID)
	case 1:
		return w.Rule.Policy
	case 2:
		return thousandsU(w.Admitted)
	case 3:
		return thousandsU(w.Observed)
	}
	return ""
}

// show is called with every new snapshot: the check follows the data.
func (v *checkView) show(s *Snapshot) {
	if len(v.policies) > 0 && (v.state == nil || !sameConvs(v.state.snap, s)) {
		v.rerun()
	}
}

// sameConvs reports whether two snapshots hold the same conversations.
func sameConvs(a, b *Snapshot) bool {
	return a != nil && b != nil && a.Convs == b.Convs
}

func (v *checkView) clear() {
	v.policies, v.against, v.members, v.categories, v.nsxGroups = nil, nil, "", "", ""
	v.gen.Add(1)
	v.setState(nil)
	v.summary.SetText("Load a policy to replay the observed traffic against it.")
}

// rerun checks the current snapshot with the current settings, in the
// background; the latest request wins.
func (v *checkView) rerun() {
	p := v.sh.Project()
	v.showFiles()
	if p == nil || len(v.policies) == 0 {
		return
	}
	s := p.Snapshot()
	req := export.CheckRequest{Policies: v.policies, Against: v.against, Convs: s.Convs, Knobs: s.Knobs}
	req.Sources = policy.Sources{Learn: true, EnableDisabled: v.enable.Checked}
	if v.defSel.Selected == "drop" {
		req.Sources.Default = policy.Drop
	}
	members, cats, groups := v.members, v.categories, v.nsxGroups
	gen := v.gen.Add(1)
	v.summary.SetText(fmt.Sprintf("Checking %s conversations…", thousands(s.Convs.Len())))
	v.sh.background(func() {
		st, err := runCheck(p, s, req, members, cats, groups)
		v.sh.do(func() {
			if v.gen.Load() != gen {
				return
			}
			if err != nil {
				v.summary.SetText("Check failed: " + printable.Text(err.Error()))
				v.sh.showErrorNow(err)
				return
			}
			v.setState(st)
		})
	})
}

// runCheck runs a check off the UI goroutine: the workspace's inventory and
// exclusions, the side files, then export.RunCheck.
func runCheck(p *Project, s *Snapshot, req export.CheckRequest, members, cats, groups string) (*checkState, error) {
	ctx := context.Background()
	inv, err := p.Workspace().Inventory(ctx)
	if err != nil {
		return nil, err
	}
	req.Sources.VMs = policy.VMsOf(inv, func(e workspace.InvEntry) (netip.Addr, string, []string) { return e.IP, e.VM, e.Groups })
	if req.Knobs, _, err = p.Workspace().Knobs(ctx, req.Knobs); err != nil {
		return nil, err
	}
	if members != "" {
		if req.Sources.Members, err = policy.ReadMembersFile(members); err != nil {
			return nil, err
		}
	}
	if cats != "" {
		if req.Sources.CategoryIDs, err = policy.ReadCategoriesFile(cats); err != nil {
			return nil, err
		}
	}
	if groups != "" {
		if req.Sources.TagPaths, err = policy.ReadTagPathsFile(groups); err != nil {
			return nil, err
		}
	}
	x, err := export.RunCheck(req)
	if err != nil {
		return nil, err
	}
	st := &checkState{snap: s, x: x, breaks: make([]bool, s.Convs.Len())}
	for _, i := range x.Result.Report.Broken {
		st.breaks[i] = true
	}
	if x.Diff != nil {
		st.diffRows = append(append(st.diffRows, x.Diff.OnlyA...), x.Diff.OnlyB...)
	}
	return st, nil
}

// setState shows a check (nil: none) here, in Flows and in Rules.
func (v *checkView) setState(st *checkState) {
	v.state = st
	for _, t := range []*dataTable{v.broken, v.rules, v.tags, v.suspect, v.wide, v.diff} {
		t.UnselectAll()
		t.Refresh()
	}
	v.probs.SetText("")
	if st != nil {
		v.showSummary()
		if len(st.x.Result.Report.Broken) == 0 { // nothing breaks: show the policy's rules and their hits
			v.tabs.SelectIndex(1)
		} else {
			v.tabs.SelectIndex(0)
		}
	}
	if v.onChange != nil {
		v.onChange(st != nil)
	}
	if v.onCheck != nil {
		v.onCheck(st)
	}
}

// showSummary writes the totals and the result, and the tabs' counts.
func (v *checkView) showSummary() {
	x := v.state.x
	r := &x.Result.Report
	written := 0
	for _, rr := range x.Result.Program.Rules() {
		if !rr.Implicit {
			written++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s in force. Of %s: %s allowed, %s would block (monitor), %s blocked",
		plural(written, "rule"), plural(r.Total.Conversations, "conversation"), thousands(r.ByOutcome[policy.Allowed].Conversations),
		thousands(r.ByOutcome[policy.WouldBlock].Conversations), thousands(r.ByOutcome[policy.Blocked].Conversations))
	if n := r.InReview[policy.Blocked].Conversations + r.InReview[policy.WouldBlock].Conversations; n > 0 {
		fmt.Fprintf(&b, " (%s of them under review)", thousands(n))
	}
	if r.OK() {
		b.WriteString(". OK: no observed conversation outside review would be blocked.")
	} else {
		fmt.Fprintf(&b, ". %s outside review would be blocked.", plural(len(r.Broken), "observed conversation"))
	}
	v.summary.SetText(b.String())
	counts := []int{len(r.Broken), len(x.Result.Program.Rules()), len(r.ByTag), len(r.SuspectAdmitted), len(r.Wide), len(v.state.diffRows), len(r.Problems)}
	names := []string{"Would break", "Policy rules", "Blocked by tag", "Suspect admitted", "Wider than evidence", "Compared", "Unresolved"}
	for i, item := range v.tabs.Items {
		item.Text = fmt.Sprintf("%s (%s)", names[i], thousands(counts[i]))
	}
	if unused := len(r.Unused); unused > 0 {
		v.tabs.Items[1].Text = fmt.Sprintf("Policy rules (%s, %s unused)", thousands(counts[1]), thousands(unused))
	}
	v.tabs.Refresh()
	lines := append([]string{}, r.Problems...)
	lines = append(lines, r.Notes...)
	if len(lines) == 0 {
		lines = []string{"Every group, category and service the policy references was resolved."}
	}
	v.probs.SetText(printable.Text("• " + strings.Join(lines, "\n• "))) // names from the policy
}

// showFiles lists the files of the check.
func (v *checkView) showFiles() {
	base := func(ps []string) string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = filepath.Base(p)
		}
		return strings.Join(out, ", ")
	}
	parts := []string{"Policy: " + cmpOr(base(v.policies), "none")}
	if len(v.against) > 0 {
		parts = append(parts, "compared with: "+base(v.against))
	}
	for _, f := range []struct{ name, path string }{{"members", v.members}, {"categories", v.categories}, {"NSX groups", v.nsxGroups}} {
		if f.path != "" {
			parts = append(parts, f.name+": "+filepath.Base(f.path))
		}
	}
	v.files.SetText(printable.Field(strings.Join(parts, " · ")))
}

// showInFlows opens the Flows view on what would break (or, when nothing
// would, on what the policy blocks).
func (v *checkView) showInFlows() {
	if v.state == nil {
		return
	}
	verdict := verdictBreaks
	if len(v.state.x.Result.Report.Broken) == 0 {
		verdict = policy.Blocked.String()
	}
	v.sh.showFlows(FlowFilter{Verdict: verdict})
}

// whatIf returns the check of s for the workbook, or nil.
func (v *checkView) whatIf(s *Snapshot) *export.WhatIf {
	if v.state == nil || !sameConvs(v.state.snap, s) {
		return nil
	}
	return v.state.x
}

// addPolicies checks the policy files too, as Load policy would.
func (v *checkView) addPolicies(files []string) {
	v.policies = append(v.policies, files...)
	v.rerun()
}

// What the checked policy does to the conversations each synthesised rule
// was made from (the Rules view's column).

// ruleVerdicts answers the Rules view: each rule's text once computed.
type ruleVerdicts struct {
	text map[string]string // by rule ID
}

// ruleVerdict renders what the check of s says of rule r's conversations:
// "allowed", "2 blocked of 5", "" without a check.
func (v *checkView) ruleVerdict(s *Snapshot, r *rules.Rule) string {
	st := v.state
	if st == nil || !sameConvs(st.snap, s) {
		return ""
	}
	if st.rules == nil {
		st.rules = &ruleVerdicts{text: map[string]string{}}
	}
	if t, ok := st.rules.text[r.ID]; ok {
		return t
	}
	// The check and the rules are of the same table (sameConvs): the
	// evidence's rows are the verdicts' indices.
	var n [3]int
	for _, i := range r.Evidence.Rows {
		n[st.x.Result.Verdicts[i].Outcome]++
	}
	total := n[0] + n[1] + n[2]
	var parts []string
	for _, o := range []policy.Outcome{policy.Blocked, policy.WouldBlock} {
		if n[o] > 0 {
			parts = append(parts, thousands(n[o])+" "+o.String())
		}
	}
	t := "allowed"
	switch {
	case total == 0:
		t = ""
	case len(parts) > 0:
		t = "⚠ " + strings.Join(parts, ", ") + " of " + thousands(total)
	}
	st.rules.text[r.ID] = t
	return t
}
