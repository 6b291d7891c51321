package ingest

import (
	"fmt"
	"testing"
)

// TestHeaderMemoKeepsTwoOfAHash interleaves the lines of two hosts whose
// headers fall in one set of the memo: after each was read once, the memo
// gives both their host again and again (with one header kept per hash,
// each line of one pushed the other's out).
func TestHeaderMemoKeepsTwoOfAHash(t *testing.T) {
	head := func(host string, sec int) []byte {
		return fmt.Appendf(nil, "<14>2025-06-02T06:00:%02d.008Z %s FIREWALL_PKTLOG: ", sec, host)
	}
	var m headMemo
	m.keep(head("esxi-0", 0), "esxi-0", tagOther)
	set := func(host string) int {
		return restSet(fmt.Appendf(nil, " %s FIREWALL_PKTLOG: ", host))
	}
	other := ""
	for i := 1; i < 100000 && other == ""; i++ {
		if h := fmt.Sprintf("esxi-%d", i); set(h) == set("esxi-0") {
			other = h
		}
	}
	if other == "" {
		t.Fatal("no host's header falls in esxi-0's set")
	}
	m.keep(head(other, 0), other, tagOther)
	var clock minuteMemo
	for i := range 20 {
		host := []string{"esxi-0", other}[i%2]
		var ev Event
		if _, ok := m.reuse(head(host, i%60), &ev, &clock); !ok || ev.Host != host {
			t.Fatalf("line %d of %s: reused %v, host %q", i, host, ok, ev.Host)
		}
	}
}

// TestRestSetSpreads checks that the headers of hosts named alike (one
// digit or letter apart, at the start, the middle or the end of a long
// name) spread over the memo's sets, and that every byte counts.
func TestRestSetSpreads(t *testing.T) {
	for _, form := range []string{" esxi-%03d dfwpktlogs: ", " %03d.example.com FIREWALL_PKTLOG: ",
		" host-%03d-rack-b.datacenter.example.com FIREWALL_PKTLOG: ", " h%d ", "%d"} {
		used := map[int]int{}
		for i := range 256 {
			used[restSet(fmt.Appendf(nil, form, i))]++
		}
		if len(used) < 96 || maxOf(used) > 9 { // at random: 110 sets, up to 6 or 7
			t.Errorf("%q: 256 headers in %d sets, up to %d in one", form, len(used), maxOf(used))
		}
	}
	b := []byte(" esx-01.example.com dfwpktlogs: ")
	for i := range b {
		c := append([]byte(nil), b...)
		seen := map[int]bool{restSet(c): true}
		for _, x := range []byte{'a', 'q', 'Z', '7', '-'} {
			c[i] = x
			seen[restSet(c)] = true
		}
		if len(seen) < 3 {
			t.Errorf("byte %d: 6 values in %d sets", i, len(seen))
		}
	}
}

func maxOf(m map[int]int) int {
	n := 0
	for _, v := range m {
		n = max(n, v)
	}
	return n
}
