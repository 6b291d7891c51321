package ingest

import (
	"fmt"
	"hash/maphash"
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
	set := func(host string) uint64 {
		return maphash.Bytes(m.seed, fmt.Appendf(nil, " %s FIREWALL_PKTLOG: ", host)) % headSets
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
