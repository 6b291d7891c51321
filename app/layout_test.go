package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// minWidth is the width the window's content needs; the real driver grows
// the window to it, cutting every view off on the right of the screen.
func minWidth(u *UI) float32 {
	var w float32
	onUI(func() { w = u.Content().MinSize().Width })
	return w
}

// minHeight is the height the window's content needs (see minWidth).
func minHeight(u *UI) float32 {
	var h float32
	onUI(func() { h = u.Content().MinSize().Height })
	return h
}

// TestListenerKeepsWindowSize starts the listener in a 1280x800 window: no
// label it fills (the state line with the archive path, the counters) may
// make the content wider than the window.
func TestListenerKeepsWindowSize(t *testing.T) {
	dir := t.TempDir()
	u, w := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	if got := minWidth(u); got > 1280 {
		t.Fatalf("before listening the content needs %.0f px", got)
	}
	v := u.listener
	onUI(func() {
		u.SelectView("listener")
		v.udp.SetText("127.0.0.1:0")
		v.tcp.SetText("127.0.0.1:0")
		v.allow.SetText("127.0.0.1, 10.0.0.0/8, 192.168.100.0/24, 172.16.0.0/12, 2001:db8::/32")
		v.archive.SetText(filepath.Join(dir, "a-rather-long-archive-folder-name-that-goes-on-and-on", "archive-of-syslog-messages"))
		test.Tap(v.button)
	})
	waitSession(t, u)
	eventually(t, "a stats tick", func() bool { // the counters take their width
		var counters string
		onUI(func() { counters = v.counters.Text })
		return counters != ""
	})
	for _, view := range []string{"listener", "overview", "flows", "rules", "check", "sources", "export"} {
		onUI(func() { u.SelectView(view) })
		if got := minWidth(u); got > 1280 {
			t.Errorf("listening, the %s view needs %.0f px: the window would grow past 1280", view, got)
		}
		if got := minHeight(u); got > 800 {
			t.Errorf("listening, the %s view needs %.0f px of height", view, got)
		}
	}
	if s := w.Canvas().Size(); s.Width > 1280 {
		t.Errorf("the window grew to %v", s)
	}
}

// TestRulesColumns: the deliverable's columns come first with exactly its
// headers, and at 1280x800 all five show without scrolling, Description
// taking the rest of the width; the flow table shows direction through
// last seen.
func TestRulesAndFlowsColumns(t *testing.T) {
	u := demoUI(t)
	want := []string{"Source", "Destination", "Protocol", "Destination Port", "Description"}
	for i, h := range want {
		if got := u.rules.table.headers[i]; got != h {
			t.Errorf("rule column %d is %q, want %q", i, got, h)
		}
	}
	onUI(func() { u.SelectView("rules") })
	r := u.rules.table
	if n := visibleCols(r); n != len(want) {
		t.Errorf("at 1280x800 the rule table shows %d whole columns without scrolling, want %d (widths %v, table %v)",
			n, len(want), r.widths, r.Size())
	}
	if w := r.widths[rcDescription]; w < 300 {
		t.Errorf("Description is %v px wide", w)
	}
	onUI(func() { u.SelectView("flows") })
	if n := visibleCols(u.flows.table); n <= ColLast {
		t.Errorf("at 1280x800 the flow table shows %d whole columns (%v): direction to last seen need %d",
			n, u.flows.table.headers[:n], ColLast+1)
		t.Logf("widths %v table %v", u.flows.table.widths, u.flows.table.Size())
	}
	for _, c := range []int{ColDirection, ColSessions, ColBytes, ColFirst, ColLast} {
		if sample := flowSamples[c]; fyne.MeasureText(sample, 14, fyne.TextStyle{}).Width > u.flows.table.widths[c] {
			t.Errorf("column %s (%v px) is narrower than %q", flowHeaders[c], u.flows.table.widths[c], sample)
		}
	}
	// The demo's own cells are not cut: its inventory's VM names beside the
	// addresses, its IP sets' names.
	cellsFit(t, u.flows.table, ColDirection, ColLast)
	cellsFit(t, u.rules.table, rcSource, rcPorts)
}

// cellsFit reports the cells of columns first..last of table that are wider
// than their column (the label would cut them with "…").
func cellsFit(t *testing.T, table *dataTable, first, last int) {
	t.Helper()
	for c := first; c <= last; c++ {
		for row := range table.rows() {
			text := table.cell(row, c)
			if w := fyne.MeasureText(text, theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding(); w > table.widths[c] {
				t.Errorf("column %s (%.0f px) cuts %q (%.0f px)", table.headers[c], table.widths[c], text, w)
				break
			}
		}
	}
}

// TestNoActionGrowsWindow does what fills labels (check a policy, select a
// conversation and a rule, filter, preview an export, show a long progress
// line) and checks that no view then needs more than the 1280 px window.
func TestNoActionGrowsWindow(t *testing.T) {
	u := demoUI(t)
	checkNow(t, u, "allow", exportNSX(t, u)) // the Check view, Verdict and Checked policy columns, filled
	onUI(func() {
		u.flows.table.selectRow(0)
		u.rules.table.selectRow(0)
		u.rules.sub.SelectIndex(1) // the review list's long reasons
		for _, tg := range u.export.targets {
			tg.check.SetChecked(true)
		}
		u.export.which.SetSelected("NSX Policy API JSON")
		u.showBusy("Importing "+strings.Repeat("a-very-long-log-file-name-", 12)+".log (1/3) · 1.2 GB of 1.7 GB", 0.5)
	})
	onUI(func() { u.flows.search.SetText("10.20.10.0/24 " + strings.Repeat("nothing-matches-this-", 10)) })
	settle(t, u)
	for _, view := range []string{"overview", "flows", "rules", "check", "sources", "listener", "export"} {
		onUI(func() { u.SelectView(view) })
		if got := minWidth(u); got > 1280 {
			t.Errorf("the %s view needs %.0f px: the window would grow past 1280", view, got)
		}
		if got := minHeight(u); got > 800 {
			t.Errorf("the %s view needs %.0f px of height: the window would grow past 800", view, got)
		}
	}
}

// TestCheckColumnsInView: with a policy checked, at 1280x800 the
// deliverable's columns and Direction..Last seen stay in view as without
// one; at 1920x1080 the Rules' Checked policy column and the Flows' Verdict
// are in view too, beside a Description still wider than its minimum.
func TestCheckColumnsInView(t *testing.T) {
	dir := t.TempDir()
	path, err := EnsureDemo(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	u, w := newTestUI(t, path)
	settle(t, u)
	checkNow(t, u, "allow", exportNSX(t, u))
	visible := func(view string, table *dataTable) int {
		var n int
		onUI(func() { u.SelectView(view) })
		settle(t, u)
		onUI(func() { n = visibleCols(table) })
		return n
	}
	if n := visible("rules", u.rules.table); n != rcCheck {
		t.Errorf("at 1280 with a check the rule table shows %d whole columns, want the deliverable's %d", n, rcCheck)
	}
	if n := visible("flows", u.flows.table); n <= ColLast {
		t.Errorf("at 1280 with a check the flow table shows %d whole columns, want direction to last seen", n)
	}
	onUI(func() { w.Resize(fyne.NewSize(1920, 1080)) })
	if n := visible("rules", u.rules.table); n <= rcCheck || u.rules.table.widths[rcDescription] < 300 {
		t.Errorf("at 1920 with a check the rule table shows %d whole columns (%v), Description %v px: want Checked policy too",
			n, u.rules.table.headers[:n], u.rules.table.widths[rcDescription])
	}
	if n := visible("flows", u.flows.table); n <= ColVerdict {
		t.Errorf("at 1920 with a check the flow table shows %d whole columns (%v): want the Verdict too", n, u.flows.table.headers[:n])
	}
	// Cleared, the Description takes the width again.
	onUI(func() { u.check.clear() })
	settle(t, u)
	if n := visible("rules", u.rules.table); n != rcCheck {
		t.Errorf("at 1920 without a check the rule table shows %d whole columns, want the deliverable's %d", n, rcCheck)
	}
}

// visibleCols returns how many columns of t, from the first, fit its width
// without scrolling.
func visibleCols(t *dataTable) int {
	x := theme.Padding()
	for i, w := range t.widths {
		x += w + theme.Padding()
		if x > t.Size().Width {
			return i
		}
	}
	return len(t.widths)
}
