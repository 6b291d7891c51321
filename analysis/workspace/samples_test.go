package workspace

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// TestUpgradeSchema4 upgrades a workspace FlowSleuth wrote at schema 4
// (testdata/schema4.flowsleuth: two imports of a demo log, 71
// conversations, their sample lines in their states) and reads the same
// conversations, sample lines included, as that version read
// (testdata/schema4-conversations.json, its ws.Conversations): the lines
// moved to conversation_samples, read with the rows or one by one.
func TestUpgradeSchema4(t *testing.T) {
	var want []analysistest.Conversation
	if j, err := os.ReadFile("testdata/schema4-conversations.json"); err != nil || json.Unmarshal(j, &want) != nil {
		t.Fatalf("golden rows: %v", err)
	}
	ws, err := OpenReadOnly(schema4Copy(t, t.TempDir())) // upgrades it, as a writer would
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var version, inline, withLines int
	err = ws.db.QueryRowContext(ctx, `SELECT (SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM conversation_samples)`).Scan(&version, &withLines)
	if err == nil {
		inline, err = olderRecords(ws)
	}
	if err != nil || version != len(migrations) || inline != 0 || withLines != len(want) {
		t.Fatalf("after the upgrade: schema %d, %d records of an older version, %d rows of lines (want %d), %v",
			version, inline, withLines, len(want), err)
	}
	got, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("conversations after the upgrade differ from schema 4's:\n got %+v\nwant %+v", got, want)
	}
	tb, err := ws.Table(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range tb.Len() {
		if s := tb.Samples(i); !reflect.DeepEqual(s, want[i].Samples) {
			t.Fatalf("row %d: lazy sample lines %q, want %q", i, s, want[i].Samples)
		}
	}
}

// TestBehind reads the schema of the file's header: schema 4's fixture is
// behind, an up-to-date workspace, a new empty file and a file that is not
// a workspace are not.
func TestBehind(t *testing.T) {
	dir := t.TempDir()
	old := schema4Copy(t, dir)
	if from, to, ok := Behind(old); !ok || from != 4 || to != len(migrations) {
		t.Errorf("schema 4's fixture: Behind = %d, %d, %v; want 4, %d, true", from, to, ok, len(migrations))
	}
	ws, err := Open(old) // upgrades it
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	empty, text := filepath.Join(dir, "empty.flowsleuth"), filepath.Join(dir, "text.flowsleuth")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(text, []byte(strings.Repeat("not a database\n", 10)), 0o644)
	for _, p := range []string{old, empty, text, filepath.Join(dir, "absent.flowsleuth")} {
		if from, to, ok := Behind(p); ok {
			t.Errorf("%s: Behind = %d, %d, true; want not behind", filepath.Base(p), from, to)
		}
	}
}

// schema4Copy copies testdata/schema4.flowsleuth, a workspace FlowSleuth
// wrote at schema 4, into dir as old.flowsleuth and returns its path.
func schema4Copy(t *testing.T, dir string) string {
	t.Helper()
	return fixtureCopy(t, dir, "schema4.flowsleuth")
}

// fixtureCopy copies testdata/name into dir as old.flowsleuth and returns
// its path.
func fixtureCopy(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "old.flowsleuth")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// olderRecords counts the stored records of a version before codecSplit.
func olderRecords(ws *Workspace) (int, error) {
	conn, done, err := ws.lean(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	err = eachEntry(ctx, conn, "", nil, func(e *convEntry) error {
		if len(e.rec) == 0 || e.rec[0] != codecSplit {
			n++
		}
		return nil
	})
	return n, err
}
