package analysis_test

import (
	"bytes"
	"fmt"
	"net/netip"
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
