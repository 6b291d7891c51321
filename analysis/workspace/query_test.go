package workspace

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// TestTableMatchesConversations reads the workspace as a table, whose
// sample lines stay in the store, and as conversations: the same rows,
// whatever the query, on both sides of smallResult (the learned set looked
// up address by address, or read whole while the records are).
func TestTableMatchesConversations(t *testing.T) {
	for _, many := range []bool{false, true} {
		path, _ := demoLog(t, "nsxt", 600)
		files := []string{path}
		if many {
			files = append(files, distinctLog(t, 1500))
		}
		ws := openTemp(t)
		if _, err := ws.Import(ctx, files, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		day := time.Date(2025, 4, 8, 0, 0, 0, 0, time.UTC)
		for _, q := range []Query{{}, {Since: day, Until: day.Add(24 * time.Hour)},
			{Monitored: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}} {
			want, err := analysistest.RowsOf(ws.Conversations(ctx, q))
			if err != nil {
				t.Fatal(err)
			}
			tb, err := ws.Table(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if many == (len(want) <= smallResult) {
				t.Fatalf("%d conversations: on the wrong side of smallResult", len(want))
			}
			got := analysistest.Rows(tb)
			if tb.Err() != nil || len(got) != len(want) {
				t.Fatalf("%d rows (%v), want %d", len(got), tb.Err(), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%+v: row %d:\n got %+v\nwant %+v", q, i, got[i], want[i])
				}
			}
		}
	}
}

// TestSampleLoader reads samples in batches, any number of ids in any
// order with repeats, and leaves out the ids no longer stored.
func TestSampleLoader(t *testing.T) {
	path, _ := demoLog(t, "nutanix", 3000)
	ws := openTemp(t)
	if _, err := ws.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	want := map[int64][]string{}
	err := ws.scan(ctx, true, selection{}, func(id int64, st *analysis.ConvState, _ int, _ *recordLists) {
		ids = append([]int64{id}, ids...)
		want[id] = st.Samples
	})
	if err != nil || len(ids) <= sampleBatch {
		t.Fatalf("%d records (%v), want more than a batch", len(ids), err)
	}
	ids = append(ids, ids[7], 1<<40)
	got, err := sampleLoader{ws}.Samples(ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if !reflect.DeepEqual(got[i], want[id]) || id < 1<<40 && len(got[i]) == 0 {
			t.Fatalf("id %d: %q, want %q", id, got[i], want[id])
		}
	}
}

// TestTableDamagedRecord reports a damaged record as ErrCorrupt, naming it.
func TestTableDamagedRecord(t *testing.T) {
	path, _ := demoLog(t, "nutanix", 3000)
	ws := openTemp(t)
	if _, err := ws.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	damage(t, ws, 700, []byte{1, 0xff, 0xff})
	_, err := ws.Table(ctx, Query{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(fmt.Sprint(err), "conversation 700") {
		t.Fatalf("got %v, want ErrCorrupt naming conversation 700", err)
	}
}

// damage replaces the record of conversation id in its block with rec.
func damage(t *testing.T, ws *Workspace, id int64, rec []byte) {
	t.Helper()
	rows, err := ws.db.Query(`SELECT id, states FROM conversation_blocks`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var row int64
		var blob []byte
		if err := rows.Scan(&row, &blob); err != nil {
			t.Fatal(err)
		}
		es, err := decodeEntries(nil, blob)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(es, func(e convEntry) bool { return e.id == id })
		if i < 0 {
			continue
		}
		es[i].rec = rec
		b := appendBlockHead(nil, len(es))
		for i := range es {
			b = appendEntry(b, &es[i])
		}
		rows.Close()
		if _, err := ws.db.Exec(`UPDATE conversation_blocks SET states = ? WHERE id = ?`, b, row); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("conversation %d is in no block (%v)", id, rows.Err())
}

// distinctLog writes n Nutanix lines of n distinct conversations, as
// testdata/bench/distinct.awk does, and returns the file's path.
func distinctLog(t *testing.T, n int) string {
	var b strings.Builder
	for i := range n {
		dir := "OUTBOUND"
		if i%2 == 1 {
			dir = "INBOUND"
		}
		fmt.Fprintf(&b, "<134>2025-04-08T%02d:%02d:%02d.000000+00:00 ahv-%d Genesis_1: INFO:2025/04/08 %02d:%02d:%02d  "+
			"[ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Discover-Traffic [Destroy] SRC=10.9.%d.%d DST=172.16.%d.1 PROTO=TCP "+
			"SPORT=%d DPORT=%d ACTION=MONITOR DIRECTION=%s ORIG: PKTS=%d BYTES=%d REPLY: PKTS=%d BYTES=%d\n",
			i/3600%24, i/60%60, i%60, i%3, i/3600%24, i/60%60, i%60, i/256%256, i%256, i%20, 32768+i, 1024+i%500, dir,
			1+i%20, 60+i, i%15, i*7%20000)
	}
	path := filepath.Join(t.TempDir(), "distinct.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLeanGivesCacheBack: a connection a lean query used goes back to the
// pool with every connection's page cache (cacheKiB), not a larger one.
func TestLeanGivesCacheBack(t *testing.T) {
	ws, err := Open(filepath.Join(t.TempDir(), "w.flowsleuth"))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.db.SetMaxOpenConns(1) // the pool's one connection: the lean query's
	cacheOf := func() (kib int) {
		t.Helper()
		if err := ws.db.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&kib); err != nil {
			t.Fatal(err)
		}
		return -kib
	}
	if got := cacheOf(); got != cacheKiB {
		t.Fatalf("a new connection's cache: %d KiB, want %d", got, cacheKiB)
	}
	_, done, err := ws.lean(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done()
	if got := cacheOf(); got != cacheKiB {
		t.Errorf("after a lean query, the connection's cache: %d KiB, want %d", got, cacheKiB)
	}
}
