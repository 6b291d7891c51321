package analysis_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// addLines parses lines into m.
func addLines(t *testing.T, m *analysis.Model, lines []string) { analysistest.AddLines(t, m, lines) }

// mergeStates merges state lists by conversation key.
func mergeStates(lists ...[]analysis.ConvState) []analysis.ConvState {
	type key struct {
		src, dst netip.Addr
		proto    uint8
		dport    uint16
	}
	idx := map[key]int{}
	var out []analysis.ConvState
	for _, l := range lists {
		for _, st := range l {
			if st.Empty() {
				continue
			}
			k := key{st.Src, st.Dst, st.Proto, st.DPort}
			if i, ok := idx[k]; ok {
				out[i].Merge(&st, analysis.DefaultSamples)
			} else {
				idx[k] = len(out)
				out = append(out, st)
			}
		}
	}
	return out
}

// TestSplitImportEqualsWhole is the invariant behind workspace imports: a
// log read in two parts, the second continuing the first's open
// connections, gives exactly the conversations of reading it at once.
func TestSplitImportEqualsWhole(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
		var buf bytes.Buffer
		if _, _, err := demo.Generate(&buf, demo.Config{Vendor: vendor, Sessions: 1500, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		whole := analysis.NewModel(analysis.Options{})
		addLines(t, whole, lines)
		want := analysistest.Rows(whole.Table())
		for _, cut := range []int{1, len(lines) / 3, len(lines) / 2, len(lines) - 7} {
			t.Run(fmt.Sprintf("%s/cut%d", vendor, cut), func(t *testing.T) {
				a := analysis.NewModel(analysis.Options{})
				addLines(t, a, lines[:cut])
				sessions, clocks := a.Sessions()
				b := analysis.NewModel(analysis.Options{})
				b.Restore(sessions, clocks)
				addLines(t, b, lines[cut:])
				states := mergeStates(a.States(), b.States())
				tags := a.RuleTags()
				for r, tg := range b.RuleTags() {
					tags[r] = tg
				}
				got := analysistest.Build(states, analysis.NewMonitored(nil, states), tags)
				// Samples are the first lines of each part; everything else must match.
				analysistest.SameConversations(t, got, want)
			})
		}
	}
}

// TestEachStateAndSession: the states and sessions handed at once, on two
// goroutines, are those EachState and EachSession hand one after the other
// (states in key order, with their sample lines from the file), and so are
// the clocks; an error of either side is returned.
func TestEachStateAndSession(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxt"} {
		t.Run(vendor, func(t *testing.T) {
			m := openModel(t, vendor)
			want, err := walkModel(m, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := walkModel(m, true)
			if err != nil {
				t.Fatal(err)
			}
			withSamples := func(st analysis.ConvState) bool { return len(st.Samples) > 0 }
			if len(want.sessions) == 0 || !slices.ContainsFunc(want.states, withSamples) {
				t.Fatalf("%d states, %d sessions: the corpus does not test it", len(want.states), len(want.sessions))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("states, sessions or clocks differ from EachState's and EachSession's")
			}
			stop := errors.New("stop")
			for name, fail := range map[string][2]error{"states": {stop, nil}, "sessions": {nil, stop}} {
				_, err := m.EachStateAndSession(func(*analysis.ConvState) error { return fail[0] },
					func(*analysis.SessionState) error { return fail[1] })
				if !errors.Is(err, stop) {
					t.Errorf("%s failing: got %v, want its error", name, err)
				}
			}
		})
	}
}

// openModel is a model of vendor's demo lines, its sample lines in a
// file, without the lines that close a connection: they stay open.
func openModel(t *testing.T, vendor string) *analysis.Model {
	f, err := os.CreateTemp(t.TempDir(), "samples")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m := analysis.NewModel(analysis.Options{SampleFile: f, Records: true})
	var lines []string
	for _, l := range demoLines(t, vendor, 3000) {
		if !strings.Contains(l, "[Destroy]") && !strings.Contains(l, " TERM ") {
			lines = append(lines, l)
		}
	}
	addLines(t, m, lines)
	return m
}

// walked is what walkModel was handed.
type walked struct {
	states   []analysis.ConvState
	sessions []analysis.SessionState
	clocks   map[string]int64
}

// walkModel copies m's states and sessions, at once (EachStateAndSession)
// or one after the other (EachState, EachSession).
func walkModel(m *analysis.Model, atOnce bool) (walked, error) {
	var w walked
	state := func(st *analysis.ConvState) error { w.states = append(w.states, cloneState(st)); return nil }
	session := func(st *analysis.SessionState) error { w.sessions = append(w.sessions, cloneSession(st)); return nil }
	var err error
	if atOnce {
		w.clocks, err = m.EachStateAndSession(state, session)
		return w, err
	}
	if err = m.EachState(state); err == nil {
		w.clocks, err = m.EachSession(session)
	}
	return w, err
}

// cloneSession copies a session lent by EachSession.
func cloneSession(st *analysis.SessionState) analysis.SessionState {
	c := *st
	if st.Record != nil {
		r := *st.Record
		r.Labels, r.Samples = slices.Clone(r.Labels), slices.Clone(r.Samples)
		c.Record = &r
	}
	return c
}
