package workspace

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

var ctx = context.Background()

func openTemp(t *testing.T) *Workspace {
	t.Helper()
	ws, err := Open(filepath.Join(t.TempDir(), "w.flowsleuth"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// demoLog writes a demo log and returns its path and lines.
func demoLog(t testing.TB, vendor string, sessions int) (string, []string) {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := demo.Generate(&buf, demo.Config{Vendor: vendor, Sessions: sessions, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), vendor+".log")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, strings.SplitAfter(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

// inMemory imports files into a model, the reference for the workspace.
func inMemory(t *testing.T, files ...string) []analysistest.Conversation {
	t.Helper()
	m := analysis.NewModel(analysis.Options{})
	if _, err := analysis.Import(ctx, m, files, analysis.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return analysistest.Rows(m.Table())
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("my notes, not a database\n"), 0o644)
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE customers (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, path := range []string{text, other, dir} {
		before, _ := os.ReadFile(path)
		_, err := Open(path)
		if !errors.Is(err, ErrNotWorkspace) {
			t.Errorf("%s: got %v, want ErrNotWorkspace", filepath.Base(path), err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Errorf("%s was modified", path)
		}
	}
	// An empty file becomes a workspace; reopening keeps it.
	empty := filepath.Join(dir, "empty.flowsleuth")
	os.WriteFile(empty, nil, 0o644)
	for i := 0; i < 2; i++ {
		ws, err := Open(empty)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		ws.Close()
	}
}

func TestOpenDamaged(t *testing.T) {
	path, _ := demoLog(t, "nutanix", 300)
	wpath := filepath.Join(t.TempDir(), "w.flowsleuth")
	ws, err := Open(wpath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	ws.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	ws.Close()
	b, _ := os.ReadFile(wpath)
	for i := 4096; i < len(b); i += 512 { // keep the header, scramble every page after the first
		copy(b[i:], "garbage garbage garbage garbage garbage garbage garbage garbage")
	}
	os.WriteFile(wpath, b, 0o644)
	ws, err = Open(wpath)
	if err == nil {
		_, err = analysistest.RowsOf(ws.Conversations(ctx, Query{}))
		if err == nil {
			err = ws.Check(ctx)
		}
		ws.Close()
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged workspace: got %v, want ErrCorrupt", err)
	}
}

func TestImportMatchesMemoryAndNeverCountsTwice(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv"} {
		t.Run(vendor, func(t *testing.T) {
			path, _ := demoLog(t, vendor, 2000)
			want := inMemory(t, path)
			ws := openTemp(t)
			res, err := ws.Import(ctx, []string{path}, ImportOptions{})
			if err != nil || res[0].Outcome != Imported {
				t.Fatalf("first import: %+v %v", res, err)
			}
			got, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
			if err != nil {
				t.Fatal(err)
			}
			analysistest.SameConversations(t, got, want)

			// Again, and a copy under another name: nothing changes.
			cp := filepath.Join(t.TempDir(), "copy.log")
			b, _ := os.ReadFile(path)
			os.WriteFile(cp, b, 0o644)
			res, err = ws.Import(ctx, []string{path, cp}, ImportOptions{})
			if err != nil || res[0].Outcome != Already || res[1].Outcome != Already || res[1].SameAs != path {
				t.Fatalf("re-import: %+v %v", res, err)
			}
			got, _ = analysistest.RowsOf(ws.Conversations(ctx, Query{}))
			analysistest.SameConversations(t, got, want)
			info, _ := ws.Info(ctx)
			if info.Sources != 1 || info.Conversations != int64(len(want)) {
				t.Errorf("info: %+v", info)
			}
		})
	}
}

// TestGrowingFile imports a log while it is being written, cut mid-line,
// then again once it has grown: only the tail is read, and the result is the
// import of the whole file.
func TestGrowingFile(t *testing.T) {
	path, lines := demoLog(t, "nutanix", 3000)
	want := inMemory(t, path)
	full, _ := os.ReadFile(path)
	ws := openTemp(t)
	grow := filepath.Join(t.TempDir(), "live.log")
	cuts := []int{len(full) / 3, len(full)/3 + 17, len(full) * 2 / 3, len(full)}
	for i, cut := range cuts {
		os.WriteFile(grow, full[:cut], 0o644)
		res, err := ws.Import(ctx, []string{grow}, ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if wantOut := map[bool]Outcome{true: Imported, false: Tail}[i == 0]; res[0].Outcome != wantOut {
			t.Errorf("cut %d: outcome %q, want %q", i, res[0].Outcome, wantOut)
		}
		if res[0].Stats.Malformed != 0 {
			t.Errorf("cut %d: %d malformed lines: a partial line was read", i, res[0].Stats.Malformed)
		}
	}
	got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	analysistest.SameConversations(t, got, want)
	src, _ := ws.Sources(ctx)
	if len(src) != 1 || src[0].Stats.Lines != int64(len(lines)) || src[0].Imports != 4 {
		t.Errorf("sources: %+v (want 1 source, %d lines, 4 imports)", src, len(lines))
	}
}

// TestFilesOverDays imports one log split into consecutive files: connections
// that straddle two files count once.
func TestFilesOverDays(t *testing.T) {
	path, lines := demoLog(t, "nutanix", 3000)
	want := inMemory(t, path)
	lines[len(lines)-1] += "\n" // as in the log: without it the last line would wait for the rest of it
	dir := t.TempDir()
	var files []string
	for i, part := range [][]string{lines[:len(lines)/3], lines[len(lines)/3 : len(lines)*2/3], lines[len(lines)*2/3:]} {
		f := filepath.Join(dir, "day"+string(rune('1'+i))+".log")
		os.WriteFile(f, []byte(strings.Join(part, "")), 0o644)
		files = append(files, f)
	}
	ws := openTemp(t)
	for _, f := range files { // separate imports, as on separate days
		if _, err := ws.Import(ctx, []string{f}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	analysistest.SameConversations(t, got, want)

	// All at once, newest first (a glob of rotated logs): read in time order.
	ws = openTemp(t)
	res, err := ws.Import(ctx, []string{files[2], files[0], files[1]}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Name != files[i] {
			t.Errorf("read %d: %s, want %s", i, r.Name, files[i])
		}
	}
	got, _ = analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	analysistest.SameConversations(t, got, want)
}

func TestWindow(t *testing.T) {
	path, _ := demoLog(t, "nsxt", 1000)
	ws := openTemp(t)
	if _, err := ws.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	all, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	day := time.Date(2025, 4, 8, 0, 0, 0, 0, time.UTC)
	win, err := analysistest.RowsOf(ws.Conversations(ctx, Query{Since: day, Until: day.Add(24 * time.Hour)}))
	if err != nil {
		t.Fatal(err)
	}
	var total, inDay uint64
	for _, c := range all {
		for _, h := range c.Hourly {
			total += h.Sessions
			if !h.Start.Before(day) && h.Start.Before(day.Add(24*time.Hour)) {
				inDay += h.Sessions
			}
		}
	}
	var got uint64
	for _, c := range win {
		got += c.Sessions
		for _, h := range c.Hourly {
			if h.Start.Before(day) || !h.Start.Before(day.Add(24*time.Hour)) {
				t.Fatalf("hour %v outside the window", h.Start)
			}
		}
	}
	if got != inDay || inDay == 0 || inDay >= total || len(win) >= len(all) {
		t.Errorf("window sessions %d, want %d (of %d); %d of %d conversations", got, inDay, total, len(win), len(all))
	}
}

// TestReadWhileImporting reads from other goroutines (and another
// connection pool, as a second process would) during imports; run with -race.
func TestReadWhileImporting(t *testing.T) {
	path1, _ := demoLog(t, "nutanix", 4000)
	path2, _ := demoLog(t, "nsxt", 4000)
	ws := openTemp(t)
	other, err := Open(ws.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var reads int
	var mu sync.Mutex
	for _, r := range []*Workspace{ws, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := r.Info(ctx); err != nil {
					t.Error(err)
					return
				}
				if _, err := analysistest.RowsOf(r.Top(ctx, 100)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				reads++
				mu.Unlock()
			}
		}()
	}
	_, err1 := ws.Import(ctx, []string{path1}, ImportOptions{})
	_, err2 := other.Import(ctx, []string{path2}, ImportOptions{Parse: []ingest.Option{ingest.WithWorkers(1)}})
	close(done)
	wg.Wait()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if reads == 0 {
		t.Error("no read completed during the imports")
	}
	want := inMemory(t, path1, path2)
	got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	analysistest.SameConversations(t, got, want)
}

func TestMonitoredAndInventory(t *testing.T) {
	ws := openTemp(t)
	if err := ws.SetMonitored(ctx, nil); err != nil {
		t.Fatal(err)
	}
	entries := []InvEntry{{IP: mustAddr("10.0.0.1"), VM: "web-1", Groups: []string{"AppTier:Web", "Env:Prod"}}}
	if err := ws.ReplaceInventory(ctx, entries, "inv.csv", "{}"); err != nil {
		t.Fatal(err)
	}
	got, err := ws.Inventory(ctx)
	if err != nil || !reflect.DeepEqual(got, entries) {
		t.Errorf("inventory: %+v %v", got, err)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestTopAgreesWithConversations checks that the first page, built from a
// few rows and point look-ups of the learned set, says what the full list
// says about the same conversations.
func TestTopAgreesWithConversations(t *testing.T) {
	path, _ := demoLog(t, "nsxv", 2000)
	ws := openTemp(t)
	if _, err := ws.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	all, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	top, err := analysistest.RowsOf(ws.Top(ctx, 50))
	if err != nil || len(top) != 50 {
		t.Fatalf("top: %d, %v", len(top), err)
	}
	byKey := map[string]analysistest.Conversation{}
	for _, c := range all {
		byKey[c.Src.String()+">"+c.Dst.String()+"/"+string(rune(c.Proto))+"/"+string(rune(c.DPort))] = c
	}
	dirs := map[string]bool{}
	for i, c := range top {
		if i > 0 && c.Bytes() > top[i-1].Bytes() {
			t.Fatalf("top not sorted by bytes at %d", i)
		}
		w := byKey[c.Src.String()+">"+c.Dst.String()+"/"+string(rune(c.Proto))+"/"+string(rune(c.DPort))]
		c.Samples, w.Samples = nil, nil
		if !reflect.DeepEqual(c, w) {
			t.Fatalf("top %d differs from the full list:\n got %+v\nwant %+v", i, c, w)
		}
		dirs[c.Direction.String()] = true
	}
	if len(dirs) < 2 {
		t.Errorf("top conversations all have one direction %v: the test does not exercise the look-ups", dirs)
	}
}
