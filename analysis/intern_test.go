package analysis

import "testing"

// TestInterner: numbers in the order first seen, the same number for the
// same value, and values back by number.
func TestInterner(t *testing.T) {
	var in Interner[string]
	for i, s := range []string{"ahv-1", "ahv-2", "ahv-1", "", "ahv-2", "esx-9"} {
		want := map[string]uint32{"ahv-1": 0, "ahv-2": 1, "": 2, "esx-9": 3}[s]
		if got := in.ID(s); got != want {
			t.Fatalf("value %d (%q): id %d, want %d", i, s, got, want)
		}
	}
	if len(in.Values()) != 4 || in.Value(3) != "esx-9" || in.Values()[1] != "ahv-2" {
		t.Errorf("values %q", in.Values())
	}
	st := newStringTable()
	if st.id("") != 0 || st.id("x") != 1 || st.id("x") != 1 || st.Value(1) != "x" {
		t.Errorf("string table: %q", st.Values())
	}
}
