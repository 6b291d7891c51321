package workspace

import (
	"database/sql"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// TestMergerBatch: states merged in bulk mode wait in batches; two states
// of one key in one batch (an import's drained pieces of a conversation)
// are stored as one conversation, as states added one at a time are, and
// a state of a key stored by an earlier batch is merged into it, in a
// batch that is not full and in a full one: inserted on the transaction's
// connection directly (rawStmt), or through database/sql.
func TestMergerBatch(t *testing.T) {
	state := func(dst string, sessions uint64, sample string) *analysis.ConvState {
		st := &analysis.ConvState{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr(dst), Proto: 6,
			DPort: 443, First: 1, Last: 2, Samples: []string{sample}}
		st.Sides[0].Sessions = sessions
		return st
	}
	addr := func(a, i int) string { return netip.AddrFrom4([4]byte{10, byte(a), byte(i >> 8), byte(i)}).String() }
	var in []*analysis.ConvState
	for i := range batchRows + 10 {
		in = append(in, state(addr(1, i), 1, "x"))
	}
	in = append(in[:3], append([]*analysis.ConvState{state("10.1.0.1", 5, "y")}, in[3:]...)...) // in the same batch
	in = append(in, state("10.1.0.2", 7, "z"))                                                  // in a later one
	for i := range batchRows - 1 {                                                              // a full batch after
		in = append(in, state(addr(2, i), 1, "x"))
	}
	in = append(in, state("10.1.0.5", 11, "w")) // … with a key stored by an earlier one
	for _, raw := range []bool{false, true} {
		t.Run(map[bool]string{false: "database/sql", true: "raw"}[raw], func(t *testing.T) {
			ws := openTemp(t)
			got := mergeRows(t, ws, raw, in)
			if want := (Counts{Conversations: 2*batchRows + 9, Sessions: batchRows + 10 + 5 + 7 + batchRows - 1 + 11}); got != want {
				t.Errorf("added %+v, want %+v", got, want)
			}
			for dst, want := range map[string]analysis.ConvState{"10.1.0.1": *state("10.1.0.1", 6, "x"),
				"10.1.0.2": *state("10.1.0.2", 8, "x"), "10.1.0.5": *state("10.1.0.5", 12, "x")} {
				want.Samples = []string{"x", map[string]string{"10.1.0.1": "y", "10.1.0.2": "z", "10.1.0.5": "w"}[dst]}
				checkMerged(t, ws, want)
			}
			var n int
			if err := ws.db.QueryRowContext(ctx, `SELECT count(*) FROM conversations`).Scan(&n); err != nil || n != 2*batchRows+9 {
				t.Errorf("%d conversations stored (%v), want %d", n, err, 2*batchRows+9)
			}
		})
	}
}

// mergeRows merges in into ws through a merger in bulk mode, its full
// batches inserted on the connection directly when raw, and returns what
// it added.
func mergeRows(t *testing.T, ws *Workspace, raw bool, in []*analysis.ConvState) Counts {
	t.Helper()
	var got Counts
	err := ws.writeConn(ctx, func(tx *sql.Tx, conn *sql.Conn) error {
		if !raw {
			conn = nil
		}
		stored, err := storedConversations(ctx, tx)
		if err != nil {
			return err
		}
		mg, err := newMerger(ctx, tx, conn, len(in), stored, false)
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
		if raw && (mg.raw.stmt == nil || mg.raw.off) {
			t.Error("no batch was inserted on the connection directly")
		}
		if raw && (mg.upd.stmt == nil || mg.upd.off) {
			t.Error("no stored state was rewritten on the connection directly")
		}
		return errors.Join(err, mg.closeRaw())
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// checkMerged checks the sessions and sample lines stored for want's key.
func checkMerged(t *testing.T, ws *Workspace, want analysis.ConvState) {
	t.Helper()
	var b, lines []byte
	k := want.Key()
	if err := ws.db.QueryRowContext(ctx, withLines+` WHERE dst = ?`, k.Dst[:]).Scan(new(int64), &b, &lines); err != nil {
		t.Fatal(err)
	}
	st, err := decodeState(append(b, lines...))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Sides[0].Sessions, want.Sides[0].Sessions) || !reflect.DeepEqual(st.Samples, want.Samples) {
		t.Errorf("%s: sessions %d samples %q, want %d %q", want.Dst, st.Sides[0].Sessions, st.Samples, want.Sides[0].Sessions, want.Samples)
	}
}
