package app

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// dialogButtons returns the buttons of the dialog on top of the window.
func dialogButtons(w fyne.Window) map[string]*widget.Button {
	out := map[string]*widget.Button{}
	top := w.Canvas().Overlays().Top()
	if top == nil {
		return out
	}
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			out[x.Text] = x
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(top)
	return out
}

// TestRenameWithEnter: the Rename entry is wide, Enter saves, and the
// renamed rule stays selected; the Edits tab says what was done in words.
func TestRenameWithEnter(t *testing.T) {
	u := demoUI(t)
	r := u.rules
	onUI(func() { r.table.selectRow(3) })
	id := r.snap.Rules.Rules[r.selected].ID
	var entry *widget.Entry
	onUI(func() {
		_, entry = r.askText("Rename rule", "Name", rules.EditRename)
	})
	if w := entry.Size().Width; w < 400 {
		t.Errorf("the Rename entry is %.0f px wide", w)
	}
	onUI(func() {
		entry.SetText("")
		test.Type(entry, "Backup to the app tier")
		entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	})
	u.Wait()
	i := slices.IndexFunc(r.snap.Rules.Rules, func(x rules.Rule) bool { return x.ID == id })
	if i < 0 || r.snap.Rules.Rules[i].Name != "Backup to the app tier" {
		t.Fatalf("Enter did not save the name (rule %s)", id)
	}
	if r.selectedID != id || r.table.Selected() < 0 || r.snap.Rules.Rules[r.order[r.table.Selected()]].ID != id {
		t.Errorf("the edit cleared the selection (row %d, selected %q)", r.table.Selected(), r.selectedID)
	}
	text := editText(r.snap.Edits[0], &r.snap.Rules)
	if !strings.HasPrefix(text, "Named ") || !strings.Contains(text, "“Backup to the app tier”") || strings.Contains(text, "r-") {
		t.Errorf("the Edits tab says %q", text)
	}
}

// TestDeleteAsks: Delete asks first; Cancel keeps the rule, Delete removes
// it, and the Edits tab names what was deleted.
func TestDeleteAsks(t *testing.T) {
	u := demoUI(t)
	r := u.rules
	onUI(func() { r.table.selectRow(0) })
	id := r.snap.Rules.Rules[r.selected].ID
	n := len(r.snap.Rules.Rules)
	onUI(r.askDelete)
	var b map[string]*widget.Button
	onUI(func() { b = dialogButtons(u.win) })
	if b["Delete"] == nil || b["Cancel"] == nil {
		t.Fatalf("Delete asked nothing (buttons %v)", b)
	}
	onUI(func() { test.Tap(b["Cancel"]) })
	u.Wait()
	if len(r.snap.Rules.Rules) != n {
		t.Fatal("Cancel deleted the rule")
	}
	onUI(r.askDelete)
	onUI(func() { test.Tap(dialogButtons(u.win)["Delete"]) })
	u.Wait()
	if slices.ContainsFunc(r.snap.Rules.Rules, func(x rules.Rule) bool { return x.ID == id }) {
		t.Fatal("the confirmed delete left the rule")
	}
	text := editText(r.snap.Edits[0], &r.snap.Rules)
	if !strings.HasPrefix(text, "Deleted the rule for ") || !strings.Contains(text, "(its conversations are in Review)") {
		t.Errorf("the Edits tab says %q", text)
	}
}

// TestEditTextOfDeletedRule: a rename of a rule deleted since still says
// which rule, by the conversations it had.
func TestEditTextOfDeletedRule(t *testing.T) {
	u := demoUI(t)
	r := u.rules
	onUI(func() { r.table.selectRow(0) })
	onUI(func() { r.edit(rules.EditRename, "Backup") })
	u.Wait()
	onUI(func() { r.edit(rules.EditDelete, "") })
	u.Wait()
	if n := len(r.snap.Edits); n != 2 {
		t.Fatalf("%d edits", n)
	}
	if text := editText(r.snap.Edits[0], &r.snap.Rules); !strings.HasPrefix(text, "Named the rule for ") || strings.Contains(text, "r-") {
		t.Errorf("the rename of the deleted rule reads %q", text)
	}
}

// TestRulesSortAddresses: sources sort as numbers, as in Flows
// (10.10.0.9 before 10.10.0.10), not as text.
func TestRulesSortAddresses(t *testing.T) {
	ep := func(a string) rules.Endpoint {
		p := netip.MustParsePrefix(a + "/32")
		return rules.Endpoint{Name: a, Kind: rules.KindAddresses, Prefixes: []netip.Prefix{p}}
	}
	list := []rules.Rule{{Src: ep("10.10.0.10")}, {Src: ep("10.10.0.9")}, {Src: rules.Endpoint{Name: "Any", Kind: rules.KindAny}},
		{Src: rules.Endpoint{Name: "SGTSWEB", Kind: rules.KindGroup, Group: "SGTSWEB"}}, {Src: ep("9.1.1.1")}}
	slices.SortStableFunc(list, func(a, b rules.Rule) int { return compareRules(&a, &b, rcSource) })
	var got []string
	for _, r := range list {
		got = append(got, r.Src.Name)
	}
	if want := "SGTSWEB 9.1.1.1 10.10.0.9 10.10.0.10 Any"; strings.Join(got, " ") != want {
		t.Errorf("sorted %v, want %s", got, want)
	}
}

// TestReviewGroups: one scanner's many ports to one host are one row.
func TestReviewGroups(t *testing.T) {
	scanner, web := netip.MustParseAddr("203.0.113.66"), netip.MustParseAddr("10.20.10.11")
	var items []rules.ReviewItem
	var convs []analysistest.Conversation
	for p := uint16(1); p <= 60; p++ {
		items = append(items, rules.ReviewItem{Reason: "port scan: 60 unanswered ports of 10.20.10.11 from 203.0.113.66",
			Row: int32(len(convs))})
		convs = append(convs, analysistest.Conversation{Src: scanner, Dst: web, Proto: 6, DPort: p, Sessions: 1})
	}
	items = append(items, rules.ReviewItem{Reason: "only seen dropped", Row: int32(len(convs))})
	convs = append(convs, analysistest.Conversation{Src: web, Dst: scanner, Proto: 17, DPort: 53, Sessions: 2})
	g := groupReview(analysistest.Table(convs), items)
	if len(g) != 2 {
		t.Fatalf("%d rows, want 2", len(g))
	}
	if s := g[1].service(); !strings.HasPrefix(s, "60 TCP ports: 1, 2, 3") || g[1].sessions != 60 {
		t.Errorf("scan row: %q, %d sessions", s, g[1].sessions)
	}
	if s := g[0].service(); s != "DNS (53/udp)" {
		t.Errorf("single row: %q", s)
	}
}
