package app

import (
	"net/netip"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// TestFlowsAddressFilter: a CIDR keeps the conversations with an end in it;
// whole octets do not match longer numbers ("10.20.1" is not 10.20.10.x);
// when nothing matches, the view says so.
func TestFlowsAddressFilter(t *testing.T) {
	u := demoUI(t)
	v := u.flows
	web := netip.MustParsePrefix("10.20.10.0/24")
	onUI(func() { test.Type(v.search, "10.20.10.0/24") })
	settle(t, u)
	if v.view.Len() == 0 {
		t.Fatal("10.20.10.0/24 found nothing")
	}
	for i := range v.view.Len() {
		if c := v.view.At(i); !web.Contains(c.Src) && !web.Contains(c.Dst) {
			t.Fatalf("row %d (%v → %v) is outside 10.20.10.0/24", i, c.Src, c.Dst)
		}
	}
	if !v.empty.Hidden {
		t.Error("the no-match notice shows over a full table")
	}
	onUI(func() { v.search.SetText("10.20.1") }) // 10.20.1.x: none in the demo, though 10.20.10.x are
	settle(t, u)
	if n := v.view.Len(); n != 0 {
		t.Errorf("10.20.1 matched %d conversations, e.g. %v → %v", n, v.view.At(0).Src, v.view.At(0).Dst)
	}
	if v.empty.Hidden || !strings.Contains(v.empty.Text, "No conversation matches") {
		t.Errorf("nothing matches, and the view does not say so (notice %q, hidden %v)", v.empty.Text, v.empty.Hidden)
	}
	if !strings.HasPrefix(v.count.Text, "0 of ") {
		t.Errorf("count %q", v.count.Text)
	}
	if !strings.Contains(v.search.PlaceHolder, "10.55.1.0/24") || !strings.Contains(v.search.PlaceHolder, "not 10.55.199") {
		t.Errorf("the placeholder does not explain the rule: %q", v.search.PlaceHolder)
	}
}

// TestFlowsSelection: the arrow keys move a whole-row selection and the
// details follow; a filter that removes the selected conversation clears
// the details, one that keeps it keeps it selected.
func TestFlowsSelection(t *testing.T) {
	u := demoUI(t)
	v := u.flows
	key := func(k fyne.KeyName) { onUI(func() { v.table.TypedKey(&fyne.KeyEvent{Name: k}) }) }
	key(fyne.KeyDown)
	if v.table.Selected() != 0 || !strings.Contains(v.detail.Text, v.view.At(0).Src.String()) {
		t.Fatalf("Down selected row %d, details %q", v.table.Selected(), v.detail.Text)
	}
	key(fyne.KeyDown)
	key(fyne.KeyDown)
	c := v.view.At(2)
	if v.table.Selected() != 2 || !strings.HasPrefix(v.detail.Text, withVM(c.Src, c.SrcVM)+" → "+withVM(c.Dst, c.DstVM)) {
		t.Fatalf("two more Downs: row %d, details %q", v.table.Selected(), v.detail.Text)
	}
	key(fyne.KeyUp)
	if v.table.Selected() != 1 {
		t.Errorf("Up: row %d", v.table.Selected())
	}
	key(fyne.KeyEnd)
	if v.table.Selected() != v.view.Len()-1 {
		t.Errorf("End: row %d of %d", v.table.Selected(), v.view.Len())
	}
	key(fyne.KeyHome)
	sel, selDst := keyOf(v.view.At(0)), v.view.At(0).Dst

	// A filter that keeps it: still selected, on its new row.
	onUI(func() { v.search.SetText(selDst.String()) })
	settle(t, u)
	row := v.table.Selected()
	if row < 0 || keyOf(v.view.At(row)) != sel {
		t.Fatalf("a filter that keeps the selected conversation lost it (row %d)", row)
	}
	// One that removes it: nothing selected, the details say so.
	onUI(func() { v.search.SetText("192.0.2.254") })
	settle(t, u)
	if v.table.Selected() != -1 || v.detail.Text != noFlowSelected || v.evidence.Text != "" {
		t.Errorf("the filter removed the selected conversation, yet row %d is selected and the details show %q",
			v.table.Selected(), v.detail.Text)
	}
}

// TestHourDrillDown taps a bar of sessions per hour: the flows listed are
// those active in that hour, and their Sessions column counts that hour
// only, adding up to the bar.
func TestHourDrillDown(t *testing.T) {
	u := demoUI(t)
	o := u.overview
	vals := o.hourly.Values()
	hour := 0
	for i, x := range vals {
		if x > vals[hour] {
			hour = i
		}
	}
	onUI(func() { o.tappedHour(hour) })
	settle(t, u)
	v := u.flows.view
	if !v.Filter.Timed() || v.Len() == 0 {
		t.Fatalf("the hour's flows: filter %+v, %d rows", v.Filter, v.Len())
	}
	var sum uint64
	for i := range v.Len() {
		n := sessionsIn(v.Convs, int(v.Rows[i]), v.Filter.Since, v.Filter.Until)
		if got := v.Cell(i, ColSessions); got != thousandsU(n) {
			t.Fatalf("row %d shows %s sessions, %d in that hour", i, got, n)
		}
		sum += n
	}
	if float64(sum) != vals[hour] || v.Sessions != sum {
		t.Errorf("the rows add up to %d sessions (view %d), the bar to %v", sum, v.Sessions, vals[hour])
	}
	if h := u.flows.table.headers[ColSessions]; h != sessionsInRange {
		t.Errorf("Sessions header %q", h)
	}
	if !strings.Contains(u.flows.count.Text, thousandsU(sum)+" sessions in that time") {
		t.Errorf("count %q does not say what the figures are", u.flows.count.Text)
	}
}

// keyOf is the key of conversation c.
func keyOf(c analysistest.Conversation) analysis.Key {
	return analysis.KeyOf(c.Src, c.Dst, c.Proto, c.DPort)
}
