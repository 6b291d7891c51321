package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCounts: the counts an import reports without reading the
// conversations again (ImportOptions.Counts, FileResult.Added) are those
// counted afresh, through imports that add conversations, merge into stored
// ones, and drain (states of one conversation stored then merged in the same
// commit).
func TestImportCounts(t *testing.T) {
	defer func(n int) { drainConversations = n }(drainConversations)
	drainConversations = 40
	_, lines := demoLog(t, "nutanix", 3000)
	lines[len(lines)-1] += "\n"
	dir := t.TempDir()
	ws := openTemp(t)
	prev, err := ws.Counts(ctx)
	if err != nil || prev != (Counts{}) {
		t.Fatalf("new workspace: %+v %v", prev, err)
	}
	parts := [][]string{lines[:len(lines)/3], lines[len(lines)/3 : len(lines)*2/3], lines[len(lines)*2/3:]}
	for i, part := range parts {
		f := filepath.Join(dir, "day"+string(rune('1'+i))+".log")
		os.WriteFile(f, []byte(strings.Join(part, "")), 0o644)
		var got Counts
		res, err := ws.Import(ctx, []string{f, f}, ImportOptions{Counts: &got})
		if err != nil {
			t.Fatal(err)
		}
		want, err := ws.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("import %d: counts %+v, counted afresh %+v", i, got, want)
		}
		added := prev
		for _, r := range res {
			added.Add(r.Added)
		}
		if added != want {
			t.Errorf("import %d: %+v before plus %+v, %+v after", i, prev, added, want)
		}
		info, err := ws.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c := (Counts{info.Sources, info.Conversations, info.Sessions}); c != want {
			t.Errorf("import %d: Info %+v, Counts %+v", i, c, want)
		}
		prev = want
	}
	if prev.Sources != 3 || prev.Conversations == 0 {
		t.Errorf("after the imports: %+v", prev)
	}
}
