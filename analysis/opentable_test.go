package analysis

import (
	"math/rand/v2"
	"testing"
)

// TestTable checks the open-connection table against a map through random
// puts, deletes (by key and by the slot a get gave), and sweeps that delete
// while they iterate, with keys that collide on purpose (few distinct
// values) and a table that grows; and peek, and getAt told the slots where
// peek found the keys many changes ago (or any slot).
func TestTable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var tb table
	defer tb.free()
	want := map[openKey]uint32{}
	key := func() openKey {
		return openKey{src: uint32(r.IntN(50)), dst: 7, sport: uint16(r.IntN(300)), point: uint32(r.IntN(3))}
	}
	lastAt := map[openKey]int{} // where peek last found a key, plus one: getAt's hint, often stale
	for step := 0; step < 200_000; step++ {
		checkPeek(t, &tb, want, lastAt, key(), step)
		k := key()
		switch op := r.IntN(100); {
		case op < 60:
			at := lastAt[k]
			if r.IntN(8) == 0 {
				at = r.IntN(len(tb.slots) + 3) // anywhere, even past the end
			}
			if v := tb.getAt(k, at); v != nil {
				v.ci = uint32(step)
			} else {
				between(&tb, want, op, k, key, uint32(step))
				*tb.put(k) = openVal{ci: uint32(step), n: 1}
			}
			want[k] = uint32(step)
		case op < 80:
			tb.del(k)
			delete(want, k)
		case op < 99:
			delBySlot(&tb, k)
			delete(want, k)
		default:
			cut := uint32(r.IntN(step + 1))
			tb.deleteIf(func(k openKey, v *openVal) bool { return v.ci < cut })
			for k, c := range want {
				if c < cut {
					delete(want, k)
				}
			}
		}
		if step%997 == 0 {
			checkTable(t, &tb, want, step)
		}
	}
	checkTable(t, &tb, want, -1)
}

// checkTable fails t unless tb holds exactly want, by get and by each.
func checkTable(t *testing.T, tb *table, want map[openKey]uint32, step int) {
	t.Helper()
	if tb.len() != len(want) {
		t.Fatalf("step %d: %d entries, want %d", step, tb.len(), len(want))
	}
	for k, c := range want {
		if v := tb.get(k); v == nil || v.ci != c {
			t.Fatalf("step %d: %+v: got %+v, want conv %d", step, k, v, c)
		}
	}
	n := 0
	tb.each(func(k openKey, v *openVal) {
		if want[k] != v.ci {
			t.Fatalf("step %d: each gave %+v = %d, want %d", step, k, v.ci, want[k])
		}
		n++
	})
	if n != len(want) {
		t.Fatalf("step %d: each gave %d entries, want %d", step, n, len(want))
	}
}

// checkPeek fails t unless peek finds k as want has it, and notes where it
// found it in lastAt.
func checkPeek(t *testing.T, tb *table, want map[openKey]uint32, lastAt map[openKey]int, k openKey, step int) {
	t.Helper()
	c, ok := want[k]
	v, at := tb.peek(k)
	if (v != nil) != ok || (ok && v.ci != c) || (v != nil) != (at > 0) {
		t.Fatalf("step %d: peek %+v: got %+v at %d, want conv %d (held: %v)", step, k, v, at, c, ok)
	}
	if at > 0 {
		lastAt[k] = at
	}
}

// between changes the table between a get that did not find k and the put
// of k, for some ops: put fills the slot where get stopped unless the slots
// changed in between (a del shifted them, or a put took it).
func between(tb *table, want map[openKey]uint32, op int, k openKey, key func() openKey, conv uint32) {
	switch k2 := key(); {
	case k2 == k:
	case op < 10:
		for range 50 { // some of them in k's run of full slots
			tb.del(k2)
			delete(want, k2)
			k2 = key()
		}
	case op < 20 && want[k2] == 0:
		*tb.put(k2) = openVal{ci: conv, n: 1}
		want[k2] = conv
	}
}

// TestTableExpect checks that a table told to expect many entries grows to
// room for them at once, but only once it holds expectFrom, and keeps every
// entry through that growth.
func TestTableExpect(t *testing.T) {
	for _, expect := range []int{0, 100_000} {
		var tb table
		tb.expect(expect)
		resizes, size := 0, len(tb.slots)
		for i := range 3 * expectFrom {
			if i < expectFrom-expectFrom/4 && len(tb.slots) >= expect*100/tableLoad && expect > 0 {
				t.Fatalf("expect %d: %d slots at %d entries: grown before holding %d", expect, len(tb.slots), i, expectFrom)
			}
			v := tb.put(openKey{src: uint32(i), dst: 1})
			*v = openVal{ci: uint32(i), n: 1}
			if len(tb.slots) != size {
				resizes, size = resizes+1, len(tb.slots)
			}
		}
		for i := range 3 * expectFrom {
			if v := tb.get(openKey{src: uint32(i), dst: 1}); v == nil || v.ci != uint32(i) {
				t.Fatalf("expect %d: entry %d lost: %+v", expect, i, v)
			}
		}
		if expect > 0 && len(tb.slots) < expect*100/tableLoad {
			t.Errorf("expect %d: %d slots, want room for %d", expect, len(tb.slots), expect)
		}
		if expect == 0 && len(tb.slots) > 2*3*expectFrom {
			t.Errorf("no expectation: %d slots for %d entries", len(tb.slots), 3*expectFrom)
		}
		t.Logf("expect %d: %d resizes, %d slots", expect, resizes, len(tb.slots))
		tb.free()
	}
}

// delBySlot deletes k as a line that ends its connection does: by the slot
// get gave.
func delBySlot(tb *table, k openKey) {
	if v := tb.get(k); v != nil {
		tb.delVal(v)
	}
}

// TestTableGrowth checks that a table doubles while it is within the
// caches and grows by a quarter past them, keeping its entries.
func TestTableGrowth(t *testing.T) {
	var tb table
	defer tb.free()
	prev, doubled, quartered := 0, 0, 0
	for i := range 4 * farSlots {
		*tb.put(openKey{src: uint32(i), dst: 2}) = openVal{ci: uint32(i), n: 1}
		if size := len(tb.slots); size != prev {
			switch {
			case prev == 0:
			case prev < farSlots && size == 2*prev:
				doubled++
			case prev >= farSlots && size == prev+prev/4:
				quartered++
			default:
				t.Fatalf("%d entries: grown from %d slots to %d", i+1, prev, size)
			}
			prev = size
		}
	}
	if doubled == 0 || quartered == 0 {
		t.Fatalf("doubled %d times, grown by a quarter %d times", doubled, quartered)
	}
	for i := range 4 * farSlots {
		if v := tb.get(openKey{src: uint32(i), dst: 2}); v == nil || v.ci != uint32(i) {
			t.Fatalf("entry %d: got %+v", i, v)
		}
	}
}
