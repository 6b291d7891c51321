package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	deadline := time.Now().Add(30 * time.Second)
	for {
		var label string
		onUI(func() { label = u.sources.progLabel.Text })
		if strings.HasPrefix(label, filepath.Base(big)) {
			break // the big file is being read
		}
		if time.Now().After(deadline) {
			t.Fatalf("the big file's progress never showed (label %q)", label)
		}
		time.Sleep(5 * time.Millisecond)
	}
	onUI(func() { test.Tap(u.sources.cancelBtn) })
	u.Wait()
	settle(u)
	mu.Lock()
	if !errors.Is(importErr, context.Canceled) {
		t.Fatalf("import ended with %v, want cancelled (the big file may have finished first: make it bigger)", importErr)
	}
	if len(results) != 1 || results[0].Name != small || results[0].Outcome != workspace.Imported {
		t.Errorf("results %+v: want the small file only", results)
	}
	mu.Unlock()
	var status string
	onUI(func() { status = u.status.Text })
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
	settle(u)
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
	convs := m.Conversations()
	for _, c := range convs {
		sessions += int64(c.Sessions)
	}
	if info.Conversations != int64(len(convs)) || info.Sessions != sessions {
		t.Errorf("workspace: %d conversations, %d sessions; uninterrupted: %d, %d",
			info.Conversations, info.Sessions, len(convs), sessions)
	}
}
