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
