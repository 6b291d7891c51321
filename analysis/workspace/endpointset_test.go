package workspace

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// TestEndpointSet: the set gives each address's 16 bytes once, in the
// order of the bytes, whatever the repeats and however often it grew on
// the way (IPv4, IPv6 below and above ::ffff:0:0 and :: itself, an IPv4
// address and its mapped form, which the table stores as one), in at most
// twice as many slots as addresses once it has grown. A third of the
// addresses come through addInOrder, mostly ascending (repeats, and now
// and then one out of order, as well as addresses add is given too).
func TestEndpointSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pool := endpointPool(r)
	for _, n := range []int{0, 1, 100, endpointSlotsMin - 1, endpointSlotsMin, 50 * endpointSlotsMin} {
		var s endpointSet
		want := fillEndpoints(&s, pool, n, r)
		var wantSorted [][16]byte
		for b := range want {
			wantSorted = append(wantSorted, b)
		}
		slices.SortFunc(wantSorted, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
		slots := len(s.slots)
		got := s.sorted()
		if len(got) != len(wantSorted) {
			t.Fatalf("n=%d: %d addresses, want %d", n, len(got), len(wantSorted))
		}
		for i, a := range got {
			var b [16]byte
			a.put(b[:])
			if b != wantSorted[i] {
				t.Fatalf("n=%d: address %d is %x, want %x", n, i, b, wantSorted[i])
			}
		}
		if len(want) > endpointSlotsMin && slots > 3*len(want) {
			t.Errorf("n=%d: %d slots for %d distinct addresses", n, slots, len(want))
		}
	}
}

// endpointPool returns addresses of every kind TestEndpointSet mixes.
func endpointPool(r *rand.Rand) []netip.Addr {
	var pool []netip.Addr
	for range 3 * endpointSlotsMin {
		var b [16]byte
		switch r.IntN(4) {
		case 0: // IPv4
			pool = append(pool, netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}))
			continue
		case 1: // IPv4-mapped
			b = netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}).As16()
		case 2: // below ::ffff:0:0
			b[15] = byte(r.IntN(256))
			b[14] = byte(r.IntN(4))
		default:
			b[0], b[1], b[15] = 0x20, 0x01, byte(r.IntN(256))
			b[8] = byte(r.IntN(64))
		}
		pool = append(pool, netip.AddrFrom16(b))
	}
	return pool
}

// fillEndpoints gives s n addresses of pool, and returns the set of their
// bytes: a third through addInOrder, ascending with repeats, and now and
// then one out of order; :: halfway.
func fillEndpoints(s *endpointSet, pool []netip.Addr, n int, r *rand.Rand) map[[16]byte]bool {
	asc := slices.Clone(pool)
	slices.SortFunc(asc, func(a, b netip.Addr) int { x, y := a.As16(), b.As16(); return bytes.Compare(x[:], y[:]) })
	want := map[[16]byte]bool{}
	j := 0 // asc's next for addInOrder
	for i := range n {
		a := pool[r.IntN(len(pool))]
		if i%7 == 0 {
			a = pool[i%len(pool)] // repeats of recent ones too
		}
		switch {
		case i == n/2:
			a = netip.IPv6Unspecified()
			s.addInOrder(a)
		case i%3 == 0 && i%51 == 0:
			s.addInOrder(a) // out of order
		case i%3 == 0:
			a = asc[j%len(asc)] // ascending, with repeats; from the start again past the end
			j += r.IntN(2)
			s.addInOrder(a)
		default:
			s.add(a)
		}
		want[a.As16()] = true
	}
	return want
}

// TestEndpointsStoredAsLearned: a workspace's endpoints table holds the set
// analysis.LearnEndpoints gives of the states of the same lines in memory
// (sources of outbound sessions, destinations of inbound ones), whether
// the commits drained or not: the sources the encoder learns in key order
// go to the writer with the pieces (endpointSet.takeRun), the rest at the
// end, and the second import's again (INSERT OR IGNORE).
func TestEndpointsStoredAsLearned(t *testing.T) {
	first, second := resumeLines(3_000)
	dir := t.TempDir()
	a := writeLines(t, dir, "a.log", withInbound(first, 4, 1))
	b := writeLines(t, dir, "b.log", withInbound(second, 5, 2))
	want := learnedInMemory(t, a, b)
	if len(want) < 4*pieceRows {
		t.Fatalf("%d endpoints: too few to span several pieces", len(want))
	}
	for _, drainAt := range []int{drainConversations, 100} {
		t.Run(fmt.Sprintf("drain at %d", drainAt), func(t *testing.T) {
			defer func(n int) { drainConversations = n }(drainConversations)
			drainConversations = drainAt
			ws, err := OpenNew(filepath.Join(t.TempDir(), "w.flowsleuth"))
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			importedAs(t, ws, a, b)
			if got := storedEndpoints(t, ws); !maps.Equal(got, want) {
				t.Errorf("%d endpoints stored, want the %d learned in memory", len(got), len(want))
			}
		})
	}
}

// withInbound returns lines with those at i%every == at made inbound.
func withInbound(lines []string, every, at int) []string {
	out := slices.Clone(lines)
	for i := range out {
		if i%every == at {
			out[i] = strings.Replace(out[i], "DIRECTION=OUTBOUND", "DIRECTION=INBOUND", 1)
		}
	}
	return out
}

// learnedInMemory returns the 16 bytes of the endpoints
// analysis.LearnEndpoints learns from the states of files read in memory.
func learnedInMemory(t *testing.T, files ...string) map[[16]byte]bool {
	t.Helper()
	m := analysis.NewModel(analysis.Options{})
	if _, err := analysis.Import(ctx, m, files, analysis.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	out := map[[16]byte]bool{}
	for _, st := range m.States() {
		analysis.LearnEndpoints(&st, func(x netip.Addr) { out[x.As16()] = true })
	}
	return out
}

// storedEndpoints returns ws's endpoints table.
func storedEndpoints(t *testing.T, ws *Workspace) map[[16]byte]bool {
	t.Helper()
	rows, err := ws.db.QueryContext(ctx, `SELECT addr FROM endpoints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[[16]byte]bool{}
	for rows.Next() {
		var addr []byte
		if err := rows.Scan(&addr); err != nil || len(addr) != 16 {
			t.Fatalf("endpoint %x: %v", addr, err)
		}
		out[[16]byte(addr)] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEndpointWriter: whatever the sizes of the lists it is handed, to
// add and then to finish, the writer stores each address once, none lost
// (full statements taken from a list itself, a short remainder kept).
func TestEndpointWriter(t *testing.T) {
	ws := openTemp(t)
	tx, err := ws.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	w := endpointWriter{ctx: ctx, tx: tx}
	defer w.close()
	want := map[[16]byte]bool{}
	next := uint64(1)
	list := func(n int) []addr16 {
		out := make([]addr16, n)
		for i := range out {
			out[i] = addr16{lo: next}
			var b [16]byte
			out[i].put(b[:])
			want[b] = true
			next++
		}
		return out
	}
	for _, n := range []int{0, 3, endpointRows, 2*endpointRows + 88, 1, endpointRows - 1, 1000} {
		if err := w.add(list(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.finish(list(2*endpointRows + 1)); err != nil {
		t.Fatal(err)
	}
	got := map[[16]byte]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT addr FROM endpoints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil || len(b) != 16 {
			t.Fatalf("endpoint %x: %v", b, err)
		}
		got[[16]byte(b)] = true
	}
	if !maps.Equal(got, want) {
		t.Errorf("%d endpoints stored, want %d", len(got), len(want))
	}
}
