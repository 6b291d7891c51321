package workspace

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// TestWidePages: a new workspace whose first commit writes at least
// widePagesFrom, or drained states while its model holds at most
// drainedWideOutside outside the heap, gets pages of widePageSize; one
// whose commit is smaller, or drained beside more, keeps 4 KiB pages.
// Whatever its pages, the workspace holds what one made by Open holds
// after both files (the second imported through the WAL), passes SQLite's
// integrity check, and keeps its page size and its rows through Compact.
func TestWidePages(t *testing.T) {
	first, second := resumeLines(3_000)
	dir := t.TempDir()
	a, b := writeLines(t, dir, "a.log", first), writeLines(t, dir, "b.log", second)
	wantRows, wantOpen := importedAs(t, openTemp(t), a, b)
	for _, tc := range []struct {
		name       string
		from       int64 // widePagesFrom
		drainAt    int   // drainConversations
		outside    int64 // drainedWideOutside
		wantPageSz int
	}{
		{"large", 1, drainConversations, drainedWideOutside, widePageSize},
		{"small", widePagesFrom, drainConversations, drainedWideOutside, 4096},
		{"drained", widePagesFrom, 50, drainedWideOutside, widePageSize},
		{"drained beside open connections", widePagesFrom, 50, -1, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(n int64, d int, o int64) {
				widePagesFrom, drainConversations, drainedWideOutside = n, d, o
			}(widePagesFrom, drainConversations, drainedWideOutside)
			widePagesFrom, drainConversations, drainedWideOutside = tc.from, tc.drainAt, tc.outside
			ws, err := OpenNew(filepath.Join(t.TempDir(), "new.flowsleuth"))
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			importedAs(t, ws, a)
			samePageSize(t, ws, tc.wantPageSz, "after the first file")
			gotRows, gotOpen := importedAs(t, ws, b)
			analysistest.SameConversations(t, gotRows, wantRows)
			if !reflect.DeepEqual(gotOpen, wantOpen) {
				t.Errorf("%d connections left open, want %d", len(gotOpen), len(wantOpen))
			}
			if err := ws.Check(ctx); err != nil {
				t.Error(err)
			}
			if _, err := ws.Compact(ctx, nil); err != nil {
				t.Fatal(err)
			}
			samePageSize(t, ws, tc.wantPageSz, "after Compact")
			sameRows(t, ws, wantRows, "after Compact")
		})
	}
}

// samePageSize checks ws's SQLite page size.
func samePageSize(t *testing.T, ws *Workspace, want int, when string) {
	t.Helper()
	var got int
	if err := ws.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&got); err != nil || got != want {
		t.Errorf("%s: page size %d (%v), want %d", when, got, err, want)
	}
}
