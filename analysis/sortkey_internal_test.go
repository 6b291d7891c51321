package analysis

import (
	"bytes"
	"cmp"
	"net/netip"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// referenceCompare orders conversations as the workspace's key index does:
// the 16-byte forms of source and destination compared as bytes, then
// protocol and port.
func referenceCompare(a, b *ConvState) int {
	as, bs, ad, bd := a.Src.As16(), b.Src.As16(), a.Dst.As16(), b.Dst.As16()
	return cmp.Or(bytes.Compare(as[:], bs[:]), bytes.Compare(ad[:], bd[:]),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.DPort, b.DPort))
}

// TestSortKeyOrder: sort keys compare as the reference order does, for
// every pair of keys that differ in one word or the other: IPv4 and IPv6
// (whose first word is 0 for IPv4), bytes above 127, protocols and ports
// whose high bits are set.
func TestSortKeyOrder(t *testing.T) {
	addrs := []string{"0.0.0.0", "10.0.0.1", "10.0.0.2", "128.0.0.1", "255.255.255.255",
		"::", "::1", "::ffff:10.0.0.1", "2001:db8::1", "2001:db8::ffff:1", "fe80::1", "ff02::1", "ffff::"}
	var states []ConvState
	for _, s := range addrs {
		for _, d := range addrs[:5] {
			for _, pp := range [][2]int{{6, 443}, {6, 32768}, {17, 53}, {200, 1}, {200, 65535}} {
				states = append(states, ConvState{Src: netip.MustParseAddr(s), Dst: netip.MustParseAddr(d),
					Proto: uint8(pp[0]), DPort: uint16(pp[1])})
			}
		}
	}
	for i := range states {
		for j := range states {
			a, b := &states[i], &states[j]
			ka, kb := sortKeyOf(a), sortKeyOf(b)
			if got, want := ka.compare(&kb), referenceCompare(a, b); got != want {
				t.Fatalf("%v %v %d %d against %v %v %d %d: %d, want %d",
					a.Src, a.Dst, a.Proto, a.DPort, b.Src, b.Dst, b.Proto, b.DPort, got, want)
			}
		}
	}
}

// TestSortedConvs: a model's conversations come out of its shards in the
// reference order, each once.
func TestSortedConvs(t *testing.T) {
	m := NewModel(Options{})
	for _, evs := range [][]ingest.Event{demoEvents(t, "nutanix", 1500, 5), demoEvents(t, "nsxt", 1500, 5)} {
		for i := range evs {
			m.Add(&evs[i])
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	convs := m.sortedConvs()
	if want := m.stats().Conversations; len(convs) != want || want < 100 {
		t.Fatalf("%d conversations sorted, the model holds %d", len(convs), want)
	}
	for i := 1; i < len(convs); i++ {
		if referenceCompare(convs[i-1].c, convs[i].c) >= 0 {
			t.Fatalf("conversation %d (%v) is not after %d (%v)", i, convs[i].c.Key(), i-1, convs[i-1].c.Key())
		}
	}
}
