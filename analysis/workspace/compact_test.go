package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// upgradedCopy is schema 4's fixture upgraded (migration 5 leaves the
// conversations' old pages free), open for writing, with its rows.
func upgradedCopy(t *testing.T) (*Workspace, []analysistest.Conversation) {
	t.Helper()
	var want []analysistest.Conversation
	if j, err := os.ReadFile("testdata/schema4-conversations.json"); err != nil || json.Unmarshal(j, &want) != nil {
		t.Fatalf("golden rows: %v", err)
	}
	ws, err := Open(schema4Copy(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, want
}

// sameRows fails unless ws holds want's conversations, sample lines too.
func sameRows(t *testing.T, ws *Workspace, want []analysistest.Conversation, when string) {
	t.Helper()
	got, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("conversations %s differ:\n got %+v\nwant %+v", when, got, want)
	}
	if err := ws.Check(ctx); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

// progressCheck fails its test when the progress told goes back or past
// its total.
type progressCheck struct {
	t           *testing.T
	last, total int64
}

func (p *progressCheck) tell(done, total int64) {
	if done < p.last || done > total {
		p.t.Errorf("progress %d of %d after %d", done, total, p.last)
	}
	p.last, p.total = done, total
}

// shrunk fails its test unless Compact's done took ws's file from before
// to its pages in use, or fewer (VACUUM packs the pages it copies).
func shrunk(t *testing.T, ws *Workspace, before Space, done Compaction) {
	t.Helper()
	after, err := ws.Space(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.FreeBytes != 0 || after.FileBytes > before.FileBytes-before.FreeBytes ||
		done.Before != before.FileBytes || done.After != after.FileBytes {
		t.Errorf("compacted %+v to %+v, reported %+v", before, after, done)
	}
	if st, err := os.Stat(ws.Path()); err != nil || st.Size() != after.FileBytes {
		t.Errorf("the file was not cut to its pages in use (%d bytes): %v, %v", after.FileBytes, st.Size(), err)
	}
}

// nothingBeside fails its test when a compact file is left beside ws.
func nothingBeside(t *testing.T, ws *Workspace) {
	t.Helper()
	if beside, _ := filepath.Glob(ws.Path() + ".compact-*"); len(beside) != 0 {
		t.Errorf("left beside the workspace: %v", beside)
	}
}

// TestCompact gives the upgrade's free pages back: the file shrinks by
// them, keeps every row, tells its progress up to the end, and leaves
// nothing beside it; a killed Compact's copy is removed. A reader open
// meanwhile reads the same rows after it.
func TestCompact(t *testing.T) {
	ws, want := upgradedCopy(t)
	reader, err := OpenReadOnly(ws.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	sameRows(t, reader, want, "before compacting")
	before, err := ws.Space(ctx)
	if err != nil || before.FreeBytes == 0 {
		t.Fatalf("the upgraded fixture has no free pages to give back: %+v, %v", before, err)
	}
	left := ws.Path() + ".compact-1"
	if err := os.WriteFile(left, []byte("a killed compact's copy"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := progressCheck{t: t}
	done, err := ws.Compact(ctx, p.tell)
	if err != nil {
		t.Fatal(err)
	}
	if p.last != p.total || p.total == 0 {
		t.Errorf("progress ended at %d of %d", p.last, p.total)
	}
	shrunk(t, ws, before, done)
	nothingBeside(t, ws)
	sameRows(t, ws, want, "after compacting")
	sameRows(t, reader, want, "read by a reader open meanwhile")

	again, err := ws.Compact(ctx, nil)
	if err != nil || again.After != again.Before {
		t.Errorf("a compact workspace compacted again: %+v, %v", again, err)
	}
}

// TestCompactCancelled stops a Compact while it copies the pages back: the
// workspace is left as it was, free pages too, with nothing beside it.
func TestCompactCancelled(t *testing.T) {
	ws, want := upgradedCopy(t)
	before, err := ws.Space(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func(n int32) { compactSteps = n }(compactSteps)
	compactSteps = 4 // the fixture's pages in several steps
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = ws.Compact(cctx, func(done, total int64) {
		if done > total/2 { // copying back
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Compact cancelled while copying back: %v", err)
	}
	after, err := ws.Space(ctx)
	if err != nil || after != before {
		t.Errorf("a cancelled Compact changed the file: %+v to %+v, %v", before, after, err)
	}
	nothingBeside(t, ws)
	sameRows(t, ws, want, "after a cancelled compact")
}
