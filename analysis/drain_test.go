package analysis_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// cloneState copies a state lent by EachState or Drain.
func cloneState(st *analysis.ConvState) analysis.ConvState {
	c := *st
	c.Samples, c.Labels, c.Hosts = slices.Clone(st.Samples), slices.Clone(st.Labels), slices.Clone(st.Hosts)
	for i := range c.Sides {
		c.Sides[i].Hourly = slices.Clone(st.Sides[i].Hourly)
	}
	return c
}

// checkTaken fails when a conversation that Drain kept has handed more
// than DefaultSamples sample lines since it was made; one it forgot starts
// anew if it comes back.
func checkTaken(taken map[analysis.Key]int, st *analysis.ConvState, kept bool) error {
	k := st.Key()
	if taken[k] += len(st.Samples); taken[k] > analysis.DefaultSamples {
		return fmt.Errorf("%v handed %d sample lines over its drains, want at most %d", k, taken[k], analysis.DefaultSamples)
	}
	if !kept {
		delete(taken, k)
	}
	return nil
}

// TestDrainEqualsWhole: a model drained every few hundred lines hands
// states that add up to the conversations of a model that never drained,
// sample lines included, and lets go of the conversations no open
// connection refers to. DrainEncoded hands the same states (those that
// hold anything) without their sample lines, which SampleLines reads back
// from where it said they are (its places written and read back as a drain
// file has them), and in the same order.
func TestDrainEqualsWhole(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
		lines := demoLines(t, vendor, 1500)
		whole := analysis.NewModel(analysis.Options{})
		addLines(t, whole, lines)
		for _, every := range []int{1, 97, len(lines) / 3} {
			for _, refs := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/every%d/refs=%v", vendor, every, refs), func(t *testing.T) {
					var opts analysis.Options
					if every != 97 { // the sample lines in a file
						f, err := os.CreateTemp(t.TempDir(), "samples")
						if err != nil {
							t.Fatal(err)
						}
						defer f.Close()
						opts.SampleFile = f
					}
					m := analysis.NewModel(opts)
					handed := drainEvery(t, m, lines, every, refs)
					states := mergeStates(handed, m.States())
					got := analysistest.Build(states, analysis.NewMonitored(nil, states), m.RuleTags())
					want := analysistest.Rows(whole.Table())
					analysistest.SameConversations(t, got, want)
					for i := range got {
						if !reflect.DeepEqual(got[i].Samples, want[i].Samples) {
							t.Fatalf("conversation %d: samples %q, want %q", i, got[i].Samples, want[i].Samples)
						}
					}
				})
			}
		}
	}
}

// drainEvery adds lines to m, every at a time, draining it after each (with
// DrainEncoded when refs), and returns the states it handed, their sample
// lines read back. It fails unless some conversation was forgotten, or if
// a drain left the model holding more.
func drainEvery(t *testing.T, m *analysis.Model, lines []string, every int, refs bool) []analysis.ConvState {
	t.Helper()
	d := drained{taken: make(map[analysis.Key]int)}
	for lo := 0; lo < len(lines); lo += every {
		addLines(t, m, lines[lo:min(lo+every, len(lines))])
		before := m.Held()
		var err error
		if refs {
			err = d.drainEncoded(m)
		} else {
			err = m.Drain(d.state)
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Held() > before {
			t.Fatalf("held %d conversations after a drain, %d before", m.Held(), before)
		}
	}
	if !d.forgot {
		t.Error("no conversation was forgotten")
	}
	if refs {
		read, err := m.SampleLines(d.places)
		if err != nil {
			t.Fatal(err)
		}
		for k := range d.handed {
			if len(d.places[k]) > 0 {
				d.handed[k].Samples = read[k]
			}
		}
	}
	return d.handed
}

// drained gathers what drains handed.
type drained struct {
	handed []analysis.ConvState
	places []analysis.SampleRefs // with DrainEncoded
	forgot bool
	taken  map[analysis.Key]int // sample lines handed since the conversation was made
}

// state takes a state Drain hands.
func (d *drained) state(st *analysis.ConvState, kept bool) error {
	d.forgot = d.forgot || !kept
	d.handed = append(d.handed, cloneState(st))
	return checkTaken(d.taken, st, kept)
}

// drainEncoded drains m with DrainEncoded, each state encoded as its index
// in a list of those handed, and takes them (refs) in the order written.
// It fails if a state that holds nothing is handed, or if the states of
// one drain do not ascend in key order.
func (d *drained) drainEncoded(m *analysis.Model) error {
	type handed struct {
		st   analysis.ConvState
		refs analysis.SampleRefs
		kept bool
	}
	var mu sync.Mutex
	var list []handed
	enc := func(b []byte, st *analysis.ConvState, refs analysis.SampleRefs, kept bool) []byte {
		mu.Lock()
		defer mu.Unlock()
		list = append(list, handed{cloneState(st), slices.Clone(refs), kept})
		return binary.AppendUvarint(b, uint64(len(list)-1))
	}
	var last *analysis.SortKey
	return m.DrainEncoded(enc, func(b []byte, states int) error {
		mu.Lock()
		defer mu.Unlock()
		r := bytes.NewReader(b)
		for range states {
			i, err := binary.ReadUvarint(r)
			if err != nil {
				return err
			}
			h := &list[i]
			k := analysis.SortKeyOf(&h.st)
			if h.st.Empty() || (last != nil && k.Compare(last) <= 0) {
				return fmt.Errorf("%v handed empty (%v) or out of key order", h.st.Key(), h.st.Empty())
			}
			last = &k
			if err := d.refs(&h.st, h.refs, h.kept); err != nil {
				return err
			}
		}
		if r.Len() > 0 {
			return fmt.Errorf("%d bytes past %d states", r.Len(), states)
		}
		return nil
	})
}

// refs takes a state DrainEncoded hands, and where its lines are, written
// and read back as a drain file has them.
func (d *drained) refs(st *analysis.ConvState, r analysis.SampleRefs, kept bool) error {
	d.forgot = d.forgot || !kept
	back, err := analysis.ReadSampleRefs(bytes.NewReader(analysis.AppendSampleRefs(nil, r)))
	if err != nil || len(back) != len(r) || (len(r) > 0 && !reflect.DeepEqual(back, r)) {
		return fmt.Errorf("sample places %v read back as %v (%v)", r, back, err)
	}
	d.handed, d.places = append(d.handed, cloneState(st)), append(d.places, back)
	counted := *st
	if len(r) > 0 {
		counted.Samples = make([]string, len(r))
	}
	return checkTaken(d.taken, &counted, kept)
}

// TestHeldHours: HeldHours counts the entries of the held conversations'
// Hourly lists (on every side), as the lines come and after a drain,
// which empties or forgets them all; before the lists are read, each
// session not yet added to them counts one.
func TestHeldHours(t *testing.T) {
	entries := func(m *analysis.Model) int {
		n := 0
		for _, st := range m.States() {
			for _, s := range st.Sides {
				n += len(s.Hourly)
			}
		}
		return n
	}
	for _, vendor := range []string{"nutanix", "nsxt"} {
		t.Run(vendor, func(t *testing.T) {
			lines := demoLines(t, vendor, 3000)
			m := analysis.NewModel(analysis.Options{})
			third := len(lines) / 3
			addLines(t, m, lines[:third])
			if got := m.HeldHours(); got < entries(m) { // the sessions not yet in the lists count one each
				t.Fatalf("a third of the lines: HeldHours %d before the lists were read, fewer than they hold", got)
			}
			if want, got := entries(m), m.HeldHours(); got != want || want == 0 {
				t.Fatalf("a third of the lines: HeldHours %d, the lists hold %d", got, want)
			}
			if err := m.Drain(func(*analysis.ConvState, bool) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if got := m.HeldHours(); got != 0 {
				t.Fatalf("after a drain: HeldHours %d, want 0", got)
			}
			addLines(t, m, lines[third:])
			if want, got := entries(m), m.HeldHours(); got != want || want == 0 {
				t.Fatalf("the rest of the lines: HeldHours %d, the lists hold %d", got, want)
			}
		})
	}
}
