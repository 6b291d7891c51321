package workspace

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenReadOnlyHotJournal: a workspace a killed writer left with a hot
// rollback journal (the first import creates the file and switches it to
// WAL through a rollback journal, deleted some milliseconds after the file
// is written: a SIGKILL in between leaves it) opens read-only, rolled back
// as a writer would; SQLite refuses a read-only connection that would have
// to roll it back (SQLITE_READONLY_ROLLBACK, "attempt to write a readonly
// database"), which failed TestImportSurvivesKill's workspace info once at
// load 15–18.
func TestOpenReadOnlyHotJournal(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.flowsleuth")
	ws, err := Open(orig)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	// The same state, deterministically: a writer in rollback-journal mode
	// spills part of a transaction into the file (a cache of a few pages),
	// and the file and its journal are copied meanwhile, as a kill would
	// leave them.
	db, err := sql.Open("sqlite", "file:"+orig+"?_pragma=journal_mode(DELETE)&_pragma=cache_size(10)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TABLE spill (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := tx.Exec(`INSERT INTO spill VALUES (randomblob(3000))`); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "killed.flowsleuth")
	for _, suffix := range []string{"", "-journal"} {
		b, err := os.ReadFile(orig + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+suffix, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tx.Rollback()

	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatalf("open read-only after a kill: %v", err)
	}
	defer ro.Close()
	if _, err := ro.Edits(ctx); err != nil {
		t.Errorf("read: %v", err)
	}
	if _, err := os.Stat(path + "-journal"); err == nil {
		t.Error("the hot journal is still there")
	}
}
