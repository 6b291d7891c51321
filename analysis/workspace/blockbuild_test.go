package workspace

import (
	"fmt"
	"testing"
)

// TestDaysEqualInMemory: a log imported as three days, each merged into
// the blocks the days before stored (blockBuilder), reads as the log read
// in memory at once, sample lines included: conversations whose stored
// lines are enough (not read), those that take the new state's lines
// (stored apart after that), new conversations among stored ones; and the
// blocks keep their invariants after each day. The later days take no
// sample lines of conversations whose stored ones are enough (satedKeys).
func TestDaysEqualInMemory(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxt"} {
		t.Run(vendor, func(t *testing.T) {
			path, lines := demoLog(t, vendor, 6000)
			lines[len(lines)-1] += "\n" // as in the log: without it the last line would wait for the rest of it
			dir := t.TempDir()
			third := len(lines) / 3
			var days []string
			for i, part := range [][]string{lines[:third], lines[third : 2*third], lines[2*third:]} {
				days = append(days, writeLines(t, dir, fmt.Sprintf("day%d.log", i), part))
			}
			ws := openTemp(t)
			var sated []int
			satedFound = func(n int) { sated = append(sated, n) }
			defer func() { satedFound = nil }()
			var merged int64
			for i, day := range days {
				res, err := ws.Import(ctx, []string{day}, ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				n := checkBlocks(t, ws)
				c, err := ws.Counts(ctx)
				if err != nil || int64(n) != c.Conversations {
					t.Fatalf("day %d: %d conversations in blocks, Counts %+v (%v)", i, n, c, err)
				}
				if i > 0 {
					merged += res[0].Added.Sessions
				}
			}
			if merged == 0 {
				t.Fatal("the days after the first added no session")
			}
			if len(sated) != 2 || sated[0] == 0 || sated[1] == 0 {
				t.Errorf("sated conversations found before days 2 and 3: %v; want some each", sated)
			}
			var apart int
			if err := ws.db.QueryRowContext(ctx, `SELECT count(*) FROM conversation_samples`).Scan(&apart); err != nil || apart == 0 {
				t.Errorf("%d conversations with lines stored apart (%v): the days do not test them", apart, err)
			}
			sameAsInMemory(t, ws, []string{path})
		})
	}
}
