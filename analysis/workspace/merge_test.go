package workspace

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// TestBlockBuilder commits states through the block builder and the
// writer, as an import's commit does: new conversations go 64 to a block;
// a second commit merges states into stored conversations (their sessions
// added, their sample lines merged), adds new ones before the first
// block, between stored ones (splitting the blocks they fall in) and
// after the last; and the blocks stay ordered, disjoint and bounded, each
// conversation in one.
func TestBlockBuilder(t *testing.T) {
	state := func(a, i int, sessions uint64, sample string) *analysis.ConvState {
		st := &analysis.ConvState{Src: netip.MustParseAddr("10.0.0.1"),
			Dst: netip.AddrFrom4([4]byte{10, byte(a), byte(i >> 8), byte(i)}), Proto: 6,
			DPort: 443, First: int64(i + 1), Last: int64(i + 2), Samples: []string{sample}}
		st.Sides[0].Sessions = sessions
		st.Sides[0].Counts[1] = uint64(i)
		return st
	}
	ws := openTemp(t)
	var day1 []*analysis.ConvState
	for i := range 300 {
		day1 = append(day1, state(2, 2*i, 1, "x"))
	}
	if got, want := commitStates(t, ws, day1), (Counts{Conversations: 300, Sessions: 300}); got != want {
		t.Errorf("first commit added %+v, want %+v", got, want)
	}
	if sizes := blockSizes(t, ws); !slices.Equal(sizes, []int{64, 64, 64, 108}) {
		t.Errorf("blocks of %v conversations, want 64, 64, 64 and 108", sizes)
	}
	var day2 []*analysis.ConvState
	day2 = append(day2, state(1, 0, 3, "b")) // before the first block
	for i := range 100 {                     // into the first two blocks, between stored ones
		day2 = append(day2, state(2, 2*i+1, 1, "n")) // new
		day2 = append(day2, state(2, 2*i+2, 2, "m")) // stored: merged
	}
	day2 = append(day2, state(3, 0, 5, "a")) // after the last
	got := commitStates(t, ws, day2)
	if want := (Counts{Conversations: 102, Sessions: 3 + 100 + 200 + 5}); got != want {
		t.Errorf("second commit added %+v, want %+v", got, want)
	}
	if n := checkBlocks(t, ws); n != 402 {
		t.Errorf("%d conversations in blocks, want 402", n)
	}
	// The first block takes 65 (129: split), the second 36, the last 1.
	if sizes := blockSizes(t, ws); !slices.Equal(sizes, []int{64, 65, 100, 64, 109}) {
		t.Errorf("blocks of %v conversations, want 64, 65, 100, 64 and 109", sizes)
	}
	checkDay2(t, ws, state)
}

// checkDay2 checks the conversations of TestBlockBuilder's second commit,
// made by state.
func checkDay2(t *testing.T, ws *Workspace, state func(a, i int, sessions uint64, sample string) *analysis.ConvState) {
	t.Helper()
	states, err := ws.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byDst := map[netip.Addr]analysis.ConvState{}
	for _, st := range states {
		byDst[st.Dst] = st
	}
	for _, c := range []struct {
		a, i     int
		sessions uint64
		samples  []string
	}{
		{1, 0, 3, []string{"b"}}, {2, 1, 1, []string{"n"}}, {2, 2, 3, []string{"x", "m"}},
		{2, 200, 3, []string{"x", "m"}}, {2, 202, 1, []string{"x"}}, {2, 598, 1, []string{"x"}}, {3, 0, 5, []string{"a"}},
	} {
		want := state(c.a, c.i, c.sessions, "")
		got, ok := byDst[want.Dst]
		if !ok || got.Sides[0].Sessions != c.sessions || !slices.Equal(got.Samples, c.samples) {
			t.Errorf("%v: %v sessions %d samples %q, want %d %q", want.Dst, ok, got.Sides[0].Sessions, got.Samples,
				c.sessions, c.samples)
		}
	}
	top, err := ws.Top(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	var dsts []string
	for i := range top.Len() {
		dsts = append(dsts, top.Dst(i).String())
	}
	if want := []string{"10.2.2.86", "10.2.2.84", "10.2.2.82"}; !slices.Equal(dsts, want) {
		t.Errorf("Top 3: %v, want %v", dsts, want)
	}
}

// TestBlockBytes: blocks whose entries take more than convBlockBytes are
// split, however few they are, on the first commit and on a later one that
// merges into them; every conversation stays in one block.
func TestBlockBytes(t *testing.T) {
	defer func(n int) { convBlockBytes = n }(convBlockBytes)
	convBlockBytes = 1000
	ws := openTemp(t)
	var states []*analysis.ConvState
	for i := range 300 {
		st := &analysis.ConvState{Src: netip.MustParseAddr("10.0.0.1"),
			Dst: netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), Proto: 6, DPort: 443, First: 1, Last: 2}
		st.Sides[0].Sessions = 1
		states = append(states, st)
	}
	for day := range 2 {
		commitStates(t, ws, states)
		if n := checkBlocks(t, ws); n != 300 {
			t.Fatalf("day %d: %d conversations in blocks, want 300", day, n)
		}
		var most, blocks int
		if err := ws.db.QueryRowContext(ctx, `SELECT max(length(states)), count(*) FROM conversation_blocks`).
			Scan(&most, &blocks); err != nil {
			t.Fatal(err)
		}
		if most > 1200 || blocks < 300*60/1000 {
			t.Errorf("day %d: %d blocks, the largest %d bytes: want none much over 1000", day, blocks, most)
		}
	}
	c, err := ws.Counts(ctx)
	if err != nil || c.Sessions != 600 {
		t.Errorf("counts %+v (%v), want 600 sessions", c, err)
	}
}

// commitStates commits states, sorted by key here, into ws through a
// block builder and a writer, as storeModel does, and returns what they
// added.
func commitStates(t *testing.T, ws *Workspace, states []*analysis.ConvState) Counts {
	t.Helper()
	states = slices.Clone(states)
	slices.SortFunc(states, func(a, b *analysis.ConvState) int {
		ka, kb := a.Key(), b.Key()
		return indexOrder(&ka, &kb)
	})
	var added Counts
	err := ws.write(ctx, func(tx *sql.Tx) error {
		stored, err := storedConversations(ctx, tx)
		if err != nil {
			return err
		}
		b, err := newBlockBuilder(ctx, tx, ws.db, stored)
		if err != nil {
			return err
		}
		defer b.close()
		s, err := newBlockStore(ctx, tx)
		if err != nil {
			return err
		}
		defer s.close()
		e := encoder{}
		p := &piece{}
		for _, st := range states {
			if err := b.add(p, st); err != nil {
				return err
			}
		}
		b.finish(p)
		if err := e.makeBlocks(p); err != nil {
			return err
		}
		added = b.added
		return s.store(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	return added
}

// checkEntries checks the entries es of block row (checkBlocks): in key
// order after *prev, which it moves on; ids not in ids, which it adds
// them to; marked apart when apart holds their id, sated only with as many
// sample lines as a merge keeps. It returns their sums.
func checkEntries(t *testing.T, row int64, es []convEntry, prev **analysis.Key, ids, apart map[int64]bool) blockSums {
	t.Helper()
	var got blockSums
	for i := range es {
		e := &es[i]
		if *prev != nil && indexOrder(*prev, &e.k) >= 0 {
			t.Errorf("block %d: conversation %v after %v", row, e.k, **prev)
		}
		*prev = &e.k
		if ids[e.id] {
			t.Errorf("block %d: conversation id %d twice", row, e.id)
		}
		if e.apart != apart[e.id] {
			t.Errorf("block %d: conversation %d marked apart %v, has a conversation_samples row %v",
				row, e.id, e.apart, apart[e.id])
		}
		var st analysis.ConvState
		if n, err := decodeStateInto(e.rec, &st, nil, false); err != nil || (e.sated && n < analysis.DefaultSamples) {
			t.Errorf("block %d: conversation %d marked sated with %d sample lines (%v)", row, e.id, n, err)
		}
		ids[e.id] = true
		got.add(e)
	}
	return got
}

// blockSizes returns the number of conversations of each block, in key
// order.
func blockSizes(t *testing.T, ws *Workspace) []int {
	t.Helper()
	rows, err := ws.db.QueryContext(ctx, `SELECT n FROM conversation_blocks ORDER BY src, dst, proto, dport`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// checkBlocks checks the invariants of ws's conversation blocks: each
// decodes, holds what its columns say (its first key, count and sums), no
// more than convBlockMax conversations, in key order after those of the
// block before; ids are distinct; a conversation is marked apart when it
// has a conversation_samples row, and only then. It returns how many
// conversations they hold.
func checkBlocks(t *testing.T, ws *Workspace) int {
	t.Helper()
	apart := map[int64]bool{}
	for _, s := range tableRows(t, ws, "(SELECT id FROM conversation_samples)") {
		var id int64
		fmt.Sscan(s, &id)
		apart[id] = true
	}
	rows, err := ws.db.QueryContext(ctx, `SELECT id, src, dst, proto, dport, n, sessions, bytes, top, first_ns,
		last_ns, last_id, states FROM conversation_blocks ORDER BY src, dst, proto, dport`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[int64]bool{}
	var prev *analysis.Key
	total := 0
	for rows.Next() {
		var row int64
		var src, dst, blob []byte
		var k analysis.Key
		var s blockSums
		if err := rows.Scan(&row, &src, &dst, &k.Proto, &k.DPort, &s.n, &s.sessions, &s.bytes, &s.top, &s.first,
			&s.last, &s.lastID, &blob); err != nil {
			t.Fatal(err)
		}
		k.Src, k.Dst = [16]byte(src), [16]byte(dst)
		es, err := decodeEntries(nil, blob)
		if err != nil || len(es) == 0 || len(es) > convBlockMax {
			t.Fatalf("block %d: %d entries (%v)", row, len(es), err)
		}
		if es[0].k != k {
			t.Errorf("block %d: first key %v, its row says %v", row, es[0].k, k)
		}
		if got := checkEntries(t, row, es, &prev, ids, apart); got != s {
			t.Errorf("block %d: columns %+v, its entries make %+v", row, s, got)
		}
		total += len(es)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// tableRows returns every row of table in ws, in the order of its first column, as text.
func tableRows(t *testing.T, ws *Workspace, table string) []string {
	t.Helper()
	rows, err := ws.db.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBlockBuilderRandom commits random sets of conversations, dense and
// sparse, new and stored ones mixed, over many commits (and with small
// blocks by bytes in half of them): after each, the blocks keep their
// invariants, and every conversation's sessions are the sum of what the
// commits brought, none lost or counted twice.
func TestBlockBuilderRandom(t *testing.T) {
	defer func(n int) { convBlockBytes = n }(convBlockBytes)
	rng := rand.New(rand.NewPCG(49, 8))
	ws := openTemp(t)
	want := map[analysis.Key]uint64{}
	for round := range 24 {
		convBlockBytes = []int{256 << 10, 3000}[round%2]
		n := []int{1, 5, 40, 400, 1500}[rng.IntN(5)]
		seen := map[analysis.Key]bool{}
		var states []*analysis.ConvState
		for range n {
			i := rng.IntN(3000)
			st := &analysis.ConvState{Src: netip.AddrFrom4([4]byte{10, byte(i % 7), 0, 1}),
				Dst: netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}), Proto: 6, DPort: uint16(i % 3)}
			if seen[st.Key()] {
				continue
			}
			seen[st.Key()] = true
			st.Sides[0].Sessions = uint64(1 + rng.IntN(9))
			want[st.Key()] += st.Sides[0].Sessions
			states = append(states, st)
		}
		commitStates(t, ws, states)
		if got := checkBlocks(t, ws); got != len(want) {
			t.Fatalf("round %d: %d conversations in blocks, want %d", round, got, len(want))
		}
	}
	states, err := ws.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != len(want) {
		t.Fatalf("%d states, want %d", len(states), len(want))
	}
	for _, st := range states {
		if got := st.Sides[0].Sessions; got != want[st.Key()] {
			t.Errorf("%v: %d sessions, want %d", st.Key(), got, want[st.Key()])
		}
	}
}
