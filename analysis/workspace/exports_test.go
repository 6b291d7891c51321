package workspace

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
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
