package analysis

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestPipelineSameAsSequential: a model fed through a Pipeline, in batches
// of any size, with or without shard lists, holds the conversations and the
// open sessions of one fed line by line, and every batch is released once,
// after its events were recorded.
func TestPipelineSameAsSequential(t *testing.T) {
	corpora := map[string][]ingest.Event{"returning": parseAll(t, returningLines(3000, 2))}
	for _, vendor := range []string{"nutanix", "nsxt"} {
		corpora[vendor] = demoEvents(t, vendor, 1500, 5)
	}
	for name, evs := range corpora {
		seq := NewModel(Options{})
		for i := range evs {
			seq.Add(&evs[i])
		}
		wantStates, wantSessions := seq.States(), sessionsOf(seq)
		for _, batch := range []int{1, 7, 500} {
			for _, sharded := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/batch%d/sharded=%v", name, batch, sharded), func(t *testing.T) {
					m := NewModel(Options{})
					var released, batches atomic.Int64
					pipe := m.Pipeline(3)
					for lo := 0; lo < len(evs); lo += batch {
						fs, names, data := flowsOf(evs[lo:min(lo+batch, len(evs))])
						var shards [][]int32
						if sharded {
							shards = splitFlows(fs)
						}
						batches.Add(1)
						pipe.AddFlows(fs, names, data, shards, func() { released.Add(1) })
					}
					pipe.Close()
					if released.Load() != batches.Load() {
						t.Fatalf("%d batches released, want %d", released.Load(), batches.Load())
					}
					if got := m.States(); !reflect.DeepEqual(got, wantStates) {
						t.Errorf("conversations differ from the sequential model's (%d, want %d)", len(got), len(wantStates))
					}
					if got := sessionsOf(m); !reflect.DeepEqual(got, wantSessions) {
						t.Errorf("open sessions differ from the sequential model's (%d, want %d)", len(got), len(wantSessions))
					}
				})
			}
		}
	}
}

func sessionsOf(m *Model) []SessionState {
	s, _ := m.Sessions()
	return s
}

// TestPipelineQuiesce: Quiesce returns once every batch added is recorded,
// with the model's own methods usable from fn (a drain among them), and the
// pipeline goes on after it to the same model as a sequential one.
func TestPipelineQuiesce(t *testing.T) {
	evs := demoEvents(t, "nutanix", 1500, 5)
	seq := NewModel(Options{})
	for i := range evs {
		seq.Add(&evs[i])
	}
	m := NewModel(Options{})
	pipe := m.Pipeline(3)
	var drained []ConvState
	for lo, k, n := 0, 0, 0; lo < len(evs); lo, k = lo+97, k+1 {
		fs, names, data := flowsOf(evs[lo:min(lo+97, len(evs))])
		pipe.AddFlows(fs, names, data, nil, func() {})
		if n += len(fs); k%5 != 4 { // every fifth batch
			continue
		}
		err := pipe.Quiesce(func() error {
			if got := m.Stats().Events; got != int64(n) {
				t.Fatalf("%d events recorded when quiesced, want %d", got, n)
			}
			return m.Drain(func(st *ConvState, _ bool) error {
				drained = append(drained, st.clone())
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pipe.Close()
	if len(drained) == 0 {
		t.Fatal("no drain ran")
	}
	got := map[Key]*ConvState{}
	for _, st := range append(drained, m.States()...) {
		if c, ok := got[st.Key()]; ok {
			c.Merge(&st, DefaultSamples)
		} else {
			got[st.Key()] = &st
		}
	}
	want := seq.States()
	if len(got) != len(want) {
		t.Fatalf("%d conversations, want %d", len(got), len(want))
	}
	for _, w := range want {
		g := got[w.Key()]
		if g == nil || !reflect.DeepEqual(g.Sides, w.Sides) {
			t.Fatalf("conversation %v: %+v, want %+v", w.Key(), g, w)
		}
	}
}
