package app

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestCopyOffTheUIGoroutine: Copy renders the view's CSV in the background
// (while the UI goroutine is busy the status says it is preparing and the
// clipboard is untouched); then every row of the view lands on the
// clipboard, in the view's order, and the status says how many.
func TestCopyOffTheUIGoroutine(t *testing.T) {
	u := demoUI(t)
	v := u.flows
	var n int
	onUI(func() {
		n = v.view.Len()
		u.app.Clipboard().SetContent("before")
		v.copyView()
		if got := u.status.Text; !strings.HasPrefix(got, "Preparing the copy of "+plural(n, "conversation")) {
			t.Errorf("status while copying %q", got)
		}
		if got := u.app.Clipboard().Content(); got != "before" {
			t.Errorf("the CSV was made on the UI goroutine: the clipboard already holds %d bytes", len(got))
		}
	})
	u.Wait()
	var clip, status string
	onUI(func() { clip, status = u.app.Clipboard().Content(), u.status.Text })
	recs, err := csv.NewReader(strings.NewReader(clip)).ReadAll()
	if err != nil {
		t.Fatalf("clipboard is not CSV: %v", err)
	}
	if len(recs) != n+1 {
		t.Fatalf("clipboard holds %d records, want a header and the view's %d rows", len(recs), n)
	}
	for i, r := range recs[1:] {
		c := v.view.At(i)
		if !strings.Contains(strings.Join(r, ","), c.Src.String()) || !strings.Contains(strings.Join(r, ","), c.Dst.String()) {
			t.Fatalf("record %d %q is not the view's row %d (%v → %v)", i+1, r, i, c.Src, c.Dst)
		}
	}
	if want := "Copied " + plural(n, "conversation") + " as CSV."; status != want {
		t.Errorf("status %q, want %q", status, want)
	}
}

// TestFlowsCSVLimit: the CSV keeps the first limit rows of the view and
// counts them all; 0 keeps every row.
func TestFlowsCSVLimit(t *testing.T) {
	u := demoUI(t)
	view := u.flows.view
	n := view.Len()
	for _, tc := range []struct {
		Name  string
		Limit int
		Want  int
	}{{"under", 3, 3}, {"all", 0, n}, {"over", n + 5, n}} {
		t.Run(tc.Name, func(t *testing.T) {
			b, got := flowsCSV(view, tc.Limit)
			if got != n {
				t.Errorf("counted %d rows, the view has %d", got, n)
			}
			recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs)-1 != tc.Want {
				t.Errorf("%d rows, want %d", len(recs)-1, tc.Want)
			}
		})
	}
}
