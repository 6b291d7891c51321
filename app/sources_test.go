package app

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
)

// TestImportCancel presses Cancel while the second of two files is read:
// the first stays in the workspace, nothing of the second does, the status
// line says so, and importing the second again reads all of it, giving what
// an uninterrupted import gives.
func TestImportCancel(t *testing.T) {
	dir := t.TempDir()
	small, _ := demoLog(t, dir, "nsxv", 300)
	big, _ := demoLog(t, dir, "nutanix", 150_000) // about 140 MB: a second or more to import
	files := analysis.InTimeOrder([]string{small, big})
	if files[0] != small {
		t.Fatalf("read order %v: the test wants the small file first", files)
	}
	u, _ := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	var mu sync.Mutex
	var results []workspace.FileResult
	var importErr error
	u.sources.onDone = func(r []workspace.FileResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		results, importErr = r, err
	}
	onUI(func() { u.sources.importFiles(files) })
	eventually(t, "the big file's progress", func() bool {
		var label string
		onUI(func() { label = u.sources.progLabel.Text })
		return strings.HasPrefix(label, filepath.Base(big))
	})
	// Meanwhile every view shows the progress in the status bar, and the
	// views show the first file, committed.
	var status string
	var busy bool
	onUI(func() { status, busy = u.status.Text, u.busy.Visible() })
	if !strings.HasPrefix(status, "Importing "+filepath.Base(big)+" (2/2)") || !busy {
		t.Errorf("during the import the status bar says %q (progress shown: %v)", status, busy)
	}
	eventually(t, "the flows to show the first file while the second is read", func() bool {
		var n int
		onUI(func() {
			if u.flows.view != nil {
				n = u.flows.view.Len()
			}
		})
		return n > 0
	})
	onUI(func() { test.Tap(u.sources.cancelBtn) })
	u.Wait()
	settle(t, u)
	mu.Lock()
	if !errors.Is(importErr, context.Canceled) {
		t.Fatalf("import ended with %v, want cancelled (the big file may have finished first: make it bigger)", importErr)
	}
	if len(results) != 1 || results[0].Name != small || results[0].Outcome != workspace.Imported {
		t.Errorf("results %+v: want the small file only", results)
	}
	mu.Unlock()
	onUI(func() { status, busy = u.status.Text, u.busy.Visible() })
	if busy {
		t.Error("the progress stays in the status bar after the import")
	}
	if !strings.Contains(status, "cancelled") {
		t.Errorf("status %q does not say the import was cancelled", status)
	}
	ws := u.Project().Workspace()
	src, err := ws.Sources(context.Background())
	if err != nil || len(src) != 1 || src[0].Path != small {
		t.Fatalf("sources after cancel: %+v %v", src, err)
	}

	// Again: the big file is read whole, as new.
	onUI(func() { u.sources.importFiles([]string{big}) })
	u.Wait()
	settle(t, u)
	mu.Lock()
	if importErr != nil || len(results) != 1 || results[0].Outcome != workspace.Imported {
		t.Fatalf("re-import: %+v %v", results, importErr)
	}
	mu.Unlock()
	m := analysis.NewModel(analysis.Options{})
	if _, err := analysis.Import(context.Background(), m, files, analysis.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := ws.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var sessions int64
	convs := m.Table()
	for i := range convs.Len() {
		sessions += int64(convs.Sessions(i))
	}
	if info.Conversations != int64(convs.Len()) || info.Sessions != sessions {
		t.Errorf("workspace: %d conversations, %d sessions; uninterrupted: %d, %d",
			info.Conversations, info.Sessions, convs.Len(), sessions)
	}
}

// TestImportDialog types several files, a glob and a ~ path: all are
// imported in one batch; a missing file or a folder blocks the Import
// button with the reason.
func TestImportDialog(t *testing.T) {
	dir := t.TempDir()
	a, _ := demoLog(t, dir, "nsxv", 200)
	b, _ := demoLog(t, dir, "nutanix", 200)
	home := t.TempDir()
	t.Setenv("HOME", home)
	c, _ := demoLog(t, home, "nsxt", 100)
	u, _ := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	var mu sync.Mutex
	var got []workspace.FileResult
	u.sources.onDone = func(r []workspace.FileResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("import: %v", err)
		}
		got = append(got, r...)
	}
	var id *importDialog
	onUI(func() { id = newImportDialog(u.shell, u.sources.importFiles) })
	for text, want := range map[string]string{
		filepath.Join(dir, "none.log"): "no such file",
		dir:                            "is a folder",
		"":                             "at least one file",
		filepath.Join(dir, "*.gz"):     "no such files",
	} {
		onUI(func() { id.paths.SetText(text) })
		if err := id.paths.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
	onUI(func() {
		id.paths.SetText(filepath.Join(dir, "*.log") + "\n\n~/" + filepath.Base(c) + "\n" + a) // a twice: once
		id.d.Show()
		id.d.Submit()
	})
	u.Wait()
	settle(t, u)
	mu.Lock()
	defer mu.Unlock()
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	if len(got) != 3 || !slices.Contains(names, a) || !slices.Contains(names, b) || !slices.Contains(names, c) {
		t.Errorf("imported %v, want %s, %s and %s", names, a, b, c)
	}
}
