// Package analysistest holds test helpers shared by the analysis packages'
// tests.
package analysistest

import (
	"cmp"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// SameConversations fails t unless got and want hold the same
// conversations in the same order, sample lines aside: they are the first
// lines of a conversation that each reader happened to see.
func SameConversations(t testing.TB, got, want []Conversation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d conversations, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		g.Samples, w.Samples = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("conversation %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// RecordStates sums session records into conversation states, as a store
// does: only the latest version of each session (by ID) counts, and only
// the sessions keep selects (nil: all). States come in the order of their
// conversations' first record ID.
func RecordStates(recs []analysis.SessionRecord, keep func(*analysis.SessionRecord) bool) []analysis.ConvState {
	latest := make(map[uint64]analysis.SessionRecord, len(recs))
	for _, r := range recs {
		if prev, ok := latest[r.ID]; !ok || r.Version > prev.Version {
			latest[r.ID] = r
		}
	}
	ids := make([]uint64, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	type key struct {
		src, dst netip.Addr
		proto    uint8
		dport    uint16
	}
	idx := make(map[key]int)
	var out []analysis.ConvState
	for _, id := range ids {
		r := latest[id]
		if keep != nil && !keep(&r) {
			continue
		}
		k := key{r.Src, r.Dst, r.Proto, r.DPort}
		i, ok := idx[k]
		if !ok {
			i, idx[k] = len(out), len(out)
			out = append(out, analysis.ConvState{})
		}
		out[i].AddRecord(&r, analysis.DefaultSamples)
	}
	return out
}

// Compare orders conversations as analysis.Model.Table sorts
// them: by direction (INBOUND, OUTBOUND, INTRA, UNKNOWN), source,
// destination, protocol and port.
func Compare(a, b Conversation) int {
	return cmp.Or(
		cmp.Compare(dirRank[a.Direction], dirRank[b.Direction]),
		a.Src.Compare(b.Src),
		a.Dst.Compare(b.Dst),
		cmp.Compare(a.Proto, b.Proto),
		cmp.Compare(a.DPort, b.DPort),
	)
}

var dirRank = [...]int{ingest.DirInbound: 0, ingest.DirOutbound: 1, ingest.DirIntra: 2, ingest.DirUnknown: 3}

// RowsOf is Rows of a table read with an error: RowsOf(ws.Conversations(ctx, q)).
func RowsOf(tb *analysis.Table, err error) ([]Conversation, error) {
	return Rows(tb), err
}

// Build turns states into sorted conversations, with directions from mon
// and untagged NSX rules ("rule X") named by the tag ruleTags gives them,
// as a workspace's table holds them.
func Build(states []analysis.ConvState, mon *analysis.Monitored, ruleTags map[string]string) []Conversation {
	b := analysis.NewTableBuilder(ruleTags, len(states), nil)
	for i := range states {
		b.Add(&states[i], 0, len(states[i].Samples))
	}
	return Rows(b.Finish(mon, nil))
}
