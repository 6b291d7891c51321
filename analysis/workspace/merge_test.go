package workspace

import (
	"database/sql"
	"net/netip"
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// TestMergerBatch: states merged in bulk mode wait in batches; two states
// of one key in one batch (an import's drained pieces of a conversation)
// are stored as one conversation, as states added one at a time are, and
// a state of a key stored by an earlier batch is merged into it.
func TestMergerBatch(t *testing.T) {
	state := func(dst string, sessions uint64, sample string) *analysis.ConvState {
		st := &analysis.ConvState{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr(dst), Proto: 6,
			DPort: 443, First: 1, Last: 2, Samples: []string{sample}}
		st.Sides[0].Sessions = sessions
		return st
	}
	var in []*analysis.ConvState
	for i := range batchRows + 10 {
		in = append(in, state(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String(), 1, "x"))
	}
	in = append(in[:3], append([]*analysis.ConvState{state("10.1.0.1", 5, "y")}, in[3:]...)...) // in the same batch
	in = append(in, state("10.1.0.2", 7, "z"))                                                  // in a later one
	ws := openTemp(t)
	var got Counts
	err := ws.write(ctx, func(tx *sql.Tx) error {
		mg, err := newMerger(ctx, tx, len(in))
		if err != nil {
			return err
		}
		defer closeAll(mg.stmts)
		if mg.ids == nil {
			t.Fatal("not in bulk mode")
		}
		for _, st := range in {
			r := newRow{k: st.Key(), first: st.First, last: st.Last}
			r.sessions, r.bytes = sortKeys(st)
			b, split := encodeSplit(nil, st)
			r.to, r.lines = len(b), len(b)-split
			if err := mg.addRow(&r, b); err != nil {
				return err
			}
		}
		err = mg.flush()
		got = mg.added
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Conversations: batchRows + 10, Sessions: batchRows + 10 + 5 + 7}); got != want {
		t.Errorf("added %+v, want %+v", got, want)
	}
	for dst, want := range map[string]analysis.ConvState{"10.1.0.1": *state("10.1.0.1", 6, "x"), "10.1.0.2": *state("10.1.0.2", 8, "x")} {
		w := want
		w.Samples = []string{"x", map[string]string{"10.1.0.1": "y", "10.1.0.2": "z"}[dst]}
		var b, lines []byte
		k := w.Key()
		if err := ws.db.QueryRowContext(ctx, withLines+` WHERE dst = ?`, k.Dst[:]).Scan(new(int64), &b, &lines); err != nil {
			t.Fatal(err)
		}
		st, err := decodeState(append(b, lines...))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st.Sides[0].Sessions, w.Sides[0].Sessions) || !reflect.DeepEqual(st.Samples, w.Samples) {
			t.Errorf("%s: sessions %d samples %q, want %d %q", dst, st.Sides[0].Sessions, st.Samples, w.Sides[0].Sessions, w.Samples)
		}
	}
}
