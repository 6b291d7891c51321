package analysis_test

import (
	"fmt"
	"os"
	"reflect"
	"slices"
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
// connection refers to.
func TestDrainEqualsWhole(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
		lines := demoLines(t, vendor, 1500)
		whole := analysis.NewModel(analysis.Options{})
		addLines(t, whole, lines)
		for _, every := range []int{1, 97, len(lines) / 3} {
			t.Run(fmt.Sprintf("%s/every%d", vendor, every), func(t *testing.T) {
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
				var handed []analysis.ConvState
				forgot := false
				taken := make(map[analysis.Key]int) // sample lines handed since the conversation was made
				for lo := 0; lo < len(lines); lo += every {
					addLines(t, m, lines[lo:min(lo+every, len(lines))])
					before := m.Held()
					err := m.Drain(func(st *analysis.ConvState, kept bool) error {
						forgot = forgot || !kept
						handed = append(handed, cloneState(st))
						return checkTaken(taken, st, kept)
					})
					if err != nil {
						t.Fatal(err)
					}
					if m.Held() > before {
						t.Fatalf("held %d conversations after a drain, %d before", m.Held(), before)
					}
				}
				if !forgot {
					t.Error("no conversation was forgotten")
				}
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
