package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// liveDelta parses lines into a model restored from the workspace, as a
// listener does between two flushes.
func liveDelta(t *testing.T, ws *Workspace, lines []string) (*analysis.Model, ingest.Stats) {
	t.Helper()
	sessions, clocks, err := ws.Tracking(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := analysis.NewModel(analysis.Options{})
	m.Restore(sessions, clocks)
	p := ingest.NewParser()
	var st ingest.Stats
	for _, l := range lines {
		var ev ingest.Event
		st.Lines++
		st.Bytes += int64(len(l))
		if b, _ := p.Parse([]byte(l), &ev); b == ingest.Parsed {
			st.Events++
			m.Add(&ev)
		}
	}
	return m, st
}

// TestCommitLiveThenTailImport commits a growing segment twice as a
// listener does, then imports the segment as a restart after a crash does:
// the workspace ends with exactly the conversations of the whole file, and
// a second import reads nothing.
func TestCommitLiveThenTailImport(t *testing.T) {
	src, lines := demoLog(t, "nutanix", 300)
	want := inMemory(t, src)
	ws := openTemp(t)
	seg := filepath.Join(t.TempDir(), "syslog-1.log")
	lines[len(lines)-1] += "\n" // archive lines always end with one
	a, b := len(lines)/3, 2*len(lines)/3
	write := func(part []string) {
		f, err := os.OpenFile(seg, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.WriteString(strings.Join(part, ""))
	}
	size := func() int64 {
		st, err := os.Stat(seg)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	for _, part := range [][]string{lines[:a], lines[a:b]} {
		write(part)
		m, st := liveDelta(t, ws, part)
		if err := ws.CommitLive(ctx, m, LiveCommit{Segment: seg, End: size(), Stats: st}); err != nil {
			t.Fatal(err)
		}
	}
	committed := size()
	write(lines[b:]) // archived, then the listener was killed before its flush
	res, err := ws.Import(ctx, []string{seg}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != Tail || res[0].From != committed {
		t.Errorf("restart import: %s from %d; want %s from %d", res[0].Outcome, res[0].From, Tail, committed)
	}
	got, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	analysistest.SameConversations(t, got, want)
	res, err = ws.Import(ctx, []string{seg}, ImportOptions{})
	if err != nil || res[0].Outcome != Already {
		t.Errorf("second import: %v %v", res, err)
	}
	srcs, err := ws.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 1 || srcs[0].Stats.Lines != int64(len(lines)) || srcs[0].Imported != size() {
		t.Errorf("sources: %+v; want one with %d lines", srcs, len(lines))
	}
}

// TestCommitLiveRefusesShortSegment checks a commit never claims bytes the
// segment does not hold.
func TestCommitLiveRefusesShortSegment(t *testing.T) {
	ws := openTemp(t)
	seg := filepath.Join(t.TempDir(), "syslog-2.log")
	os.WriteFile(seg, []byte("x\n"), 0o644)
	err := ws.CommitLive(ctx, analysis.NewModel(analysis.Options{}), LiveCommit{Segment: seg, End: 10})
	if err == nil {
		t.Fatal("a commit past the segment's end succeeded")
	}
}
