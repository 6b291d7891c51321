package analysis

import (
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestHoursFolded: a shard notes the hour of each session it starts and adds
// them to the sides' Hourly lists later (foldHours), when it has noted
// hourLog of them and before its conversations are read (eachConv) or
// moved (drain). Whatever hourLog is, what the Model hands out after Add,
// AddBatch, within a Pipeline's Quiesce, after a drain there and after its
// Close has every side's hours adding up to its sessions (every demo line
// has a time), and the same states.
func TestHoursFolded(t *testing.T) {
	var evs []ingest.Event
	for _, vendor := range []string{"nutanix", "nsxt"} {
		evs = append(evs, demoEvents(t, vendor, 2000, 9)...)
	}
	var want []ConvState
	defer func(n int) { hourLog = n }(hourLog)
	for _, n := range []int{hourLog, 5} {
		hourLog = n
		one := NewModel(Options{})
		for i := range evs {
			one.Add(&evs[i])
		}
		hoursAddUp(t, "Add", one.States())
		if want == nil {
			want = one.States()
		}
		batch := NewModel(Options{})
		batch.AddBatch(evs)
		hoursAddUp(t, "AddBatch", batch.States())

		m := pipelined(t, evs, false)
		pipelined(t, evs, true)
		for name, got := range map[string][]ConvState{"Add": one.States(), "AddBatch": batch.States(), "Pipeline": m.States()} {
			if !reflect.DeepEqual(got, want) {
				t.Errorf("hourLog %d: %s: states differ from Add's with the default hourLog", n, name)
			}
		}
	}
}

// pipelined feeds evs to a new model through a Pipeline, in three parts,
// checking the hours after the first from Quiesce and, with drain, draining
// the model from Quiesce after the second; it checks them again after
// Close, and returns the model.
func pipelined(t *testing.T, evs []ingest.Event, drain bool) *Model {
	t.Helper()
	m := NewModel(Options{})
	pipe := m.Pipeline(2)
	third := len(evs) / 3
	for i, part := range [][]ingest.Event{evs[:third], evs[third : 2*third], evs[2*third:]} {
		fs, names, data := flowsOf(part)
		pipe.AddFlows(fs, names, data, nil, func() {})
		var err error
		switch {
		case i == 0:
			err = pipe.Quiesce(func() error { hoursAddUp(t, "Quiesce", m.States()); return nil })
		case i == 1 && drain:
			err = pipe.Quiesce(func() error {
				var drained []ConvState
				err := m.Drain(func(st *ConvState, _ bool) error { drained = append(drained, st.clone()); return nil })
				hoursAddUp(t, "Drain", drained)
				return err
			})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pipe.Close()
	hoursAddUp(t, "Close", m.States())
	return m
}

// hoursAddUp fails t unless every side's hours add up to its sessions.
func hoursAddUp(t *testing.T, how string, states []ConvState) {
	t.Helper()
	sessions := 0
	for _, c := range states {
		for d, s := range c.Sides {
			n := uint64(0)
			for _, h := range s.Hourly {
				n += uint64(h.N)
			}
			if n != s.Sessions {
				t.Fatalf("hourLog %d, %s: %v→%v side %d: hours add up to %d, sessions %d", hourLog, how, c.Src, c.Dst, d, n, s.Sessions)
			}
			sessions += int(s.Sessions)
		}
	}
	if sessions == 0 {
		t.Fatalf("%s: no sessions", how)
	}
}

// TestHourLogBound: a shard folds its noted hours once it holds hourLog of
// them, so that the log stays bounded however many lines come in a batch.
func TestHourLogBound(t *testing.T) {
	evs := demoEvents(t, "nutanix", 2000, 9)
	defer func(n int) { hourLog = n }(hourLog)
	hourLog = 5
	m := NewModel(Options{})
	fs, names, data := flowsOf(evs)
	idx := splitFlows(fs)
	for s := range m.shards {
		sh := &m.shards[s]
		sh.useNames(names)
		sh.addAhead(fs, idx[s], data, false)
		if len(sh.hours) >= hourLog {
			t.Fatalf("shard %d holds %d noted hours, want fewer than %d", s, len(sh.hours), hourLog)
		}
	}
}
