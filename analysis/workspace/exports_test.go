package workspace

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

func TestExportHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.flowsleuth")
	ws, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := ws.Exported(ctx, "nsx", "Books"); err != nil || ids != nil {
		t.Fatalf("a new workspace has history %v (%v)", ids, err)
	}
	if err := ws.RecordExport(ctx, "nsx", "Books", []string{"fs-r-b", "fs-r-a"}); err != nil {
		t.Fatal(err)
	}
	if err := ws.RecordExport(ctx, "nsx", "Books", []string{"fs-r-a", "fs-r-c"}); err != nil {
		t.Fatal(err)
	}
	if err := ws.RecordExport(ctx, "nsx", "Other", []string{"fs-r-x"}); err != nil {
		t.Fatal(err)
	}
	ws.Close()
	ws, err = Open(path) // kept in the file
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ids, err := ws.Exported(ctx, "nsx", "Books")
	if err != nil || !slices.Equal(ids, []string{"fs-r-a", "fs-r-b", "fs-r-c"}) {
		t.Errorf("history %v (%v)", ids, err)
	}
}

// TestExportHistoryBesideAWriter: an export records its history while
// another handle (another process: a listener running for days) holds the
// writer lock, and while that writer is inside a commit (it waits for the
// commit); the model's writers are still refused.
func TestExportHistoryBesideAWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.flowsleuth")
	listener, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	exporter, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer exporter.Close()
	release, err := listener.Hold("listen")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := exporter.RecordExport(ctx, "nsx", "Books", []string{"fs-r-a"}); err != nil {
		t.Fatalf("record beside a listener: %v", err)
	}
	// The listener commits (a write transaction of 300 ms) meanwhile.
	committing := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- listener.transact(ctx, func(tx *sql.Tx) error {
			close(committing)
			time.Sleep(300 * time.Millisecond)
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('k', 'v')`)
			return err
		})
	}()
	<-committing
	start := time.Now()
	if err := exporter.RecordExport(ctx, "nsx", "Books", []string{"fs-r-b"}); err != nil {
		t.Fatalf("record during the listener's commit: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the listener's commit: %v", err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("recorded in %v, inside the listener's transaction", waited)
	}
	if ids, err := exporter.Exported(ctx, "nsx", "Books"); err != nil || !slices.Equal(ids, []string{"fs-r-a", "fs-r-b"}) {
		t.Errorf("history %v (%v)", ids, err)
	}
	// So are rule edits: the admin reviews the rules while a listener
	// collects for days.
	e, err := exporter.AddEdit(ctx, rules.Edit{Op: rules.EditRename, Rule: "r-1", Arg: "x"})
	if err != nil {
		t.Fatalf("a rule edit beside the listener: %v", err)
	}
	if edits, err := listener.Edits(ctx); err != nil || len(edits) != 1 || edits[0].Arg != "x" {
		t.Errorf("the listener's process reads edits %v (%v)", edits, err)
	}
	if err := exporter.RemoveEdit(ctx, e.Seq); err != nil {
		t.Errorf("undo beside the listener: %v", err)
	}
}
