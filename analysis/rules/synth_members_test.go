package rules_test

import (
	"cmp"
	"fmt"
	"math/rand"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestSynthesizeMembersAdmitsAsSynthesize: the lean synthesis of the
// readiness replay makes the rules Synthesize makes as far as what they
// admit (IDs, directions, services, endpoints with their members, and
// their conversations), edits replayed on both, on the demo corpus and on
// random ones, and the readiness replayed with either agrees.
func TestSynthesizeMembersAdmitsAsSynthesize(t *testing.T) {
	convs, full := demoRules(t, 2000)
	multi, other, first := editTargets(t, full)
	edits := []rules.Edit{
		{Seq: 1, Op: rules.EditMerge, Rule: multi.ID, Arg: other.ID},
		{Seq: 2, Op: rules.EditSplit, Rule: multi.ID},
		{Seq: 3, Op: rules.EditDelete, Rule: first.ID},
	}
	tb := analysistest.Table(convs)
	for _, ed := range [][]rules.Edit{nil, edits} {
		want, _ := rules.ApplyEdits(rules.Synthesize(tb, rules.Knobs{}), ed)
		got, _ := rules.ApplyEdits(rules.SynthesizeMembers(tb, rules.Knobs{}), ed)
		sameAdmission(t, fmt.Sprintf("demo, %d edits", len(ed)), got, want)
	}
	blocked := 0
	for seed := int64(1); seed <= 30; seed++ {
		convs := randomConversations(rand.New(rand.NewSource(seed)))
		k := rules.Knobs{CollapseMin: 1 + int(seed%5), AnyPeers: 2 + int(seed%40)}
		tb := analysistest.Table(convs)
		sameAdmission(t, fmt.Sprintf("seed %d", seed), rules.SynthesizeMembers(tb, k), rules.Synthesize(tb, k))
		cut := time.Unix(1.7e9+12*3600, 0)
		synth := func(lean bool) rules.Readiness {
			r, err := rules.CheckReadiness(tb, cut, k, func(before *analysis.Table) (rules.Set, error) {
				if lean {
					return rules.SynthesizeMembers(before, k), nil
				}
				return rules.Synthesize(before, k), nil
			})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			r.Held = nil
			return r
		}
		got, want := synth(true), synth(false)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("seed %d: readiness %+v, want %+v", seed, got, want)
		}
		blocked += len(want.Blocked)
	}
	if blocked == 0 {
		t.Error("no replay blocked anything: the comparison says little")
	}
}

// randomConversations draws conversations as TestSynthesizeRandom does, over
// a day of hours (so that a readiness replay has sessions on both sides of
// its cut).
func randomConversations(r *rand.Rand) []analysistest.Conversation {
	var convs []analysistest.Conversation
	ends := randomEnds(r)
	for range 50 + r.Intn(400) {
		start := time.Unix(1.7e9+int64(r.Intn(24))*3600, 0)
		c := analysistest.Conversation{
			Src:      netip.AddrFrom4([4]byte{10, byte(r.Intn(3)), byte(r.Intn(4)), byte(1 + r.Intn(40))}),
			Dst:      netip.AddrFrom4([4]byte{10, byte(r.Intn(3)), byte(r.Intn(4)), byte(1 + r.Intn(40))}),
			Proto:    []uint8{ingest.ProtoTCP, ingest.ProtoUDP, ingest.ProtoICMP, 47}[r.Intn(4)],
			DPort:    uint16([]int{53, 80, 443, 8080, 8081, 8082, 3306}[r.Intn(7)]),
			Sessions: uint64(1 + r.Intn(9)),
			First:    start, Last: start.Add(30 * time.Minute),
		}
		c.Hourly = []analysis.Hour{{Start: start, Sessions: c.Sessions}}
		c.Direction = analysis.DirectionOf(ends.monitored(c.Src), ends.monitored(c.Dst))
		c.SrcGroups, c.DstGroups = ends.groups(c.Src), ends.groups(c.Dst)
		if c.Proto == ingest.ProtoICMP || c.Proto == 47 {
			c.DPort = 0
		}
		if r.Intn(10) == 0 {
			c.Unanswered = c.Sessions
		}
		if r.Intn(3) == 0 {
			c.Tags = []analysis.Tag{{Name: fmt.Sprintf("SG%d", r.Intn(3)), Direction: c.Direction}}
		}
		convs = append(convs, c)
	}
	convs = dedupe(convs)
	slices.SortFunc(convs, analysistest.Compare)
	return convs
}

// sameAdmission compares what the rules of got and want admit, rule by
// rule (by ID), and their review and outside lists.
func sameAdmission(t *testing.T, what string, got, want rules.Set) {
	t.Helper()
	admits := func(rs rules.Set) []rules.Rule {
		out := make([]rules.Rule, len(rs.Rules))
		for i, r := range rs.Rules {
			out[i] = rules.Rule{ID: r.ID, Direction: r.Direction, Action: r.Action, Src: r.Src, Dst: r.Dst,
				Service:  rules.Service{Proto: r.Service.Proto, Ports: r.Service.Ports},
				Evidence: rules.Evidence{Rows: slices.Sorted(slices.Values(r.Evidence.Rows))}}
		}
		slices.SortFunc(out, func(a, b rules.Rule) int { return cmp.Compare(a.ID, b.ID) })
		return out
	}
	if len(want.Rules) == 0 {
		t.Fatalf("%s: no rules to compare", what)
	}
	if g, w := admits(got), admits(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: the lean rules differ:\n%+v\nwant\n%+v", what, g, w)
	}
	if !reflect.DeepEqual(got.Review, want.Review) || !reflect.DeepEqual(got.Outside, want.Outside) {
		t.Errorf("%s: review %d, outside %d; want %d, %d", what, len(got.Review), len(got.Outside), len(want.Review), len(want.Outside))
	}
}
