package analysis

import (
	"math/rand/v2"
	"testing"
)

// TestKeyOneForm: a row's key is its state's, whatever the table did to the
// row (IPv4 and IPv6 addresses, ICMP types), and states with different keys
// keep them apart.
func TestKeyOneForm(t *testing.T) {
	states := randomStates(rand.New(rand.NewPCG(7, 16)), 300)
	want := make(map[Key]bool, len(states))
	b := NewTableBuilder(nil, len(states), nil)
	for i := range states {
		want[states[i].Key()] = true
		b.Add(&states[i], 0, 0)
	}
	tab := b.Finish(NewMonitored(nil, states), nil)
	got := make(map[Key]bool, tab.Len())
	for i := range tab.Len() {
		k := tab.Key(i)
		if !want[k] {
			t.Fatalf("row %d (%v → %v): key %v is no state's", i, tab.Src(i), tab.Dst(i), k)
		}
		if k != KeyOf(tab.Src(i), tab.Dst(i), tab.Proto(i), tab.DPort(i)) {
			t.Fatalf("row %d: Key and KeyOf differ", i)
		}
		got[k] = true
	}
	if len(got) != len(want) {
		t.Errorf("%d distinct keys in the table, %d in the states", len(got), len(want))
	}
}
