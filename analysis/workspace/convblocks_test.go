package workspace

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// sampleEntries returns the entries of a small block: three conversations
// of real records, one with its lines apart.
func sampleEntries() []convEntry {
	var es []convEntry
	for i, dst := range []string{"10.0.0.2", "10.0.0.3", "2001:db8::7"} {
		st := &analysis.ConvState{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr(dst), Proto: 6,
			DPort: 443, First: 1_700_000_000_000_000_000, Last: 1_700_000_360_000_000_000,
			Hosts: []string{"esx-01"}, Samples: []string{"a line"}}
		st.Sides[0].Sessions = uint64(i + 1)
		st.Sides[0].Hourly = []analysis.HourCount{{Hour: 472_222, N: 1}}
		b, split := encodeSplit(nil, st)
		e := convEntry{k: st.Key(), id: int64(10 + i), first: st.First, last: st.Last, apart: i == 1, rec: b[:split]}
		e.sessions, e.bytes = sortKeys(st)
		es = append(es, e)
	}
	return es
}

// blockOf returns the blob of es.
func blockOf(es []convEntry) []byte {
	b := appendBlockHead(nil, len(es))
	for i := range es {
		b = appendEntry(b, &es[i])
	}
	return b
}

// TestConvBlockRoundTrip: a blob decodes into the entries it was made of,
// keys, ids, apart marks and sort columns included; a damaged one is an
// error.
func TestConvBlockRoundTrip(t *testing.T) {
	want := sampleEntries()
	blob := blockOf(want)
	got, err := decodeEntries(nil, blob)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v\nwant %+v", got, want)
	}
	for name, bad := range map[string][]byte{
		"empty":          nil,
		"format":         append([]byte{9}, blob[1:]...),
		"cut":            blob[:len(blob)-3],
		"trailing":       append(bytes.Clone(blob), 0),
		"more entries":   append([]byte{convBlockFormat, 4}, blob[2:]...),
		"huge count":     {convBlockFormat, 0xff, 0xff, 0xff, 0x7f},
		"damaged record": blockOf([]convEntry{{id: 1, rec: []byte{1, 0xff, 0xff}}}),
	} {
		if _, err := decodeEntries(nil, bad); !errors.Is(err, errBadConvBlock) {
			t.Errorf("%s: %v, want errBadConvBlock", name, err)
		}
	}
}

// FuzzConvBlock: a blob read from a workspace is untrusted; decoding any
// blob fails or gives entries whose records lie within it, and never
// panics.
func FuzzConvBlock(f *testing.F) {
	f.Add(blockOf(sampleEntries()))
	f.Add(blockOf(nil))
	f.Add([]byte{convBlockFormat})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, blob []byte) {
		es, err := decodeEntries(nil, blob)
		if err != nil {
			return
		}
		n := 0
		for _, e := range es {
			n += len(e.rec)
		}
		if n > len(blob) {
			t.Fatalf("%d bytes of records from a blob of %d", n, len(blob))
		}
		if again := blockOf(es); !bytes.Equal(again, blob) && len(again) > len(blob) {
			t.Fatalf("re-encoded to %d bytes from %d", len(again), len(blob))
		}
	})
}
