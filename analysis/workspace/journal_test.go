package workspace

import (
	"database/sql"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// drain reads the whole journal as a forwarder does, acknowledging each
// read, and returns the latest record of every session and the rule tags.
func drain(t *testing.T, ws *Workspace, limit int) (map[uint64]analysis.SessionRecord, map[string]string) {
	t.Helper()
	recs := make(map[uint64]analysis.SessionRecord)
	tags := make(map[string]string)
	for {
		last, batch, bt, err := ws.NextBatches(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		if last == 0 {
			return recs, tags
		}
		for _, r := range batch {
			if prev, ok := recs[r.ID]; !ok || r.Version > prev.Version {
				recs[r.ID] = r
			}
		}
		for r, tg := range bt {
			tags[r] = tg
		}
		if err := ws.Forwarded(ctx, last); err != nil {
			t.Fatal(err)
		}
	}
}

// statesOf sums the latest session records into conversation states.
func statesOf(recs map[uint64]analysis.SessionRecord) []analysis.ConvState {
	all := make([]analysis.SessionRecord, 0, len(recs))
	for _, r := range recs {
		all = append(all, r)
	}
	return analysistest.RecordStates(all, nil)
}

// TestJournalHoldsTheWorkspace: a collector's journal, forwarded in pieces
// between imports, holds records summing to the workspace's conversations:
// across files, a file imported while it grows, and records spilled during
// a long import.
func TestJournalHoldsTheWorkspace(t *testing.T) {
	defer func(n int) { spillRecords = n }(spillRecords)
	spillRecords = 97
	for _, vendor := range []string{"nutanix", "nsxv"} {
		t.Run(vendor, func(t *testing.T) {
			path, lines := demoLog(t, vendor, 3000)
			want := inMemory(t, path)
			ws := openTemp(t)
			id, err := ws.Attach(ctx, "clickhouse://test/db")
			if err != nil || id == 0 {
				t.Fatalf("attach: %d, %v", id, err)
			}
			dir := t.TempDir()
			grow := filepath.Join(dir, "grow.log")
			all := map[uint64]analysis.SessionRecord{}
			tags := map[string]string{}
			for _, cut := range []int{len(lines) / 4, len(lines) / 2, len(lines)} {
				text := strings.Join(lines[:cut], "")
				if cut == len(lines) {
					text += "\n" // the last line has its end: read it too
				}
				os.WriteFile(grow, []byte(text), 0o644)
				if _, err := ws.Import(ctx, []string{grow}, ImportOptions{}); err != nil {
					t.Fatal(err)
				}
				recs, tg := drain(t, ws, 500)
				for id, r := range recs {
					if prev, ok := all[id]; !ok || r.Version > prev.Version {
						all[id] = r
					}
				}
				for r, x := range tg {
					tags[r] = x
				}
			}
			states := statesOf(all)
			got := analysistest.Build(states, analysis.NewMonitored(nil, states), tags)
			analysistest.SameConversations(t, got, want)
			stored, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
			if err != nil {
				t.Fatal(err)
			}
			analysistest.SameConversations(t, stored, want)
			if b, n, err := ws.Unforwarded(ctx); b != 0 || n != 0 || err != nil {
				t.Errorf("after draining: %d batches, %d records wait (%v)", b, n, err)
			}
		})
	}
}

// TestSpilledRowsNeedTheCommit: records an import spilled are invisible
// until its commit, and an import that never committed leaves nothing.
func TestSpilledRowsNeedTheCommit(t *testing.T) {
	defer func(n int) { spillRecords = n }(spillRecords)
	spillRecords = 10
	path, _ := demoLog(t, "nsxt", 500)
	ws := openTemp(t)
	if _, err := ws.Attach(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	// An import that spilled, then died before its commit.
	m, sp, err := ws.continued(ctx, analysis.Options{}, nil)
	if err != nil || sp == nil || !m.Recording() {
		t.Fatalf("continued: %v, %v, recording %v", sp, err, m.Recording())
	}
	var rows int
	for i := 0; i < 30; i++ {
		sp.ws.write(ctx, func(tx *sql.Tx) error {
			return insertBatch(ctx, tx, sp.token, []analysis.SessionRecord{{ID: uint64(i + 1), Version: 1}}, nil)
		})
		rows++
	}
	if last, recs, _, err := ws.NextBatches(ctx, 1000); last != 0 || len(recs) != 0 || err != nil {
		t.Fatalf("uncommitted spill visible: %d records (%v)", len(recs), err)
	}
	// The next import deletes them and journals its own.
	if _, err := ws.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	recs, _ := drain(t, ws, 1000)
	for id, r := range recs {
		if r.Version == 1 && r.Host == "" {
			t.Fatalf("a dead import's spilled record %d survived", id)
		}
	}
	var pending int
	ws.db.QueryRow(`SELECT count(*) FROM journal`).Scan(&pending)
	if pending != 0 {
		t.Errorf("%d journal rows left after draining", pending)
	}
}

// TestAttach: one collector ID per workspace; another store, or a workspace
// that holds data already, is refused.
func TestAttach(t *testing.T) {
	ws := openTemp(t)
	if j, _ := ws.Journaled(ctx); j {
		t.Fatal("a new workspace is journaled")
	}
	a, err := ws.Attach(ctx, "clickhouse://h:9000/db")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ws.Attach(ctx, "clickhouse://h:9000/db")
	if err != nil || a != b {
		t.Fatalf("attach again: %d, %v (first %d)", b, err, a)
	}
	if _, err := ws.Attach(ctx, "clickhouse://other:9000/db"); !errors.Is(err, ErrAttached) {
		t.Fatalf("attach to another store: %v, want ErrAttached", err)
	}
	if j, _ := ws.Journaled(ctx); !j {
		t.Fatal("attached workspace not journaled")
	}
	full := openTemp(t)
	path, _ := demoLog(t, "nutanix", 50)
	if _, err := full.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := full.Attach(ctx, "s"); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("attach a workspace with data: %v, want ErrNotEmpty", err)
	}
}

// TestBatchCodec round-trips records and refuses damaged batches.
func TestBatchCodec(t *testing.T) {
	recs := []analysis.SessionRecord{{ID: 7, Version: 3, Closed: true, Host: "esx-01",
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("2001:db8::1"), Proto: 6, DPort: 443,
		SPort: 50000, Side: 2, Labels: []string{"SGWEB", "rule 1001"}, Vendors: 4, Actions: 2, Start: 1744000000,
		First: 1744000000e9, Last: 1744000001e9, Counts: [4]uint64{1, 2, 3, 4}, Unanswered: true, Samples: []string{"line"}}}
	tags := map[string]string{"rule 1001": "SGWEB"}
	b := encodeBatch(recs, tags)
	gotTags := map[string]string{}
	got, err := decodeBatch(b, nil, gotTags)
	if err != nil || !reflect.DeepEqual(got, recs) || !reflect.DeepEqual(gotTags, tags) {
		t.Fatalf("round trip: %+v %v %v", got, gotTags, err)
	}
	for cut := 0; cut < len(b); cut++ {
		if _, err := decodeBatch(b[:cut], nil, map[string]string{}); err == nil {
			t.Fatalf("a batch cut at %d of %d bytes decoded", cut, len(b))
		}
	}
}

// FuzzDecodeBatch: a damaged journal row is an error, never a panic.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch([]analysis.SessionRecord{{ID: 1, Labels: []string{"x"}}}, map[string]string{"a": "b"}))
	f.Add([]byte{journalVersion, 0, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeBatch(b, nil, map[string]string{})
	})
}
