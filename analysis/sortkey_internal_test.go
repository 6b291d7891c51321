package analysis

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// referenceCompare orders conversations as the workspace's key index does:
// the 16-byte forms of source and destination compared as bytes, then
// protocol and port.
func referenceCompare(a, b *ConvState) int {
	as, bs, ad, bd := a.Src.As16(), b.Src.As16(), a.Dst.As16(), b.Dst.As16()
	return cmp.Or(bytes.Compare(as[:], bs[:]), bytes.Compare(ad[:], bd[:]),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.DPort, b.DPort))
}

// TestSortKeyOrder: sort keys compare as the reference order does, for
// every pair of keys that differ in one word or the other: IPv4 and IPv6
// (whose first word is 0 for IPv4), bytes above 127, protocols and ports
// whose high bits are set.
func TestSortKeyOrder(t *testing.T) {
	addrs := []string{"0.0.0.0", "10.0.0.1", "10.0.0.2", "128.0.0.1", "255.255.255.255",
		"::", "::1", "::ffff:10.0.0.1", "2001:db8::1", "2001:db8::ffff:1", "fe80::1", "ff02::1", "ffff::"}
	var states []ConvState
	for _, s := range addrs {
		for _, d := range addrs[:5] {
			for _, pp := range [][2]int{{6, 443}, {6, 32768}, {17, 53}, {200, 1}, {200, 65535}} {
				states = append(states, ConvState{Src: netip.MustParseAddr(s), Dst: netip.MustParseAddr(d),
					Proto: uint8(pp[0]), DPort: uint16(pp[1])})
			}
		}
	}
	for i := range states {
		for j := range states {
			a, b := &states[i], &states[j]
			ka, kb := SortKeyOf(a), SortKeyOf(b)
			if got, want := ka.Compare(&kb), referenceCompare(a, b); got != want {
				t.Fatalf("%v %v %d %d against %v %v %d %d: %d, want %d",
					a.Src, a.Dst, a.Proto, a.DPort, b.Src, b.Dst, b.Proto, b.DPort, got, want)
			}
		}
	}
}

// TestSortedConvs: a model's conversations come out of its shards in the
// reference order, each once, however many goroutines read their keys.
func TestSortedConvs(t *testing.T) {
	m := NewModel(Options{})
	for _, evs := range [][]ingest.Event{demoEvents(t, "nutanix", 1500, 5), demoEvents(t, "nsxt", 1500, 5)} {
		for i := range evs {
			m.Add(&evs[i])
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for workers := 1; workers <= 5; workers++ {
		convs := m.sortedConvs(workers)
		if want := m.stats().Conversations; len(convs) != want || want < 100 {
			t.Fatalf("%d workers: %d conversations sorted, the model holds %d", workers, len(convs), want)
		}
		for i := 1; i < len(convs); i++ {
			if referenceCompare(convs[i-1].c, convs[i].c) >= 0 {
				t.Fatalf("%d workers: conversation %d (%v) is not after %d (%v)", workers, i, convs[i].c.Key(), i-1, convs[i-1].c.Key())
			}
		}
	}
}

// TestSortKeyed: the radix sort and the sort by comparisons give the same
// order, for sets below and above radixMin, of IPv4 and IPv6 keys (mixed,
// differing in few bytes or in every byte), ties included (refs with one
// key keep their order: both sorts are given them so).
func TestSortKeyed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	v4 := func() SortKey { // 10.x.y.z to 10.1.y.z, a few ports
		return SortKey{0, 0xffff_0a00_0000 | r.Uint64N(1<<17), 0, 0xffff_0a00_0000 | r.Uint64N(1<<17), 6<<16 | r.Uint64N(4)*1000}
	}
	v6 := func() SortKey { return SortKey{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64N(1 << 24)} }
	for _, tc := range []struct {
		name string
		n    int
		key  func() SortKey
	}{
		{"v4 few", 100, v4}, {"v4 many", 20_000, v4}, {"v6 many", 5_000, v6},
		{"mixed", 3_000, func() SortKey {
			if r.IntN(2) == 0 {
				return v4()
			}
			return v6()
		}},
		{"ties", 2_000, func() SortKey { return SortKey{0, 1, 2, 3, r.Uint64N(3)} }},
		{"one key", 1_000, func() SortKey { return SortKey{5, 4, 3, 2, 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refs := make([]keyedRef, tc.n)
			for i := range refs {
				refs[i] = keyedRef{k: tc.key(), i: uint32(i), sh: uint8(i % numShards)}
			}
			want := slices.Clone(refs)
			slices.SortStableFunc(want, func(a, b keyedRef) int { return a.k.Compare(&b.k) })
			sortKeyed(refs)
			if !slices.Equal(refs, want) {
				i := 0
				for refs[i] == want[i] {
					i++
				}
				t.Fatalf("%d refs: at %d got %v, want %v", tc.n, i, refs[i], want[i])
			}
		})
	}
}

// BenchmarkSortKeyed sorts the keys of 42,000 IPv4 conversations (a
// commit's, on issue 14's corpora) by bytes, and by comparisons (cmp).
func BenchmarkSortKeyed(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	refs := make([]keyedRef, 42_000)
	for i := range refs {
		refs[i] = keyedRef{k: SortKey{0, 0xffff_0a00_0000 | r.Uint64N(1<<16), 0, 0xffff_0a00_0000 | r.Uint64N(1<<16),
			6<<16 | r.Uint64N(1<<16)}, i: uint32(i)}
	}
	work := make([]keyedRef, len(refs))
	for _, by := range []string{"radix", "cmp"} {
		b.Run(by, func(b *testing.B) {
			for b.Loop() {
				copy(work, refs)
				if by == "radix" {
					sortKeyed(work)
				} else {
					slices.SortFunc(work, func(a, b keyedRef) int { return a.k.Compare(&b.k) })
				}
			}
		})
	}
}
