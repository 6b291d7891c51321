package analysis

import (
	"cmp"
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// oldConversation is how a state became a conversation before the table:
// each figure the largest side's, hours merged through a map, lists copied.
// It is the table's oracle.
func oldConversation(c *ConvState, mon *Monitored, ruleTags map[string]string) conversation {
	out := conversation{Src: c.Src, Dst: c.Dst, Proto: c.Proto, DPort: c.DPort,
		Direction: direction(mon.Contains(c.Src), mon.Contains(c.Dst)),
		Samples:   slices.Clone(c.Samples), Hosts: slices.Clone(c.Hosts)}
	var unans int64
	byHour := map[int32]uint64{}
	for i := range c.Sides {
		s := &c.Sides[i]
		out.Sessions = max(out.Sessions, s.Sessions)
		unans = max(unans, s.Unanswered)
		out.OrigPkts, out.OrigBytes = max(out.OrigPkts, s.Counts[0]), max(out.OrigBytes, s.Counts[1])
		out.ReplyPkts, out.ReplyBytes = max(out.ReplyPkts, s.Counts[2]), max(out.ReplyBytes, s.Counts[3])
		for _, h := range s.Hourly {
			byHour[h.Hour] = max(byHour[h.Hour], uint64(h.N))
		}
	}
	out.Unanswered = uint64(unans)
	for h, n := range byHour {
		out.Hourly = append(out.Hourly, Hour{Start: time.Unix(int64(h)*3600, 0).UTC(), Sessions: n})
	}
	slices.SortFunc(out.Hourly, func(a, b Hour) int { return a.Start.Compare(b.Start) })
	if c.First != 0 {
		out.First, out.Last = time.Unix(0, c.First).UTC(), time.Unix(0, c.Last).UTC()
	}
	slices.Sort(out.Hosts)
	for a := ingest.Action(1); a < 16; a++ {
		if c.Actions&(1<<a) != 0 {
			out.Actions = append(out.Actions, a)
		}
	}
	for v := ingest.Vendor(1); v < 8; v++ {
		if c.Vendors&(1<<v) != 0 {
			out.Vendors = append(out.Vendors, v)
		}
	}
	if out.Tags = tags(c.Labels, ruleTags); len(out.Tags) == 0 && len(c.Labels) == 0 {
		out.Tags = nil
	}
	out.Unauthenticated = c.Origins == OriginUnauthenticated
	return out
}

// randomStates makes n states of every shape: both address families, one
// to three sides, hours out of order now and then, shared and distinct
// label and host lists, missing times.
func randomStates(r *rand.Rand, n int) []ConvState {
	names := []string{"web", "db", "rule 1007", "rule 1008", "app"}
	hosts := []string{"esx-1", "esx-2", "ahv-3"}
	out := make([]ConvState, n)
	for i := range out {
		st := &out[i]
		if r.IntN(5) == 0 {
			st.Src = netip.AddrFrom16([16]byte{0x20, 0x01, 0xd, 0xb8, 15: byte(r.IntN(20))})
			st.Dst = netip.AddrFrom16([16]byte{15: byte(r.IntN(4))}) // ::x sorts before IPv4 by bytes, after it by Compare
		} else {
			st.Src = netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(3)), byte(r.IntN(30))})
			st.Dst = netip.AddrFrom4([4]byte{10, 1, 0, byte(r.IntN(30))})
		}
		st.Proto = []uint8{ingest.ProtoTCP, ingest.ProtoUDP, ingest.ProtoICMP}[r.IntN(3)]
		st.DPort = uint16(r.IntN(5)) + uint16(i)*7 // unique keys
		for s := range st.Sides {
			if r.IntN(3) == 0 {
				continue
			}
			side := &st.Sides[s]
			side.Sessions = uint64(r.IntN(50))
			side.Unanswered = int64(r.IntN(3)) - 1
			for j := range side.Counts {
				side.Counts[j] = uint64(r.IntN(1000))
			}
			h := int32(480000 + r.IntN(10))
			for range r.IntN(4) {
				side.Hourly = append(side.Hourly, HourCount{h, uint32(1 + r.IntN(9))})
				h += int32(1 + r.IntN(3))
			}
			if r.IntN(10) == 0 && len(side.Hourly) > 1 {
				side.Hourly[0], side.Hourly[1] = side.Hourly[1], side.Hourly[0]
			}
		}
		if r.IntN(6) != 0 {
			st.First = int64(1_700_000_000+r.IntN(1000)) * 1e9
			st.Last = st.First + int64(r.IntN(1e6))
		}
		for _, n := range names {
			if r.IntN(3) == 0 {
				st.Labels = append(st.Labels, LabelState{Name: n, Sides: uint8(r.IntN(8))})
			}
		}
		for _, h := range hosts {
			if r.IntN(2) == 0 {
				st.Hosts = append(st.Hosts, h)
			}
		}
		st.Actions = uint16(r.IntN(1 << 5))
		st.Vendors = uint8(r.IntN(1 << 5))
		st.Origins = uint8(1 + r.IntN(3))
		if r.IntN(2) == 0 {
			st.Samples = []string{"line one", "line two"}[:1+r.IntN(2)]
		}
	}
	return out
}

// TestTableEqualsConversions checks the table's rows against the old
// conversion of each state, in Compare order, with learned and declared
// monitored sets.
func TestTableEqualsConversions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ruleTags := map[string]string{"rule 1007": "web"}
	for round := range 20 {
		states := randomStates(r, 200)
		mon := NewMonitored(nil, states)
		if round%2 == 1 {
			mon = NewMonitored([]netip.Prefix{netip.MustParsePrefix("10.0.1.0/24")}, nil)
		}
		want := make([]conversation, len(states))
		for i := range states {
			want[i] = oldConversation(&states[i], mon, ruleTags)
		}
		slices.SortFunc(want, Compare)
		b := NewTableBuilder(ruleTags, 0, nil)
		for i := range states {
			b.Add(&states[i], 0, len(states[i].Samples))
		}
		if round%2 == 0 {
			if learned := b.Learned(); !reflect.DeepEqual(learned.learned, mon.learned) {
				t.Fatalf("learned %d endpoints, want %d", len(learned.learned), len(mon.learned))
			}
		}
		tb := b.Finish(mon, nil)
		got := rowsOf(tb)
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("round %d, conversation %d:\n got %+v\nwant %+v", round, i, got[i], want[i])
			}
			if c := convOf(tb, i); c.Hourly != nil || c.Samples != nil || !reflect.DeepEqual(c.Tags, want[i].Tags) {
				t.Fatalf("Conv(%d) = %+v", i, c)
			}
		}
	}
}

// TestTableInventory names the ends of rows after the inventory.
func TestTableInventory(t *testing.T) {
	states := randomStates(rand.New(rand.NewPCG(3, 4)), 50)
	vms := map[netip.Addr]VMLabel{states[0].Src: {"web-01", []string{"AppTier:Web"}}, states[0].Dst: {"db-01", nil}}
	tb := tableOf(states, NewMonitored(nil, states), vms)
	named := 0
	for i := range tb.Len() {
		c := convOf(tb, i)
		for _, end := range []struct {
			a      netip.Addr
			vm     string
			groups []string
		}{{c.Src, c.SrcVM, c.SrcGroups}, {c.Dst, c.DstVM, c.DstGroups}} {
			l, ok := vms[end.a]
			if end.vm != l.VM || !slices.Equal(end.groups, l.Groups) {
				t.Fatalf("%s named %q %v, want %q %v", end.a, end.vm, end.groups, l.VM, l.Groups)
			}
			if ok {
				named++
			}
		}
	}
	if named == 0 {
		t.Fatal("no end named")
	}
	// Named afterwards (a store's table), the rows are the same.
	if got, want := rowsOf(tableOf(states, NewMonitored(nil, states), nil).WithLabels(vms)), rowsOf(tb); !reflect.DeepEqual(got, want) {
		t.Fatalf("WithLabels differs from Finish's labels:\n got %+v\nwant %+v", got, want)
	}
}

// TestReorderedByBytes: a top list holds every row once, the most bytes
// first, ties in table order, each row whole.
func TestReorderedByBytes(t *testing.T) {
	states := randomStates(rand.New(rand.NewPCG(7, 8)), 200)
	tb := tableOf(states, NewMonitored(nil, states), nil)
	order := tb.ByBytes()
	top := tb.Reordered(order)
	all := rowsOf(tb)
	for j := range top.Len() {
		if j > 0 && (top.Bytes(j) > top.Bytes(j-1) || top.Bytes(j) == top.Bytes(j-1) && order[j] < order[j-1]) {
			t.Fatalf("row %d (%d bytes, was %d) after %d bytes (was %d)", j, top.Bytes(j), order[j], top.Bytes(j-1), order[j-1])
		}
		if got := detailOf(top, j); !reflect.DeepEqual(got, all[order[j]]) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", j, got, all[order[j]])
		}
	}
	if seen := slices.Sorted(slices.Values(order)); !slices.Equal(seen, tb.All()) {
		t.Fatalf("not every row once: %v", seen)
	}
}

// fakeLoader serves samples by key, counting the calls.
type fakeLoader struct {
	lines map[int64][]string
	calls int
	err   error
}

func (f *fakeLoader) Samples(keys []int64) ([][]string, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := make([][]string, len(keys))
	for i, k := range keys {
		out[i] = f.lines[k]
	}
	return out, nil
}

// TestTableLoadsSamples reads the samples of stored rows through the
// loader, in one call for many rows, and reports the loader's error.
func TestTableLoadsSamples(t *testing.T) {
	states := randomStates(rand.New(rand.NewPCG(7, 8)), 40)
	l := &fakeLoader{lines: map[int64][]string{}}
	b := NewTableBuilder(nil, 0, l)
	for i := range states {
		b.Add(&states[i], int64(1000+i), len(states[i].Samples))
		l.lines[int64(1000+i)] = []string{"sample of " + states[i].Src.String()}
	}
	tb := b.Finish(NewMonitored(nil, states), nil)
	got := tb.SamplesOf(tb.All())
	if l.calls != 1 {
		t.Errorf("%d loader calls, want 1", l.calls)
	}
	for i := range got {
		if want := "sample of " + tb.Src(i).String(); len(got[i]) != 1 || got[i][0] != want {
			t.Fatalf("row %d: samples %q, want %q", i, got[i], want)
		}
	}
	if tb.Err() != nil {
		t.Fatal(tb.Err())
	}
	l.err = errors.New("disk on fire")
	if s := tb.Samples(3); s != nil || !errors.Is(tb.Err(), l.err) {
		t.Fatalf("samples %q, err %v", s, tb.Err())
	}
}

// TestCompareRows orders rows as Compare orders their conversations.
func TestCompareRows(t *testing.T) {
	states := randomStates(rand.New(rand.NewPCG(9, 10)), 200)
	tb := tableOf(states, NewMonitored(nil, states), nil)
	for i := range tb.Len() {
		for j := range tb.Len() {
			a, b := convOf(tb, i), convOf(tb, j)
			if got, want := cmp.Compare(tb.CompareRows(i, j), 0), cmp.Compare(Compare(a, b), 0); got != want {
				t.Fatalf("rows %d, %d: %d, want %d (%v %v)", i, j, got, want, a.Src, b.Src)
			}
		}
	}
}

// rowsOf returns every row of t as detailOf does (analysistest.Rows, which
// these tests inside the package cannot import).
func rowsOf(t *Table) []conversation {
	out := make([]conversation, t.Len())
	for i := range out {
		out[i] = detailOf(t, i)
	}
	return out
}

// tableOf returns the table of states, with directions from mon and the
// ends named after vms (may be nil).
func tableOf(states []ConvState, mon *Monitored, vms map[netip.Addr]VMLabel) *Table {
	b := NewTableBuilder(nil, len(states), nil)
	for i := range states {
		b.Add(&states[i], 0, len(states[i].Samples))
	}
	return b.Finish(mon, vms)
}
