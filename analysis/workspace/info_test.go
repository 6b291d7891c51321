package workspace

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
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

// TestUnclassified counts each address of the stored conversations once,
// IPv4 and IPv6, sources and destinations, but those the inventory names.
func TestUnclassified(t *testing.T) {
	ws := openTemp(t)
	conv := func(src, dst string) *analysis.ConvState {
		st := &analysis.ConvState{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: 6, DPort: 443}
		st.Sides[0].Sessions = 1
		return st
	}
	commitStates(t, ws, []*analysis.ConvState{
		conv("10.0.0.1", "10.0.0.2"), conv("10.0.0.1", "10.0.0.3"), conv("10.0.0.2", "10.0.0.1"),
		conv("2001:db8::1", "2001:db8::2"), conv("2001:db8::2", "10.0.0.3"), conv("192.0.2.9", "2001:db8::1"),
	})
	in, err := ws.Info(ctx)
	if err != nil || in.Unclassified != 6 {
		t.Fatalf("unclassified %d (%v), want 6: 10.0.0.1-3, 192.0.2.9, 2001:db8::1-2", in.Unclassified, err)
	}
	err = ws.ReplaceInventory(ctx, []InvEntry{{IP: netip.MustParseAddr("10.0.0.3"), VM: "db"},
		{IP: netip.MustParseAddr("2001:db8::2"), VM: "web"}, {IP: netip.MustParseAddr("10.9.9.9"), VM: "other"}}, "inv.csv", "")
	if err != nil {
		t.Fatal(err)
	}
	if in, err = ws.Info(ctx); err != nil || in.Unclassified != 4 {
		t.Fatalf("unclassified %d (%v), want 4 once the inventory names two of them", in.Unclassified, err)
	}
}
