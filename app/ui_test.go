package app

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// demoLog writes a demo log of vendor and returns its path and true rows.
func demoLog(t testing.TB, dir, vendor string, sessions int) (string, []demo.Row) {
	t.Helper()
	path := filepath.Join(dir, vendor+".log")
	var rows []demo.Row
	err := export.WriteFile(path, func(w *bufio.Writer) (err error) {
		rows, _, err = demo.Generate(w, demo.Config{Vendor: vendor, Sessions: sessions, Seed: 7})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return path, rows
}

// newTestUI opens a UI on the workspace at path under the test driver.
func newTestUI(t testing.TB, path string) (*UI, fyne.Window) {
	t.Helper()
	u, w := startTestUI(t, path, nil)
	u.Wait()
	return u, w
}

// startTestUI opens a UI on the workspace at path under the test driver,
// with before, when not nil, called with the UI before it starts, and
// returns without waiting for the loads it started.
func startTestUI(t testing.TB, path string, before func(*UI)) (*UI, fyne.Window) {
	t.Helper()
	a := newSerialApp(t)
	a.Settings().SetTheme(lightTheme())
	w := test.NewTempWindow(t, nil)
	u := New(a, w, Options{Version: "test"})
	w.SetContent(u.Content())
	w.Resize(fyne.NewSize(1280, 800))
	t.Cleanup(u.Shutdown)
	if before != nil {
		before(u)
	}
	u.Start(path)
	return u, w
}

func TestImportFillsOverviewAndFlows(t *testing.T) {
	dir := t.TempDir()
	log, rows := demoLog(t, dir, "nsxv", 1500)
	u, _ := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	if n := u.flows.table.rows(); n != 0 {
		t.Fatalf("empty workspace shows %d flows", n)
	}
	var mu sync.Mutex
	var results []workspace.FileResult
	u.sources.onDone = func(r []workspace.FileResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("import: %v", err)
		}
		results = append(results, r...)
	}
	onUI(func() { u.sources.importFiles([]string{log}) })
	u.Wait()
	settle(t, u)
	if len(results) != 1 || results[0].Outcome != workspace.Imported || results[0].Stats.Malformed != 0 {
		t.Fatalf("import results %+v", results)
	}
	if got := u.flows.view.Len(); got != len(rows) {
		t.Errorf("flow table shows %d conversations, the demo made %d", got, len(rows))
	}
	if got := u.sources.table.rows(); got != 1 {
		t.Errorf("sources table shows %d rows, want 1", got)
	}
	// The overview holds every NSX tag of the demo, and its chart shows
	// them as the overview orders them (largest first).
	snap := u.Project().Snapshot()
	var tags []string
	for _, tt := range snap.Overview.Tags {
		tags = append(tags, tt.Name)
	}
	for _, want := range []string{"SGTSWEB", "SGTSAPP", "SGTSDB"} {
		if !slices.Contains(tags, want) {
			t.Errorf("overview lacks tag %s (has %v)", want, tags)
		}
	}
	if got := u.overview.tagRow[:min(len(tags), len(u.overview.tagRow))]; !slices.Equal(got, tags) {
		t.Errorf("overview chart's bars %v, want the overview's tags %v", u.overview.tagRow, tags)
	}
	if !strings.Contains(u.title.Text, thousands(len(rows))+" conversations") {
		t.Errorf("title %q does not count %d conversations", u.title.Text, len(rows))
	}
	// Importing the same file again reads nothing.
	results = nil
	onUI(func() { u.sources.importFiles([]string{log}) })
	u.Wait()
	if len(results) != 1 || results[0].Outcome != workspace.Already {
		t.Errorf("second import: %+v", results)
	}
}

// demoUI opens a UI on a fresh demo workspace.
func demoUI(t *testing.T) *UI {
	t.Helper()
	path, err := EnsureDemo(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := newTestUI(t, path)
	settle(t, u)
	if u.flows.view == nil || u.flows.view.Len() == 0 {
		t.Fatal("demo workspace shows no flows")
	}
	return u
}

func TestClickBarFiltersFlows(t *testing.T) {
	u := demoUI(t)
	row := slices.Index(u.overview.tagRow, "SGTSWEB")
	if row < 0 {
		t.Fatalf("no SGTSWEB bar in %v", u.overview.tagRow)
	}
	// A real tap on the canvas, where the inbound segment was drawn.
	onUI(func() {
		bars := u.overview.tags
		pos, ok := bars.SegmentCentre(row, 0)
		if !ok {
			t.Fatal("the SGTSWEB inbound segment was not drawn")
		}
		abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(bars)
		test.TapCanvas(u.win.Canvas(), abs.Add(pos))
	})
	settle(t, u)
	if u.tabs.Selected().Text != "Flows" {
		t.Errorf("the click showed %q, not the flows", u.tabs.Selected().Text)
	}
	v := u.flows.view
	want := 0
	convs := u.Project().Snapshot().Convs
	for i := range convs.Len() {
		if slices.Contains(convs.Tags(i), analysis.Tag{Name: "SGTSWEB", Direction: ingest.DirInbound}) {
			want++
		}
	}
	if v.Len() != want || want == 0 {
		t.Fatalf("filtered table has %d rows, want %d", v.Len(), want)
	}
	for i := range v.Len() {
		if !slices.Contains(v.At(i).Tags, analysis.Tag{Name: "SGTSWEB", Direction: ingest.DirInbound}) {
			t.Fatalf("row %d is not inbound SGTSWEB: %+v", i, v.At(i).Tags)
		}
	}
	if chips := u.flows.chips.Objects; len(chips) != 2 {
		t.Errorf("want chips for tag and direction, got %d", len(chips))
	}
	// Clearing the filters shows everything again.
	onUI(func() { u.flows.setFilter(FlowFilter{}) })
	settle(t, u)
	if got := u.flows.view.Len(); got != u.Project().Snapshot().Convs.Len() {
		t.Errorf("after clearing: %d rows", got)
	}
}

func TestSortAndTextFilter(t *testing.T) {
	u := demoUI(t)
	onUI(func() { u.flows.table.SortBy(ColSessions) }) // numbers sort largest first
	settle(t, u)
	v := u.flows.view
	for i := 1; i < v.Len(); i++ {
		if v.At(i-1).Sessions < v.At(i).Sessions {
			t.Fatalf("row %d has %d sessions after %d: not descending", i, v.At(i).Sessions, v.At(i-1).Sessions)
		}
	}
	if !strings.HasSuffix(u.flows.table.headers[ColSessions]+u.flows.table.arrow(ColSessions), "▼") {
		t.Error("the Sessions header shows no descending arrow")
	}
	onUI(func() { u.flows.table.SortBy(ColSessions) }) // again: ascending
	settle(t, u)
	v = u.flows.view
	if v.At(0).Sessions > v.At(v.Len()-1).Sessions {
		t.Error("second tap did not reverse the order")
	}
	onUI(func() { test.Type(u.flows.search, "10.20.30.31") })
	settle(t, u)
	v = u.flows.view
	if v.Len() == 0 {
		t.Fatal("text filter found nothing")
	}
	for i := range v.Len() {
		if c := v.At(i); c.Src.String() != "10.20.30.31" && c.Dst.String() != "10.20.30.31" {
			t.Fatalf("row %d (%v → %v) does not match the filter", i, c.Src, c.Dst)
		}
	}
}

func TestEditRulePersists(t *testing.T) {
	u := demoUI(t)
	r := u.rules
	if len(r.order) == 0 {
		t.Fatal("no rules")
	}
	id := r.snap.Rules.Rules[r.order[0]].ID
	onUI(func() {
		r.selectRule(r.order[0])
		r.edit(rules.EditRename, "Web to DNS")
	})
	u.Wait()
	idx := slices.IndexFunc(r.snap.Rules.Rules, func(x rules.Rule) bool { return x.ID == id })
	if idx < 0 || r.snap.Rules.Rules[idx].Name != "Web to DNS" {
		t.Fatalf("rule %s not renamed", id)
	}
	if len(r.snap.Edits) != 1 || !r.snap.Edits[0].Applied {
		t.Fatalf("edits %+v", r.snap.Edits)
	}
	// The edit is in the workspace: a fresh synthesis replays it.
	ws := u.Project().Workspace()
	t0, err := ws.Table(context.Background(), workspace.Query{})
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := ws.Synthesize(context.Background(), t0, rules.Knobs{})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(rs.Rules, func(x rules.Rule) bool { return x.ID == id }); i < 0 || rs.Rules[i].Name != "Web to DNS" {
		t.Error("the rename did not persist in the workspace")
	}
	// Deleting moves the rule's conversations to review; undo brings it back.
	before := len(r.snap.Rules.Review)
	onUI(func() {
		r.selectRule(idx)
		r.edit(rules.EditDelete, "")
	})
	u.Wait()
	if len(r.snap.Rules.Review) <= before || slices.ContainsFunc(r.snap.Rules.Rules, func(x rules.Rule) bool { return x.ID == id }) {
		t.Error("delete left the rule in place")
	}
	seq := r.snap.Edits[1].Edit.Seq
	onUI(func() {
		r.run(func(ctx context.Context, p *Project) (*Snapshot, error) { return p.Unedit(ctx, seq) })
	})
	u.Wait()
	if !slices.ContainsFunc(r.snap.Rules.Rules, func(x rules.Rule) bool { return x.ID == id }) {
		t.Error("undo did not bring the rule back")
	}
}

func TestKnobsResynthesise(t *testing.T) {
	u := demoUI(t)
	r := u.rules
	before := len(r.snap.Rules.Rules)
	onUI(func() { r.anyPeers.slider.SetValue(1) }) // every service with more than one peer becomes Any
	settle(t, u)
	if r.snap.Knobs.AnyPeers != 1 || r.snap.Rules.Knobs.AnyPeers != 1 {
		t.Fatalf("knob not applied: %+v", r.snap.Knobs)
	}
	if after := len(r.snap.Rules.Rules); after >= before {
		t.Errorf("AnyPeers=1 gave %d rules, not fewer than %d", after, before)
	}
	if !strings.Contains(r.summary.Text, "rules") {
		t.Errorf("summary %q", r.summary.Text)
	}
	// The knobs are kept: the workspace opens with them next time.
	path := u.Project().Path()
	w := test.NewTempWindow(t, nil)
	next := New(u.app, w, Options{Version: "test"})
	w.SetContent(next.Content())
	t.Cleanup(next.Shutdown)
	u.Shutdown()
	next.Start(path)
	next.Wait()
	if k := next.rules.snap.Rules.Knobs; k.AnyPeers != 1 || next.rules.anyPeers.get() != 1 || len(next.rules.snap.Rules.Rules) >= before {
		t.Errorf("reopened with knobs %+v (slider %d), %d rules", k, next.rules.anyPeers.get(), len(next.rules.snap.Rules.Rules))
	}
}

func TestExportWritesFiles(t *testing.T) {
	u := demoUI(t)
	e := u.export
	out := t.TempDir()
	onUI(func() {
		e.dir.SetText(out)
		for _, tg := range e.targets {
			tg.check.SetChecked(true)
		}
		e.which.SetSelected("NSX Policy API JSON")
		// The body renders in the background: while the UI goroutine is
		// busy, the preview says so.
		if e.preview.Text != "Preparing the preview…" {
			t.Errorf("the preview was rendered on the UI goroutine: %q", e.preview.Text[:min(200, len(e.preview.Text))])
		}
	})
	u.Wait()
	if !strings.Contains(e.plan.Text, filepath.Join(out, "nsx-policy.json")) {
		t.Errorf("plan does not list the NSX file:\n%s", e.plan.Text)
	}
	if !strings.Contains(e.preview.Text, `"resource_type"`) {
		t.Errorf("NSX preview shows %q", e.preview.Text[:min(200, len(e.preview.Text))])
	}
	var written []string
	done := make(chan error, 1)
	e.onDone = func(w []string, err error) { written = w; done <- err }
	onUI(func() { test.Tap(e.button) })
	u.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{"rules.xlsx", "csv/rules.csv", "csv/flows.csv", "csv/review.csv", "nutanix-v3.json", "nutanix-v4.json",
		"nutanix-v4.json.extids.csv", "nsx-policy.json"}
	if len(written) != len(want) {
		t.Errorf("wrote %v", written)
	}
	for _, name := range want {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", name, err, len(b))
			continue
		}
		if strings.HasSuffix(name, ".json") && !json.Valid(b) {
			t.Errorf("%s is not valid JSON", name)
		}
	}
}

func TestExportToUnwritablePlaceFails(t *testing.T) {
	u := demoUI(t)
	e := u.export
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, []byte("x"), 0o644)
	onUI(func() { e.dir.SetText(filepath.Join(blocker, "sub")) }) // a directory inside a file
	done := make(chan error, 1)
	e.onDone = func(_ []string, err error) { done <- err }
	onUI(func() { test.Tap(e.button) })
	u.Wait()
	if err := <-done; err == nil {
		t.Fatal("export into a file's subdirectory succeeded")
	}
	if !strings.HasPrefix(u.status.Text, "Error:") {
		t.Errorf("status %q does not report the error", u.status.Text)
	}
}

func TestDemoWhenNoWorkspace(t *testing.T) {
	a := newSerialApp(t)
	w := test.NewTempWindow(t, nil)
	dir := t.TempDir()
	u := New(a, w, Options{DemoDir: dir, DefaultWorkspace: filepath.Join(dir, "none.flowsleuth")})
	w.SetContent(u.Content())
	t.Cleanup(u.Shutdown)
	u.Start("")
	u.Wait()
	settle(t, u)
	p := u.Project()
	if p == nil || p.Path() != filepath.Join(dir, "demo.flowsleuth") {
		t.Fatalf("opened %v, not the demo", p)
	}
	if n := p.Snapshot().Convs.Len(); n < 100 {
		t.Errorf("demo has %d conversations", n)
	}
	if len(u.banner.Objects) == 0 {
		t.Error("no banner says this is the demo")
	}
	if a.Preferences().String(prefWorkspace) != "" {
		t.Error("the demo was remembered as the user's workspace")
	}
}

func TestTimeRangeFilter(t *testing.T) {
	u := demoUI(t)
	onUI(func() {
		u.flows.from.SetText("2025-04-08")
		u.flows.to.SetText("2025-04-08 06:00")
	})
	settle(t, u)
	since := time.Date(2025, 4, 8, 0, 0, 0, 0, time.UTC)
	until := since.Add(6 * time.Hour)
	v := u.flows.view
	if v.Len() == 0 || v.Len() == v.Convs.Len() {
		t.Fatalf("time range kept %d of %d conversations", v.Len(), v.Convs.Len())
	}
	for i := range v.Len() {
		if sessionsIn(v.Convs, int(v.Rows[i]), since, until) == 0 {
			t.Fatalf("row %d has no session in the range", i)
		}
	}
	onUI(func() { u.flows.to.SetText("not a date") }) // ignored until corrected
	settle(t, u)
	if u.flows.view.Len() != v.Len() || u.flows.to.Validate() == nil {
		t.Error("an invalid bound changed the view or passed validation")
	}
}

func TestShortcutsAndTheme(t *testing.T) {
	u := demoUI(t)
	sc := u.win.Canvas().(fyne.Shortcutable)
	onUI(func() {
		sc.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault})
	})
	if got := u.tabs.Selected().Text; got != "Export" {
		t.Errorf("Ctrl+E showed %q", got)
	}
	onUI(func() {
		sc.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault})
	})
	if got := u.tabs.Selected().Text; got != "Flows" || u.win.Canvas().Focused() != u.flows.search {
		t.Errorf("Ctrl+F showed %q, focus %v", got, u.win.Canvas().Focused())
	}
	// The menu shows the shortcuts, and ticks the theme in use.
	shortcuts := map[string]string{}
	for _, m := range u.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.Shortcut != nil {
				shortcuts[it.Label] = string(it.Shortcut.(*desktop.CustomShortcut).KeyName)
			}
		}
	}
	if shortcuts["Import logs…"] != "O" || shortcuts["Export…"] != "E" || shortcuts["Filter the flows"] != "F" {
		t.Errorf("menu shortcuts %v", shortcuts)
	}
	checked := func() (out []string) {
		for name, it := range u.themeItems {
			if it.Checked {
				out = append(out, name)
			}
		}
		return out
	}
	if c := checked(); len(c) != 1 || c[0] != "system" {
		t.Errorf("before a choice, the menu ticks %v", c)
	}
	onUI(func() { u.setTheme("dark") })
	if c := checked(); len(c) != 1 || c[0] != "dark" {
		t.Errorf("after choosing dark, the menu ticks %v", c)
	}
	if u.app.Preferences().String(prefTheme) != "dark" || u.app.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantLight) !=
		theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark) {
		t.Error("dark theme not applied or not remembered")
	}
	u.win.Resize(fyne.NewSize(1000, 700))
	u.RememberSize()
	if s := WindowSize(u.app); s.Width != 1000 || s.Height != 700 {
		t.Errorf("remembered size %v", s)
	}
}

func TestInventoryAndMonitored(t *testing.T) {
	u := demoUI(t)
	inv := filepath.Join(t.TempDir(), "vms.csv")
	os.WriteFile(inv, []byte("name,ip,tags\nweb-01,10.20.10.11,AppTier:Web\ndb-01,10.20.30.31,AppTier:DB\n"), 0o644)
	onUI(func() { importInventory(u.shell, inv) })
	u.Wait()
	settle(t, u)
	named := 0
	tb := u.Project().Snapshot().Convs
	for i := range tb.Len() {
		if c := analysistest.Row(tb, i); c.DstVM == "web-01" || c.SrcVM == "web-01" {
			named++
		}
	}
	if named == 0 {
		t.Fatal("no conversation names web-01 after the inventory import")
	}
	if !strings.Contains(u.status.Text, "2 VMs") {
		t.Errorf("status %q", u.status.Text)
	}
	if ps, err := analysis.ParsePeers("10.20.0.0/16, 10.30.0.1\n::1"); err != nil || len(ps) != 3 {
		t.Errorf("parsePrefixes: %v %v", ps, err)
	}
	if _, err := analysis.ParsePeers("10.20.0.0/16 nonsense"); err == nil {
		t.Error("parsePrefixes accepted nonsense")
	}
}
