package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/export"
)

// TestTableCellsEscaped: a table cell quoting log text shows its escape
// sequences and bidirectional overrides as visible escapes.
func TestTableCellsEscaped(t *testing.T) {
	test.NewTempApp(t)
	evil := "Evil\x1b[2J\u202eop"
	tb := newDataTable([]string{"Tag"}, []float32{100}, func() int { return 1 }, func(int, int) string { return evil })
	o := tb.CreateCell()
	tb.UpdateCell(widget.TableCellID{Row: 0, Col: 0}, o)
	if l := cellLabel(o); strings.ContainsAny(l.Text, "\x1b\u202e") || !strings.Contains(l.Text, `\x1b[2J`) {
		t.Errorf("cell %q", l.Text)
	}
}

// evilTag is an NSX tag that retitles a terminal and reverses what follows.
const evilTag = "SGTS\x1b]0;pwn\x07WEB\u202eX"

// unsafeText reports whether s holds what printable escapes.
func unsafeText(s string) bool { return strings.ContainsAny(s, "\x1b\x07\u202e") }

// TestLogTextEscapedInTheApp: a workspace whose logs name a hostile tag
// (and a rule renamed to hostile text) shows it escaped in every view, the
// Check view, the charts, the tag selects, the filter chips, the Edits tab,
// the export preview and the export-finished dialog; the tag selects still
// filter by the tag itself.
func TestLogTextEscapedInTheApp(t *testing.T) {
	dir := t.TempDir()
	clean, _ := demoLog(t, dir, "nsxv", 1500)
	data, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "evil.log")
	if err := os.WriteFile(log, []byte(strings.ReplaceAll(string(data), "SGTSWEB", evilTag)), 0o644); err != nil {
		t.Fatal(err)
	}
	u, w := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	onUI(func() { u.sources.importFiles([]string{log}) })
	u.Wait()
	settle(t, u)
	rule := u.Project().Snapshot().Rules.Rules[0].ID
	onUI(func() {
		u.rules.run(func(ctx context.Context, p *Project) (*Snapshot, error) {
			return p.Edit(ctx, rules.Edit{Op: rules.EditRename, Rule: rule, Arg: "web\x1b[2J\u202eallow"})
		})
	})
	settle(t, u)
	checkNow(t, u, "allow", exportNSX(t, u))

	var shown []string
	look := func(where string, objs ...fyne.CanvasObject) {
		for _, o := range objs {
			for _, tx := range texts(o) {
				if unsafeText(tx.Text) {
					t.Errorf("%s shows %q", where, tx.Text)
				}
				shown = append(shown, tx.Text)
			}
		}
	}
	onUI(func() {
		for _, sel := range []*struct {
			name string
			opts []string
		}{{"overview tags", u.overview.tagSel.Options}, {"flows tags", u.flows.tagSel.Options}} {
			for _, o := range sel.opts {
				if unsafeText(o) {
					t.Errorf("%s offer %q", sel.name, o)
				}
			}
		}
		u.overview.tagSel.SetSelected(tagOption(evilTag))
		u.flows.tagSel.SetSelected(tagOption(evilTag))
	})
	settle(t, u)
	if u.overview.tag != evilTag || u.flows.filter.Tag != evilTag || u.flows.view.Len() == 0 {
		t.Fatalf("the escaped option chose tag %q (overview) and %q (flows: %d rows)", u.overview.tag,
			u.flows.filter.Tag, u.flows.view.Len())
	}
	onUI(func() {
		u.flows.table.selectRow(0)
		u.rules.table.selectRow(0)
		u.rules.sub.SelectIndex(2) // Edits
		u.export.targets[1].check.SetChecked(true)
		u.export.which.SetSelected(u.export.which.Options[0])
	})
	settle(t, u)
	for _, tab := range []string{"Overview", "Flows", "Rules", "Check", "Export", "Sources"} {
		onUI(func() { u.selectTab(tab, false) })
		settle(t, u)
		onUI(func() { look(tab, w.Content()) })
	}
	onUI(func() {
		showExportDone(u.shell, dir, export.Result{Written: []string{filepath.Join(dir, "nsx-"+evilTag+".json")},
			Losses:      export.Losses{{Format: "NSX", Losses: []export.Loss{{RuleName: "rule of " + evilTag, Reason: "no service"}}}},
			NSXExternal: []string{"/infra/domains/default/groups/" + evilTag}})
		look("the export-finished dialog", w.Canvas().Overlays().Top())
	})
	all := strings.Join(shown, "\n")
	for _, want := range []string{`SGTS\x1b]0;pwn\x07WEB\u202eX`, `web\x1b[2J\u202eallow`} {
		if !strings.Contains(all, want) {
			t.Errorf("nothing shows %q escaped", want)
		}
	}
}
