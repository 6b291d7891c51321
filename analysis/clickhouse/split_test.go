package clickhouse_test

import (
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
)

// TestSplitInserts forwards a journal whose batches pass the size cap of
// one insert: they go as several inserts, and the store still equals the
// model of the same lines.
func TestSplitInserts(t *testing.T) {
	defer clickhouse.SetMaxInsertBytes(16 << 10)()
	lines := demoLines(t, "nsxt", 1500, 2)
	want := inMemory(t, lines)
	s := newStore(t)
	var j memJournal
	collect(t, &j, lines, len(lines)/2, len(lines))
	if _, err := s.Forward(ctx, &j, clickhouse.Collector{ID: 7, Name: "site"}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := analysistest.RowsOf(s.Conversations(ctx, clickhouse.Query{}))
	if err != nil {
		t.Fatal(err)
	}
	analysistest.SameConversations(t, got, want)
}
