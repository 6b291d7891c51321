package workspace

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// tableRows returns every row of table in ws, in the order of its first column, as text.
func tableRows(t *testing.T, ws *Workspace, table string) []string {
	t.Helper()
	rows, err := ws.db.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPremergeEqualsWriter: the days after the first, whose conversations
// a premerger merges into the stored ones beside the writer, leave the
// workspace the writer's own merging leaves, in every table: conversations
// whose stored lines are enough (not read), those that take the new
// state's lines (stored apart after that), new conversations among stored
// ones, open connections; and on the third day, lines the second stored
// apart. Each day's import counts the same sessions added.
func TestPremergeEqualsWriter(t *testing.T) {
	defer func(hook func(int, int)) { premergeDone = hook }(premergeDone)
	for _, vendor := range []string{"nutanix", "nsxt"} {
		t.Run(vendor, func(t *testing.T) {
			_, lines := demoLog(t, vendor, 6000)
			dir := t.TempDir()
			third := len(lines) / 3
			var days []string
			for i, part := range [][]string{lines[:third], lines[third : 2*third], lines[2*third:]} {
				days = append(days, writeLines(t, dir, fmt.Sprintf("day%d.log", i), part))
			}
			tables := []string{"conversations", "conversation_samples", "sample_blocks", "endpoints", "tracking",
				"tracking_chunks"}
			var got [2]map[string][]string
			var merged []int
			for i, on := range []bool{false, true} {
				premergeOn = on
				premergeDone = func(n, byWriter int) {
					if byWriter != 0 {
						t.Errorf("the writer merged %d states the premerger passed by", byWriter)
					}
					merged = append(merged, n)
				}
				ws, err := Open(filepath.Join(t.TempDir(), "w.flowsleuth"))
				if err != nil {
					t.Fatal(err)
				}
				got[i] = map[string][]string{}
				for _, day := range days {
					res, err := ws.Import(ctx, []string{day}, ImportOptions{})
					if err != nil {
						t.Fatal(err)
					}
					got[i]["added"] = append(got[i]["added"], fmt.Sprintf("%+v", res[0].Added))
				}
				for _, table := range tables {
					got[i][table] = tableRows(t, ws, table)
				}
				ws.Close()
			}
			premergeOn = true
			if len(merged) != 2 || merged[0] == 0 || merged[1] == 0 {
				t.Fatalf("the premerger merged %v conversations on days 2 and 3: it did not run", merged)
			}
			for _, table := range append(tables, "added") {
				if !reflect.DeepEqual(got[0][table], got[1][table]) {
					t.Errorf("%s: %d rows with the premerger differ from the writer's %d", table,
						len(got[1][table]), len(got[0][table]))
				}
			}
			if n := len(got[1]["conversation_samples"]); n == 0 {
				t.Errorf("%d conversations with lines stored apart: the days do not test them", n)
			}
		})
	}
}

// TestMergeDefersIndex: a next day's commit that builds the index by bytes
// after its rows (defersIndex) leaves the workspace one that keeps the
// index up to date leaves: the same schema, rows and order by bytes, and a
// sound file.
func TestMergeDefersIndex(t *testing.T) {
	defer func(n int, hook func()) { deferMergeRows, reindexed = n, hook }(deferMergeRows, reindexed)
	_, lines := demoLog(t, "nsxt", 6000)
	dir := t.TempDir()
	days := []string{writeLines(t, dir, "day1.log", lines[:len(lines)/2]), writeLines(t, dir, "day2.log", lines[len(lines)/2:])}
	var got [2][]string
	for i, rows := range []int{1 << 30, 1} {
		deferMergeRows = rows
		built := 0
		reindexed = func() { built++ }
		ws, err := Open(filepath.Join(t.TempDir(), "w.flowsleuth"))
		if err != nil {
			t.Fatal(err)
		}
		for _, day := range days {
			if _, err := ws.Import(ctx, []string{day}, ImportOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if want := i; built != want {
			t.Fatalf("deferMergeRows %d: the index was built after the rows %d times, want %d", rows, built, want)
		}
		// Their text and their order; not the pages they start at.
		got[i] = append(got[i], tableRows(t, ws, "(SELECT rowid, type, name, tbl_name, sql FROM sqlite_schema)")...)
		got[i] = append(got[i], tableRows(t, ws, "conversations")...)
		byBytes := tableRows(t, ws, "(SELECT id FROM conversations INDEXED BY conversations_bytes ORDER BY bytes DESC, id)")
		got[i] = append(got[i], byBytes...)
		var check string
		if err := ws.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("deferMergeRows %d: integrity check %q, %v", rows, check, err)
		}
		ws.Close()
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		for j := range min(len(got[0]), len(got[1])) {
			if got[0][j] != got[1][j] {
				t.Fatalf("the workspace whose commit built the index after its rows differs: row %d %.200q, want %.200q",
					j, got[1][j], got[0][j])
			}
		}
		t.Fatalf("the workspace whose commit built the index after its rows differs: %d rows, want %d", len(got[1]), len(got[0]))
	}
}

// TestDefersIndex: which commits build the index by bytes after their rows.
func TestDefersIndex(t *testing.T) {
	for _, c := range []struct {
		fresh         bool
		delta, stored int
		want          bool
	}{
		{true, deferIndexRows, 0, true},         // a new workspace's first commit, large
		{true, deferIndexRows - 1, 0, false},    // … small
		{false, deferIndexRows, 0, false},       // an empty workspace of others' making
		{false, 41_891, 41_891, true},           // the NSX corpus's next day
		{false, 20_000, 40_000, true},           // half as many as are stored
		{false, 20_000, 40_001, false},          // fewer
		{false, deferMergeRows - 1, 100, false}, // too few to matter
	} {
		if got := defersIndex(c.fresh, c.delta, c.stored); got != c.want {
			t.Errorf("fresh %v, %d states into %d: %v, want %v", c.fresh, c.delta, c.stored, got, c.want)
		}
	}
}
