package analysis

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestSampleFileGetAll: lines read back many conversations at once, in
// the file's order with one call for lines near each other, are those read
// one by one, each in its conversation's place: lines next to each other,
// far apart (more than sampleGap), in spans longer than sampleSpan, and
// conversations with none. The lines are put by several shards in turn,
// some longer than a part's region.
func TestSampleFileGetAll(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "samples")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := newSampleFile(f)
	rng := rand.New(rand.NewPCG(1, 2))
	var refs []sampleRef
	for i := range 3000 {
		n := 1 + rng.IntN(400)
		switch {
		case i%500 == 0:
			n = sampleRegion + rng.IntN(sampleRegion) // longer than a region
		case i%50 == 0:
			n = sampleGap + rng.IntN(2*sampleGap) // a gap to the lines around it
		}
		line := fmt.Sprintf("%d:%s", i, strings.Repeat(string(rune('a'+i%26)), n))
		refs = append(refs, s.put(rng.IntN(numShards), []byte(line)))
	}
	convs := make([]SampleRefs, 700)
	for _, i := range rng.Perm(len(refs)) {
		if k := rng.IntN(len(convs) + 100); k < len(convs) && len(convs[k]) < 5 {
			convs[k] = append(convs[k], refs[i])
		}
	}
	check := func(t *testing.T, convs []SampleRefs, got [][]string) {
		t.Helper()
		if err := s.failed(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(convs) {
			t.Fatalf("%d conversations read back, want %d", len(got), len(convs))
		}
		for k, rs := range convs {
			var want []string
			if len(rs) > 0 {
				want = s.get(rs)
			}
			if !reflect.DeepEqual(got[k], want) {
				t.Fatalf("conversation %d: lines %.40q, want %.40q", k, got[k], want)
			}
		}
	}
	check(t, convs, s.getAll(convs, nil))
	// Into a buffer of the caller's, reused: each call's lines are right
	// until the next call.
	var buf []byte
	for _, part := range [][]SampleRefs{convs[:300], convs[300:], convs[:10]} {
		check(t, part, s.getAll(part, &buf))
	}
}

// TestSampleFileShards: shards putting lines at the same time, each on a
// goroutine of its own (as a Pipeline's do), then read back between
// batches and after: every line is read back as it was put, and the file
// holds the regions of every shard (run under -race: the parts need no
// lock).
func TestSampleFileShards(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "samples")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := newSampleFile(f)
	lines := make([][]string, numShards)
	refs := make([]SampleRefs, numShards)
	for batch := range 3 {
		var wg sync.WaitGroup
		for sh := range numShards {
			wg.Go(func() {
				for i := range 2000 {
					line := fmt.Sprintf("batch %d shard %d line %d %s", batch, sh, i, strings.Repeat("x", (i*7+sh)%300))
					lines[sh] = append(lines[sh], line)
					refs[sh] = append(refs[sh], s.put(sh, []byte(line)))
				}
			})
		}
		wg.Wait()
		got := s.getAll(refs, nil)
		if err := s.failed(); err != nil {
			t.Fatal(err)
		}
		for sh := range numShards {
			if !reflect.DeepEqual(got[sh], lines[sh]) {
				t.Fatalf("batch %d, shard %d: %d lines read back differ from the %d put", batch, sh, len(got[sh]), len(lines[sh]))
			}
			if one := s.get(refs[sh][len(refs[sh])-1:]); len(one) != 1 || one[0] != lines[sh][len(lines[sh])-1] {
				t.Fatalf("batch %d, shard %d: last line %.40q, want %.40q", batch, sh, one, lines[sh][len(lines[sh])-1])
			}
		}
	}
}

// TestEachStateSampleWindows: EachState hands every conversation its own
// sample lines when a sample file holds them, read a window at a time (the
// next one while the states of this one are handed), over several
// windows: the lines of a model that keeps them in its heap.
func TestEachStateSampleWindows(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "samples")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spilled, heap := NewModel(Options{SampleFile: f}), NewModel(Options{})
	p := ingest.NewParser()
	n := 3*sampleWindow + 100
	for i := range n {
		for j := range 1 + i%4 { // up to Options.Samples lines, and one more
			line := fmt.Sprintf("<134>2020-05-31T12:42:15.058679+00:00 host-%d flow-hitCount4: INFO:2020/05/31 12:42:%02d "+
				"[7847abb0-285b-4ff9-bb40-271df1a0c229] test [New] SRC=10.%d.%d.%d DST=10.55.7.140 PROTO=TCP SPORT=%d "+
				"DPORT=443 ACTION=ALLOW DIRECTION=OUTBOUND", j, j, i>>16, i>>8&255, i&255, 40000+j)
			var ev ingest.Event
			if b, err := p.Parse([]byte(line), &ev); b != ingest.Parsed {
				t.Fatalf("%s: %v %v", line, b, err)
			}
			spilled.Add(&ev)
			heap.Add(&ev)
		}
	}
	want := make(map[Key][]string, n)
	for _, st := range heap.States() {
		want[st.Key()] = st.Samples
	}
	seen := 0
	err = spilled.EachState(func(st *ConvState) error {
		seen++
		if w := want[st.Key()]; len(w) == 0 || !reflect.DeepEqual(st.Samples, w) {
			t.Fatalf("%v: lines %.60q, want %.60q", st.Key(), st.Samples, w)
		}
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("%d states, want %d (%v)", seen, n, err)
	}
}

// TestFileOrder: fileOrder puts lines in the order of their offsets, and
// its keys name them (under the mask it returns), both as packed numbers
// and, for offsets too large to pack, as plain indices.
func TestFileOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 47))
	for _, top := range []int64{1 << 30, offsetLimit - 1, offsetLimit + 5, 1 << 62} {
		all := make([]linePlace, 5000)
		for i := range all {
			all[i].r = sampleRef{off: rng.Int64N(top), n: 100}
		}
		all[17].r.off = top - 1 // the largest there may be
		order, mask := fileOrder(nil, all)
		if len(order) != len(all) {
			t.Fatalf("offsets below %d: %d lines in order, want %d", top, len(order), len(all))
		}
		seen := make([]bool, len(all))
		for k, o := range order {
			i := o & mask
			if i >= uint64(len(all)) || seen[i] {
				t.Fatalf("offsets below %d: key %d names line %d twice or none", top, k, i)
			}
			seen[i] = true
			if k > 0 && all[order[k-1]&mask].r.off > all[i].r.off {
				t.Fatalf("offsets below %d: line %d at %d after one at %d", top, i, all[i].r.off, all[order[k-1]&mask].r.off)
			}
		}
		if packed := top <= offsetLimit; packed != (mask == placeMask) {
			t.Fatalf("offsets below %d: mask %#x", top, mask)
		}
	}
}

// TestSatedTakesNoSamples: a conversation Options.Sated names takes no
// sample lines, with a sample file or without, and counts its sessions as
// the others do; the others take theirs.
func TestSatedTakesNoSamples(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "samples")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sated := KeyOf(netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.55.7.140"), 6, 443)
	is := func(k Key) bool { return k == sated }
	for _, m := range []*Model{NewModel(Options{SampleFile: f, Sated: is}), NewModel(Options{Sated: is})} {
		p := ingest.NewParser()
		for i := range 3 {
			for j := range 2 {
				line := fmt.Sprintf("<134>2020-05-31T12:42:15.058679+00:00 host-1 flow-hitCount4: INFO:2020/05/31 12:42:%02d "+
					"[7847abb0-285b-4ff9-bb40-271df1a0c229] test [New] SRC=10.0.0.%d DST=10.55.7.140 PROTO=TCP SPORT=%d "+
					"DPORT=443 ACTION=ALLOW DIRECTION=OUTBOUND", j, i+1, 40000+j)
				var ev ingest.Event
				if b, err := p.Parse([]byte(line), &ev); b != ingest.Parsed {
					t.Fatalf("%s: %v %v", line, b, err)
				}
				m.Add(&ev)
			}
		}
		err := m.EachState(func(st *ConvState) error {
			want := 2
			if st.Key() == sated {
				want = 0
			}
			var sessions uint64
			for _, side := range st.Sides {
				sessions += side.Sessions
			}
			if len(st.Samples) != want || sessions != 2 {
				t.Errorf("%v: %d sample lines, %+v; want %d lines, 2 sessions", st.Key(), len(st.Samples), st.Sides, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
