package workspace

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// writeLines writes lines to dir/name and returns its path.
func writeLines(t testing.TB, dir, name string, lines []string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// importedAs imports files one by one into ws and returns its conversations
// and its open connections.
func importedAs(t *testing.T, ws *Workspace, files ...string) ([]analysistest.Conversation, map[string]int) {
	t.Helper()
	for _, f := range files {
		if _, err := ws.Import(ctx, []string{f}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	open, _, err := ws.Tracking(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rows, keyed(open)
}

// TestOpenNew: a first import into a workspace that does not exist builds
// it beside its path, invisible (readers are told an import is making it,
// a second first import is refused) until its first file is committed; it
// is then a workspace in WAL mode holding what one made by Open holds, and
// the next file's import (through the WAL) continues it.
func TestOpenNew(t *testing.T) {
	first, second := resumeLines(3_000)
	dir := t.TempDir()
	a, b := writeLines(t, dir, "a.log", first), writeLines(t, dir, "b.log", second)
	mon := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	ref := openTemp(t)
	if err := ref.SetMonitored(ctx, mon); err != nil {
		t.Fatal(err)
	}
	wantRows, wantOpen := importedAs(t, ref, a, b)

	path := filepath.Join(dir, "new.flowsleuth")
	ws, err := OpenNew(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.SetMonitored(ctx, mon); err != nil {
		t.Fatal(err)
	}
	notThereYet(t, path)

	gotRows, gotOpen := importedAs(t, ws, a)
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("after the first commit: %v", err)
	}
	if err := NotYet(path); err != nil {
		t.Errorf("NotYet after the first commit: %v", err)
	}
	var mode string
	if err := ws.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q (%v), want wal", mode, err)
	}
	if left, _ := filepath.Glob(path + ".import-*"); len(left) > 0 {
		t.Errorf("left beside the workspace: %v", left)
	}
	if len(gotRows) == 0 || len(gotOpen) == 0 {
		t.Fatalf("%d conversations, %d open connections after the first file", len(gotRows), len(gotOpen))
	}
	sameSchema(t, ws, ref, len(gotRows))
	gotRows, gotOpen = importedAs(t, ws, b)
	analysistest.SameConversations(t, gotRows, wantRows)
	if !reflect.DeepEqual(gotOpen, wantOpen) {
		t.Errorf("%d connections left open, want %d", len(gotOpen), len(wantOpen))
	}
	if got, err := ws.Monitored(ctx); err != nil || !reflect.DeepEqual(got, mon) {
		t.Errorf("monitored set %v (%v), want %v, set before the first commit", got, err, mon)
	}
}

// notThereYet checks that no workspace is at path, that a reader is told
// this process is making it, and that a second first import is refused.
func notThereYet(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("before the first commit, the workspace is there: %v", err)
	}
	var notYet *NotYetError
	if _, err := OpenReadOnly(path); !errors.As(err, &notYet) ||
		notYet.Holder.PID != os.Getpid() {
		t.Errorf("a reader before the first commit: %v, want a NotYetError naming this process", err)
	}
	if _, err := OpenNew(path); !errors.Is(err, ErrLocked) {
		t.Errorf("a second first import: %v, want ErrLocked", err)
	}
}

// TestOpenNewKilled: a killed first import leaves its temporary file and
// no workspace; the next first import removes the file. A workspace closed
// before any commit is put in place as it is (an import stopped early made
// one before too).
func TestOpenNewKilled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.flowsleuth")
	left := path + ".import-new-1"
	if err := os.WriteFile(left, []byte("half a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	ws, err := OpenNew(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed import's file is still there: %v", err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatalf("a new workspace closed before any commit: %v", err)
	}
	ro.Close()
	if left, _ := filepath.Glob(path + ".import-*"); len(left) > 0 {
		t.Errorf("left beside the workspace: %v", left)
	}
}

// TestOpenWaitsForNew: a writer opening the path while an import builds the
// workspace beside it waits for it rather than making another file there,
// which the import's rename would then replace under it.
func TestOpenWaitsForNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.flowsleuth")
	ws, err := OpenNew(path)
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		w, err := Open(path)
		if err == nil {
			_, err = w.Monitored(ctx)
			w.Close()
		}
		opened <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a writer's open made the file while the import builds it: %v", err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Errorf("the writer's open, once the workspace is in place: %v", err)
	}
}

// sameSchema checks that ws's schema is ref's, object by object and in
// order, and that ws holds rows conversations in valid blocks.
func sameSchema(t *testing.T, ws, ref *Workspace, rows int) {
	t.Helper()
	if got, want := schemaOf(t, ws), schemaOf(t, ref); !reflect.DeepEqual(got, want) {
		t.Errorf("schema\n%v\nwant\n%v", got, want)
	}
	if err := ws.Check(ctx); err != nil {
		t.Error(err)
	}
	if n := checkBlocks(t, ws); n != rows {
		t.Errorf("%d conversations in blocks, want %d", n, rows)
	}
}

// schemaOf returns ws's schema in the order of sqlite_schema.
func schemaOf(t *testing.T, ws *Workspace) []string {
	t.Helper()
	rows, err := ws.db.Query(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
