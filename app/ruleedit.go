package app

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// dialogWidth is how wide the rule dialogs are: room for a long name or
// description in the entry.
const dialogWidth = 640

// edit records an edit of the selected rule.
func (v *rulesView) edit(op rules.EditOp, arg string) {
	if v.selected < 0 && op != rules.EditExclude {
		dialog.ShowInformation("No rule selected", "Select a rule in the table first.", v.u.win)
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
	}, v.u.win)
	if entry != nil {
		entry.OnSubmitted = func(string) { d.Submit() }
	}
	d.Resize(fyne.NewSize(dialogWidth, d.MinSize().Height))
	d.Show()
	if entry != nil {
		v.u.win.Canvas().Focus(entry)
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
	}, v.u.win)
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
		dialog.ShowInformation("Merge", "No other rule has the same protocol.", v.u.win)
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

// ruleLabel names a rule by what it admits: "SGTSWEB → 10.10.0.10 DNS (53/udp)".
func ruleLabel(r *rules.Rule) string {
	return r.Src.Name + " → " + r.Dst.Name + " " + r.Service.Label()
}

// editText says what an edit did, in words, from the rules it produced.
func editText(res rules.EditResult, rs *rules.Set) string {
	e := res.Edit
	rule := ruleName(e.Rule, rs)
	var text string
	switch e.Op {
	case rules.EditRename:
		text = fmt.Sprintf("Named %s “%s”", rule, e.Arg)
	case rules.EditDescribe:
		text = fmt.Sprintf("Described %s: “%s”", rule, e.Arg)
	case rules.EditDelete:
		text = "Deleted " + rule + " (its conversations are in Review)"
	case rules.EditMerge:
		text = fmt.Sprintf("Merged rule %s into %s", e.Arg, rule)
	case rules.EditSplit:
		text = splitText(e.Rule, rs)
	case rules.EditExclude:
		text = fmt.Sprintf("Kept %s out of every rule (its conversations are in Review)", e.Arg)
	default:
		text = fmt.Sprintf("%s %s %s", e.Op, e.Rule, e.Arg)
	}
	if !res.Applied {
		text += " — no longer applies: " + res.Why
	}
	return text
}

// ruleName names rule id for people: by what it admits, or, once deleted,
// by the conversations it had (which went to review), else by its ID.
func ruleName(id string, rs *rules.Set) string {
	if i := slices.IndexFunc(rs.Rules, func(r rules.Rule) bool { return r.ID == id }); i >= 0 {
		return ruleLabel(&rs.Rules[i])
	}
	return deletedRule(id, rs)
}

// deletedRule describes a deleted rule by the conversations it had, which
// the deletion sent to review.
func deletedRule(id string, rs *rules.Set) string {
	reason := "rule " + id + " deleted by the user"
	var first *analysis.Conversation
	n := 0
	for i := range rs.Review {
		if rs.Review[i].Reason == reason {
			if first == nil {
				c := rs.Item(rs.Review[i])
				first = &c
			}
			n++
		}
	}
	if first == nil {
		return "rule " + id
	}
	what := fmt.Sprintf("the rule for %s → %s %s", first.Src, first.Dst, services.Label(first.Proto, first.DPort))
	if n > 1 {
		what += fmt.Sprintf(" and %s more %s", thousands(n-1), nounFor(uint64(n-1), "conversation"))
	}
	return what
}

// splitText describes a split by the rules it made ("ID-ports").
func splitText(id string, rs *rules.Set) string {
	var parts []*rules.Rule
	for i := range rs.Rules {
		if strings.HasPrefix(rs.Rules[i].ID, id+"-") {
			parts = append(parts, &rs.Rules[i])
		}
	}
	if len(parts) == 0 {
		return "Split rule " + id + " into one rule per port range"
	}
	var ports []string
	for _, p := range parts {
		ports = append(ports, p.Service.PortList())
	}
	r := parts[0]
	return fmt.Sprintf("Split %s → %s %s into %s, one per port range (%s)", r.Src.Name, r.Dst.Name,
		strings.ToLower(ingest.ProtoName(r.Service.Proto)), plural(len(parts), "rule"), strings.Join(ports, ", "))
}

// reviewGroup is one row of the Review list: the suspect conversations of
// one source and destination with one reason (a scanner's many ports are
// one row).
type reviewGroup struct {
	src, dst     netip.Addr
	srcVM, dstVM string
	proto        uint8
	ports        []uint16 // sorted
	sessions     uint64
	reason       string
}

// groupReview groups review items (rows of t) by source, destination,
// protocol and reason, in the order of their first item.
func groupReview(t *analysis.Table, items []rules.ReviewItem) []reviewGroup {
	type key struct {
		src, dst netip.Addr
		proto    uint8
		reason   string
	}
	at := make(map[key]int)
	var out []reviewGroup
	for i := range items {
		conv := t.Conv(int(items[i].Row))
		c := &conv
		k := key{c.Src, c.Dst, c.Proto, items[i].Reason}
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, reviewGroup{src: c.Src, dst: c.Dst, srcVM: c.SrcVM, dstVM: c.DstVM, proto: c.Proto, reason: k.reason})
		}
		g := &out[j]
		g.sessions += c.Sessions
		if p := services.Port(c.Proto, c.DPort); !slices.Contains(g.ports, p) {
			g.ports = append(g.ports, p)
		}
	}
	for i := range out {
		slices.Sort(out[i].ports)
	}
	slices.SortStableFunc(out, func(a, b reviewGroup) int {
		return cmp.Or(a.src.Compare(b.src), a.dst.Compare(b.dst))
	})
	return out
}

// cell renders column col of the Review list.
func (g *reviewGroup) cell(col int) string {
	switch col {
	case 0:
		return withVM(g.src, g.srcVM)
	case 1:
		return withVM(g.dst, g.dstVM)
	case 2:
		return g.service()
	case 3:
		return thousandsU(g.sessions)
	case 4:
		return g.reason
	}
	return ""
}

// service is the group's service, or its ports: "HTTPS (443/tcp)", or
// "60 TCP ports: 21, 22, 23, 25 …".
func (g *reviewGroup) service() string {
	if len(g.ports) == 1 {
		return services.Label(g.proto, g.ports[0])
	}
	const show = 6
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s ports: ", len(g.ports), ingest.ProtoName(g.proto))
	for i, p := range g.ports {
		if i == show {
			b.WriteString(" …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(int(p)))
	}
	return b.String()
}
